"""`spikey train` with a gradient config: trains in this process, writes the run folder."""

import json

import yaml

from spikey.cli import main

from gradient_configs import tiny_digits

CONFIG = tiny_digits(gradient={"epochs": 4, "batch_size": 32})


def test_spikey_train_runs_a_gradient_config(tmp_path, capsys):
    path = tmp_path / "tiny_digits.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    assert main(["train", str(path), "--local", "--storage", str(tmp_path / "runs")]) == 0
    folder = tmp_path / "runs" / "tiny_digits"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["test_accuracy"] > 0.5 and summary["validation_accuracy"] > 0.5  # chance 0.1
    assert len(json.loads((folder / "history.json").read_text())) == 4
    assert (folder / "weights.npz").exists()
    # a second run into the same folder is refused; --local with --workers is refused
    assert main(["train", str(path), "--local", "--storage", str(tmp_path / "runs")]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert main(["train", str(path), "--local", "--workers", "2", "--storage",
                 str(tmp_path / "r2")]) == 2
    assert "--local trains in this process: --workers and --address need Ray" in \
        capsys.readouterr().err
