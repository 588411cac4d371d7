"""Every notebook in examples/notebooks runs top to bottom in quick mode.

Each notebook's first code cell (tagged ``parameters``) reads
``SPIKEY_NOTEBOOK_QUICK``; its last cell asserts the result it claims, so a
model that stops learning fails here with that cell's error.
"""

from __future__ import annotations

import pathlib
import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
from nbclient.exceptions import CellExecutionError, CellTimeoutError  # noqa: E402

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "examples" / "notebooks"
CELL_TIMEOUT_S = 300
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks


def _notebooks():
    return sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_notebook_runs_in_quick_mode(path, monkeypatch):
    # the kernel inherits this process's environment
    monkeypatch.setenv("SPIKEY_NOTEBOOK_QUICK", "True")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    notebook = nbformat.read(path, as_version=4)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", []), \
        f"{path.name}: the first code cell must be tagged 'parameters'"
    assert "SPIKEY_NOTEBOOK_QUICK" in first_code.source, \
        f"{path.name}: the parameters cell must read SPIKEY_NOTEBOOK_QUICK"
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellTimeoutError as error:
        pytest.fail(f"{path.name}: a cell ran past {CELL_TIMEOUT_S} s\n{error}", pytrace=False)
    except CellExecutionError as error:
        pytest.fail(f"{path.name} failed:\n{ANSI.sub('', str(error))}", pytrace=False)


def test_notebooks_are_committed_without_outputs():
    for path in _notebooks():
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, \
                    f"{path.name} cell {index} has outputs; clear them before committing"
