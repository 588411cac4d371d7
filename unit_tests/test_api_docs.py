"""The API reference (docs/api) covers the package, the family READMEs and the notebooks.

These checks read files only; the Sphinx build itself runs in .ci/run (warnings as errors).
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api"


def _toctree_entries(text):
    entries, inside = [], False
    for line in text.splitlines():
        if line.startswith(".. toctree::"):
            inside = True
        elif inside and line and not line.startswith(" "):
            inside = False
        elif inside and line.strip() and not line.strip().startswith(":"):
            entries.append(line.strip())
    return entries


def test_every_public_module_is_reached_by_the_recursive_autosummary():
    index = (API / "index.rst").read_text()
    assert re.search(r"\.\. autosummary::\n(   :\w+:.*\n)*   :recursive:\n(   :\w+:.*\n)*\n   spikey\n",
                     index), "index.rst must name the spikey package in a recursive autosummary"
    template = (API / "_templates" / "autosummary" / "module.rst").read_text()
    assert ":recursive:" in template and "automodule" in template
    # autosummary skips private modules only; every other module under spikey/ gets a page.
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts)
                     for p in (ROOT / "spikey").rglob("*.py")
                     if not any(part.startswith("_") for part in p.relative_to(ROOT / "spikey").parts))
    assert len(modules) > 80, modules
    for family in ("input", "neuron", "weight", "synapse", "readout", "reward", "modifier"):
        assert (ROOT / "spikey" / "snn" / family / "__init__.py").exists(), family


def test_every_family_readme_is_a_guide_in_the_toctree():
    readmes = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "spikey").rglob("README.md"))
    readmes += ["meta/README.md", "docs/extending.md"]
    assert len(readmes) >= 14, readmes
    index = _toctree_entries((API / "index.rst").read_text())
    included = {}
    for guide in sorted((API / "guides").glob("*.md")):
        match = re.search(r"```\{include\} (\S+)", guide.read_text())
        assert match, f"{guide.name} includes no file"
        target = (guide.parent / match.group(1)).resolve()
        assert target.exists(), f"{guide.name} includes {match.group(1)}, which does not exist"
        included[target.relative_to(ROOT).as_posix()] = f"guides/{guide.stem}"
    missing = [r for r in readmes if r not in included]
    assert not missing, f"READMEs with no page in docs/api/guides/: {missing}"
    not_listed = [g for g in included.values() if g not in index]
    assert not not_listed, f"guides missing from the index.rst toctree: {not_listed}"


def test_every_notebook_is_linked_not_executed():
    notebooks = sorted(p.name for p in (ROOT / "examples" / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 7, notebooks
    page = (API / "notebooks.rst").read_text()
    linked = re.findall(r":download:`[^<`]*<\.\./\.\./examples/notebooks/([^>]+)>`", page)
    assert sorted(linked) == notebooks
    assert "notebooks" in _toctree_entries((API / "index.rst").read_text())
    conf = (API / "conf.py").read_text()
    assert "nbsphinx" not in conf and "myst_nb" not in conf


def test_ci_builds_the_reference_with_warnings_as_errors_from_pinned_requirements():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -q -r requirements-docs.txt" in ci
    assert re.search(r"python -m sphinx -W --keep-going .*-b html docs/api ", ci)
    pins = [line for line in (ROOT / "requirements-docs.txt").read_text().splitlines()
            if line and not line.startswith("#")]
    assert {p.split("==")[0] for p in pins} >= {"sphinx", "numpydoc", "myst-parser", "docutils"}
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9.]*", p) for p in pins), pins
    readme = (ROOT / "README.md").read_text()
    assert "python -m sphinx -W --keep-going -b html docs/api docs/api/_build/html" in readme
