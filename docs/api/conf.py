"""Sphinx configuration of Spikey's API reference.

Build from the repository root (CI does the same, with warnings as errors)::

    pip install -r requirements-docs.txt
    python -m sphinx -W --keep-going -b html docs/api docs/api/_build/html

The reference is generated from the numpydoc docstrings: ``autosummary`` walks every
public module of the ``spikey`` package (``index.rst`` names the top package, the
templates in ``_templates/autosummary`` recurse), so a new module appears without
editing these files. The family READMEs are included as pages (``guides/``, through
myst-parser) and the notebooks are linked as downloads, never executed. Nothing here
needs the network at build time.
"""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

# Importing spikey must stay cheap and side-effect free: no Ray start, no GPU, no
# display. These only make sure of it for the autodoc imports.
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import spikey  # noqa: E402

project = "Spikey"
author = "Spikey contributors"
copyright = "Spikey contributors"
version = release = spikey.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# -- autodoc / autosummary ---------------------------------------------------------
autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_imported_members = False  # a class is documented once, in its defining module
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc "Parameters" sections carry the types
autodoc_inherit_docstrings = True
autodoc_default_options = {"members": True, "show-inheritance": True}
# Heavy optional imports are real dependencies of spikey (requirements.txt); nothing is
# mocked, so a module that fails to import fails the build.

# -- numpydoc ----------------------------------------------------------------------
numpydoc_show_class_members = False  # autodoc lists the members; no stub page per method
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- myst (the family READMEs are markdown) ------------------------------------------
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# -- HTML ----------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"Spikey {release} API reference"
html_static_path = []
html_show_sourcelink = False
# MathJax is loaded by the browser when a page is viewed; the build itself is offline.
