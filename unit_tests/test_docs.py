"""The documentation runs: code blocks are executed and key tables match the code.

* Every ```` ```python ```` block of ``docs/extending.md`` and of the family
  READMEs listed in :data:`RUNNABLE` runs, in order, in one fresh module per
  document (so later blocks see earlier definitions), inside a temporary
  working directory. The Quickstart block of the top-level README runs too.
* Every key table between ``<!-- keys SPEC -->`` and ``<!-- /keys -->`` equals
  the table generated from the code's ``KEYS`` declarations. After changing a
  part's keys, regenerate them with::

      python unit_tests/test_docs.py --write

SPEC is ``module:attribute``, optionally followed by ``minus module:attribute``;
the attribute is a class with ``KEYS`` or a tuple of keys, and ``minus`` leaves
out the keys declared identically by the other (e.g. the family base).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Documents whose python blocks must run as written.
RUNNABLE = [
    "docs/extending.md",
    "spikey/snn/neuron/README.md",
    "spikey/snn/synapse/README.md",
    "spikey/snn/input/README.md",
    "spikey/snn/readout/README.md",
    "spikey/snn/reward/README.md",
    "spikey/snn/modifier/README.md",
    "spikey/games/README.md",
    "spikey/training/README.md",
    "spikey/agents/README.md",
    "spikey/datasets/README.md",
]

#: Documents that may hold generated key tables.
KEY_TABLE_DOCS = RUNNABLE

_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
_TABLE = re.compile(r"(<!-- keys (?P<spec>[^>]*?) -->\n)(?P<body>.*?)(<!-- /keys -->)", re.S)


# ----------------------------------------------------------------- code blocks
def python_blocks(text: str) -> list:
    """The bodies of the ```` ```python ```` fenced blocks of a markdown text, in order."""
    return [m.group(1) for m in _BLOCK.finditer(text)]


def quickstart_block(text: str) -> str | None:
    """The first python block under the ``## Quickstart`` heading, if there is one."""
    match = re.search(r"^## Quickstart[ \t]*\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if match is None:
        return None
    blocks = python_blocks(match.group(1))
    return blocks[0] if blocks else None


def run_blocks(name: str, blocks: list) -> types.ModuleType:
    """Execute ``blocks`` one after another in a new module registered as ``name``.

    The module is put in ``sys.modules`` so that what the blocks define can be
    imported by name (gymnasium resolves a registered game's entry point so).
    """
    module = types.ModuleType(name)
    module.__file__ = f"<{name}>"
    sys.modules[name] = module
    try:
        for i, block in enumerate(blocks):
            code = compile(block, f"<{name} block {i + 1}>", "exec")
            exec(code, module.__dict__)  # noqa: S102 - running the docs is the point
    finally:
        sys.modules.pop(name, None)
    return module


def _module_name(doc: str) -> str:
    return "docs_" + re.sub(r"\W", "_", doc.removesuffix(".md"))


@pytest.mark.parametrize("doc", RUNNABLE)
def test_code_blocks_run(doc, tmp_path, monkeypatch):
    path = ROOT / doc
    if not path.exists():
        pytest.skip(f"{doc} does not exist")
    blocks = python_blocks(path.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(f"{doc} has no python blocks")
    monkeypatch.chdir(tmp_path)
    run_blocks(_module_name(doc), blocks)


def test_readme_quickstart_runs(tmp_path, monkeypatch):
    block = quickstart_block((ROOT / "README.md").read_text(encoding="utf-8"))
    if block is None:
        pytest.skip("README.md has no python Quickstart block")
    monkeypatch.chdir(tmp_path)
    run_blocks("docs_readme_quickstart", [block])


# ----------------------------------------------------------------- key tables
def _resolve(target: str):
    module, _, attribute = target.strip().partition(":")
    value = importlib.import_module(module)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def _keys_of(target: str) -> tuple:
    value = _resolve(target)
    return tuple(value.KEYS if isinstance(value, type) else value)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _type_cell(key) -> str:
    text = " or ".join(key.types) + (" or None" if key.nullable else "")
    if key.choices is not None:
        text += ": " + ", ".join(f"`{c}`" for c in key.choices)
    if key.range is not None:
        low, high = key.range
        if low is not None and high is not None:
            text += f" in [{low}, {high}]"
        elif low is not None:
            text += f" ≥ {low}"
        elif high is not None:
            text += f" ≤ {high}"
    return _cell(text)


def _default_cell(key) -> str:
    return "required" if key.required else f"`{key.default!r}`"


def key_table(spec: str) -> str:
    """The markdown table of the keys a SPEC names (see the module docstring)."""
    target, _, base = spec.partition(" minus ")
    keys = _keys_of(target)
    if base:
        inherited = set(_keys_of(base))
        keys = tuple(k for k in keys if k not in inherited)
    if not keys:
        return "Only the shared keys.\n"
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    lines += [f"| `{k.name}` | {_type_cell(k)} | {_default_cell(k)} | {_cell(k.description)} |"
              for k in keys]
    return "\n".join(lines) + "\n"


def render_tables(text: str) -> str:
    """``text`` with every generated key table replaced by its current version."""
    import spikey  # noqa: F401  (registers every part and game)

    return _TABLE.sub(lambda m: m.group(1) + key_table(m.group("spec")) + m.group(4), text)


@pytest.mark.parametrize("doc", KEY_TABLE_DOCS)
def test_key_tables_match_code(doc):
    path = ROOT / doc
    if not path.exists():
        pytest.skip(f"{doc} does not exist")
    text = path.read_text(encoding="utf-8")
    if not _TABLE.search(text):
        pytest.skip(f"{doc} has no generated key tables")
    assert render_tables(text) == text, (
        f"{doc}: a key table differs from the code's KEYS; run "
        "`python unit_tests/test_docs.py --write` to regenerate it")


def test_key_table_specs_resolve():
    for doc in KEY_TABLE_DOCS:
        path = ROOT / doc
        if path.exists():
            for match in _TABLE.finditer(path.read_text(encoding="utf-8")):
                assert key_table(match.group("spec")).strip(), (doc, match.group("spec"))


def write_tables() -> list:
    """Regenerate the key tables of every document in place; returns the files changed."""
    changed = []
    for doc in KEY_TABLE_DOCS:
        path = ROOT / doc
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        new = render_tables(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(doc)
    return changed


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        sys.path.insert(0, os.fspath(ROOT))
        for doc in write_tables():
            print("rewrote key tables in", doc)
    else:
        print(__doc__)
