"""The ``spikey`` command line as a user meets it: errors, ``info``, run folders, progress,
``--set`` (each run through ``subprocess``, as in a terminal)."""

import json
import os
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
XOR_YAML = os.path.join(ROOT, "examples", "configs", "xor.yaml")


def spikey(*args, cwd, env=None, timeout=300):
    """Run ``spikey ARGS`` in a fresh interpreter; the CompletedProcess."""
    environment = dict(os.environ, PYTHONPATH=ROOT, **(env or {}))
    return subprocess.run([sys.executable, "-m", "spikey.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=environment, timeout=timeout)


def tiny_config(**training):
    with open(XOR_YAML, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    config["network"]["network"].update(processing_steps=40, batch_size=1)
    config["game"]["kwargs"]["n_presentations"] = 4
    config["training"].update(dict(episodes=2, max_ticks=4, eval_episodes=1,
                                   record_ticks=False), **training)
    return config


def write(path, config):
    path.write_text(yaml.safe_dump(config))
    return path


def one_error_line(result, command):
    """The run failed with status 2 and one line on stderr, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith(f"spikey {command}: error: ")
    return lines[0]


@pytest.mark.parametrize("command", ["train", "tune", "evolve"])
def test_user_errors_print_one_line_and_exit_2(tmp_path, command):
    line = one_error_line(spikey(command, tmp_path / "missing.yaml", cwd=tmp_path), command)
    assert "missing.yaml" in line and "does not exist" in line
    bad = tmp_path / "bad.yaml"
    bad.write_text("network: [unclosed\n")
    assert "not valid YAML" in one_error_line(spikey(command, bad, cwd=tmp_path), command)


def test_train_with_a_search_section_points_to_tune(tmp_path):
    config = tiny_config()
    config["search"] = {"training.seed": {"grid": [0, 1]}}
    path = write(tmp_path / "sweep.yaml", config)
    line = one_error_line(spikey("train", path, "--local", cwd=tmp_path), "train")
    assert "'search'" in line and f"spikey tune {path}" in line
    config = tiny_config()
    config["training"]["episods"] = 3
    line = one_error_line(spikey("train", write(tmp_path / "typo.yaml", config), "--local",
                                 cwd=tmp_path), "train")
    assert "episods" in line and "did you mean 'episodes'" in line
    assert one_error_line(spikey("plot", tmp_path / "nowhere", cwd=tmp_path), "plot")


@pytest.mark.parametrize("args, expected", [
    (["--part", "Foo"], "unknown part 'Foo'"),
    (["--part", "lif"], "unknown part 'lif'; did you mean 'LIF'?"),
    (["--family", "neuron"], "unknown family 'neuron'; did you mean 'neurons'?"),
    (["--family", "neurons", "--part", "MSTDP"], "'MSTDP' is a part of family 'synapses'"),
])
def test_info_refuses_unknown_names_with_a_suggestion(tmp_path, args, expected):
    line = one_error_line(spikey("info", *args, cwd=tmp_path), "info")
    assert expected in line and "spikey info --list" in line


def test_info_lists_names_and_marks_required_keys(tmp_path):
    listing = spikey("info", "--list", cwd=tmp_path)
    assert listing.returncode == 0
    lines = dict(line.split(": ", 1) for line in listing.stdout.strip().splitlines())
    assert "LIF" in lines["neurons"].split(", ") and "MSTDPET" in lines["synapses"].split(", ")
    assert {"network", "games"} <= set(lines)
    assert "tau" not in listing.stdout  # names only
    one = spikey("info", "--part", "LIF", cwd=tmp_path)
    assert one.returncode == 0
    assert "neurons LIF:" in one.stdout.splitlines() and "network Network:" not in one.stdout
    assert one.stdout.splitlines()[0].split() == ["key", "type", "default", "/", "allowed",
                                                  "values"]
    required = [line.split()[1] for line in one.stdout.splitlines() if line.startswith("* ")]
    assert required == ["n_neurons"]
    family = spikey("info", "--family", "rewarder", cwd=tmp_path).stdout
    assert "rewarder TDError:" in family and "neurons LIF:" not in family
    helptext = spikey("info", "--help", cwd=tmp_path).stdout
    assert "neurons" in helptext and "--list" in helptext


def test_plot_accepts_the_folder_train_prints_and_any_folder_of_runs(tmp_path):
    path = write(tmp_path / "tiny.yaml", tiny_config())
    done = spikey("train", path, "--local", "--storage", tmp_path / "runs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.split("run folder: ")[1].split()[0]
    assert printed == str(tmp_path / "runs" / "tiny")
    for folder in (printed, tmp_path / "runs"):  # the run itself, and the storage holding it
        plotted = spikey("plot", folder, cwd=tmp_path)
        assert plotted.returncode == 0, plotted.stderr
        assert os.path.join(printed, "plots", "learning_curve.png") in plotted.stdout.split()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no run folders under" in one_error_line(spikey("plot", empty, cwd=tmp_path), "plot")


ray = pytest.importorskip("ray")


def test_ray_train_shows_progress_counts_runs_once_and_cleans_its_temp_copies(tmp_path):
    from spikey.training.reader import load_runs

    scratch = tmp_path / "tmp"  # the workers' system temp folder
    scratch.mkdir()
    path = write(tmp_path / "tiny.yaml", tiny_config())
    storage = tmp_path / "spikey_runs"
    done = spikey("train", path, "--workers", "2", "--storage", storage, cwd=tmp_path,
                  env={"TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr[-3000:]
    for rank in (0, 1):  # per worker and episode, as it goes (not only at the end)
        for episode in (1, 2):
            assert f"worker {rank}: episode {episode}/2, mean return " in done.stderr
    runs = storage / "tiny" / "runs"
    assert done.stdout.splitlines()[-2:] == [f"run folder: {runs}", f"plot it: spikey plot {runs}"]
    frame = load_runs(storage)  # Ray's checkpoint copies are not counted again
    assert sorted(frame["run"].unique()) == [os.path.join("tiny", "runs", f"rank_{r}")
                                             for r in (0, 1)]
    assert len(frame) == 2 * (2 + 1)  # 2 workers x (2 training + 1 evaluation episodes)
    assert not [n for n in os.listdir(scratch) if n.startswith("spikey-rank")]
    local = spikey("train", path, "--local", "--storage", storage, cwd=tmp_path)
    assert "holds a Ray run" in one_error_line(local, "train")
    plotted = spikey("plot", runs, cwd=tmp_path)  # the folder train printed: both ranks
    assert plotted.returncode == 0, plotted.stderr
    assert {os.path.join(runs, f"rank_{r}", "plots", "learning_curve.png") for r in (0, 1)} <= \
        set(plotted.stdout.split())


def test_tune_prints_useful_columns_and_trials_are_run_folders(tmp_path):
    from spikey.training.reader import load_runs

    config = tiny_config()
    config["search"] = {"network.synapses.learning_rate": {"grid": [0.1, 0.5]}}
    path = write(tmp_path / "sweep.yaml", config)
    done = spikey("tune", path, "--storage", tmp_path / "runs", "--name", "lr", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    progress = [line for line in done.stderr.splitlines() if line.startswith("trial ")]
    assert any("episode 2/2: mean_reward" in line and "best so far" in line for line in progress)
    assert any("network.synapses.learning_rate=0.5" in line for line in progress)
    out = done.stdout.splitlines()
    header = out[0].split()
    assert header == ["trial", "network.synapses.learning_rate", "episodes", "mean_reward", "run"]
    assert len(out) == 1 + 2 + 3  # header, a row per trial, best config, folder, plot command
    sweep = tmp_path / "runs" / "lr" / "runs"
    assert out[-1] == f"plot it: spikey plot {sweep}"
    rows = [line.split() for line in out[1:3]]
    assert sorted(int(row[0]) for row in rows) == [1, 2]
    assert all((sweep / row[-1] / "config.json").exists() for row in rows)
    frame = load_runs(tmp_path / "runs" / "lr")
    assert frame["run"].nunique() == 2
    assert set(frame["network.synapses.learning_rate"]) == {0.1, 0.5}


def test_set_overrides_config_values_and_names_a_bad_path(tmp_path):
    path = write(tmp_path / "tiny.yaml", tiny_config())
    done = spikey("train", path, "--local", "--storage", tmp_path, "--set", "training.episodes=1",
                  "--set", "network.neurons.tau=1.5e1", "--set", "training.record_ticks=true",
                  cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    saved = json.loads((tmp_path / "tiny" / "config.json").read_text())
    assert saved["training"]["episodes"] == 1 and saved["training"]["record_ticks"] is True
    assert saved["network"]["neurons"]["tau"] == 15.0
    assert (tmp_path / "tiny" / "metrics" / "ticks.csv").exists()
    printed = json.loads(done.stdout[:done.stdout.rindex("}") + 1])
    assert printed["train_episodes"] == 1
    # printed under names that say what they average; not the ambiguous train_mean_return
    assert "train_last_episode_mean_return" in printed and "train_mean_return" not in printed
    cases = [("train", "network.neurons.tua=3", "unknown key 'tua'; did you mean 'tau'?"),
             ("train", "trainin.episodes=1", "no section 'trainin' in the config; did you mean "
                                             "'training'?"),
             ("train", "training.episodes", "expected KEY.PATH=VALUE"),
             ("train", "training.episodes=many", "training.episodes = 'many'"),
             ("tune", "network.neurons.tua=3", "unknown key 'tua'"),
             ("evolve", "evolve.generationz=2", "generationz")]
    sweep = tiny_config()
    sweep["search"] = {"training.seed": {"grid": [0, 1]}}
    configs = {"train": path, "tune": write(tmp_path / "sweep.yaml", sweep),
               "evolve": os.path.join(ROOT, "meta", "xor_evolve.yaml")}
    for command, item, expected in cases:
        line = one_error_line(spikey(command, configs[command], "--set", item, cwd=tmp_path),
                              command)
        assert expected in line and item.split("=")[0] in line, line


def _closed_port():
    import socket

    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_train_honours_ray_address_instead_of_starting_a_local_ray(tmp_path):
    port = _closed_port()
    path = write(tmp_path / "tiny.yaml", tiny_config())
    done = spikey("train", path, "--storage", tmp_path / "runs", cwd=tmp_path,
                  env={"RAY_ADDRESS": f"127.0.0.1:{port}"}, timeout=120)
    # the old code started its own local Ray, trained there and exited 0
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert lines[0] == (f"spikey train: attaching to the Ray cluster at 127.0.0.1:{port} (from "
                        "RAY_ADDRESS); --address local starts a local Ray instead")
    assert lines[1].startswith(f"spikey train: error: cannot reach a Ray cluster at "
                               f"'127.0.0.1:{port}' (from RAY_ADDRESS)")
    assert len(lines) == 2 and not (tmp_path / "runs" / "tiny" / "runs").exists()


def test_a_refused_token_is_reported_in_one_line(monkeypatch):
    """What Ray 2.60 does with a wrong or missing token: its C++ client logs the cause as
    warnings on file descriptor 2 and ray.init raises 'Failed to connect' without it."""
    import socket

    from spikey.training import distributed

    logged = ("[2026-12-05 16:02:52,926 W 14077 14077] gcs_client.cc:210: Failed to get cluster "
              "ID from GCS server: Unauthenticated: RPC error: InvalidAuthToken: Authentication "
              "token is missing or incorrect\n")

    def refused_init(address, **kwargs):
        for _ in range(3):
            os.write(2, logged.encode())
        raise ConnectionError(f"Failed to connect to Ray cluster at {address}")

    monkeypatch.setattr(ray, "init", refused_init)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"127.0.0.1:{server.getsockname()[1]}"
        with pytest.raises(ConnectionError) as error:
            distributed.init_ray(address)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"cannot attach to the Ray cluster at {address!r}: the cluster "
                              "refused this process's authentication token (Failed to get "
                              "cluster ID from GCS server: Unauthenticated")
    assert "RAY_AUTH_TOKEN" in message and "RAY_AUTH_MODE=token" in message


def test_a_second_sweep_of_the_same_name_is_refused_before_ray_starts(tmp_path):
    config = tiny_config()
    config["search"] = {"training.seed": {"grid": [0, 1]}}
    path = write(tmp_path / "sweep.yaml", config)
    earlier = tmp_path / "runs" / "sweep" / "runs" / "trial_0a1b2_00000"
    earlier.mkdir(parents=True)
    (earlier / "config.json").write_text("{}")
    line = one_error_line(spikey("tune", path, "--storage", tmp_path / "runs", cwd=tmp_path,
                                 timeout=60), "tune")
    assert f"sweep folder {tmp_path / 'runs' / 'sweep'} already holds the trials" in line
    assert "--overwrite" in line and (earlier / "config.json").exists()


def test_ray_progress_arrives_while_the_run_goes_on(tmp_path):
    import signal
    import threading

    path = write(tmp_path / "long.yaml", tiny_config(episodes=100_000))
    environment = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "spikey.cli", "train", str(path), "--storage",
                             str(tmp_path / "runs")], cwd=tmp_path, env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(180, proc.kill)  # never hang the suite
    timer.start()
    try:
        seen = []
        for line in proc.stderr:
            if line.startswith("worker 0: episode "):
                seen.append(line)
                if len(seen) == 2:
                    break
        assert proc.poll() is None, "the run ended before any progress line"
        assert seen[0].startswith("worker 0: episode 1/100000, mean return ")
        assert seen[1].startswith("worker 0: episode 2/100000, mean return ")
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the CLI shuts its local Ray down
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_plot_draws_an_evolve_folder(tmp_path):
    import pandas as pd

    folder = tmp_path / "spikey_runs" / "xor_evolve"
    folder.mkdir(parents=True)
    pd.DataFrame({"generation": [0, 0, 1, 1], "fitness": [0.2, 0.5, 0.4, 0.7],
                  "network.neurons.tau": [10.0, 20.0, 15.0, 18.0]}).to_csv(
        folder / "history.csv", index=False)
    done = spikey("plot", folder, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(folder / "plots" / "fitness.png")]
    assert (folder / "plots" / "fitness.png").stat().st_size > 1000


def test_set_reaches_dotted_keys_of_search_and_genes_and_refuses_paths_below_values():
    from spikey.cli import apply_sets
    from spikey.core.params import ConfigError

    config = tiny_config()
    config["search"] = {"training.seed": {"grid": [0, 1]}}
    apply_sets(config, ["search.training.seed.grid=[0, 5]", "training.max_ticks=8",
                        "network.neurons.threshold=1.5e1", "game.kwargs.mode=null"])
    assert config["search"] == {"training.seed": {"grid": [0, 5]}}
    assert config["training"]["max_ticks"] == 8
    assert config["network"]["neurons"]["threshold"] == 15.0
    assert config["game"]["kwargs"]["mode"] is None
    with pytest.raises(ConfigError, match=r"--set 'training.max_ticks.low=1': the path goes "
                                          r"below 8, which is a value"):
        apply_sets(config, ["training.max_ticks.low=1"])


def test_ctrl_c_ends_a_local_run_with_one_line_and_a_resumable_folder(tmp_path):
    import signal
    import time

    path = write(tmp_path / "long.yaml", tiny_config(episodes=100_000, checkpoint_every=1))
    environment = dict(os.environ, PYTHONPATH=ROOT)
    # as typed in a terminal: SIGINT at its default even when this test runs in a background job
    # (a shell without job control starts those with SIGINT ignored, and children inherit that)
    proc = subprocess.Popen([sys.executable, "-m", "spikey.cli", "train", str(path), "--local",
                             "--storage", str(tmp_path)], cwd=tmp_path, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    latest = tmp_path / "long" / "checkpoints" / "latest.json"
    deadline = time.time() + 120
    while not latest.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "spikey train: interrupted (continue it with --resume)"
    assert json.loads(latest.read_text())["episodes_done"] >= 1


def test_tune_on_a_summary_metric_and_refusing_unknown_metrics(tmp_path):
    from spikey.training.reader import load_runs

    config = tiny_config()
    config["search"] = {"network.synapses.learning_rate": {"grid": [0.1, 0.5]}}
    path = write(tmp_path / "sweep.yaml", config)
    line = one_error_line(spikey("tune", path, "--metric", "eval_mean_rewrd", cwd=tmp_path),
                          "tune")
    assert "metric = 'eval_mean_rewrd'; did you mean 'eval_mean_reward'?" in line
    # a summary key is reported only at a trial's end (Ray's strict metric check refused it)
    done = spikey("tune", path, "--storage", tmp_path / "runs", "--metric", "eval_mean_reward",
                  cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    finals = [line for line in done.stderr.splitlines() if " done: eval_mean_reward " in line]
    assert len(finals) == 2 and "best so far" in finals[-1]
    assert any(" episode 1/2: mean_reward " in line for line in done.stderr.splitlines())
    out = done.stdout.splitlines()
    assert out[0].split() == ["trial", "network.synapses.learning_rate", "episodes",
                              "eval_mean_reward", "run"]
    rows = [row.split() for row in out[1:3]]
    assert [row[2] for row in rows] == ["2", "2"]  # training episodes, not reports
    values = [float(row[3]) for row in rows]
    assert values == sorted(values, reverse=True)  # best first
    frame = load_runs(tmp_path / "runs" / "sweep")
    evaluation = frame[frame.phase == "eval"].groupby("network.synapses.learning_rate")
    best_lr = float(rows[0][1])
    assert evaluation["mean_reward"].mean()[best_lr] == pytest.approx(values[0])


def test_a_config_without_the_section_a_command_needs_is_one_line(tmp_path):
    path = write(tmp_path / "plain.yaml", tiny_config())
    assert "needs a 'search' section" in one_error_line(spikey("tune", path, cwd=tmp_path),
                                                        "tune")
    assert "needs an 'evolve' section" in one_error_line(spikey("evolve", path, cwd=tmp_path),
                                                         "evolve")
    line = one_error_line(spikey("train", path, "--local", "--resume", "--overwrite",
                                 cwd=tmp_path), "train")
    assert "--resume and --overwrite exclude each other" in line
