"""spikey/gradients/README.md: its python blocks run and its key tables match the code.

(`python unit_tests/test_gradients_docs.py --write` regenerates the tables.)
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_docs import python_blocks, render_tables  # noqa: E402

README = Path(__file__).resolve().parents[1] / "spikey" / "gradients" / "README.md"


def test_readme_key_tables_match_the_code():
    text = README.read_text(encoding="utf-8")
    assert "<!-- keys spikey.gradients.trainer:GRADIENT_KEYS -->" in text
    assert render_tables(text) == text, "run python unit_tests/test_gradients_docs.py --write"


def test_readme_python_blocks_run(capsys):
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert blocks
    for block in blocks:
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    accuracy = float(printed.split()[0])
    assert accuracy >= 0.9 and np.isfinite(accuracy)


if __name__ == "__main__" and "--write" in sys.argv:
    README.write_text(render_tables(README.read_text(encoding="utf-8")), encoding="utf-8")
