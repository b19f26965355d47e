"""Sphinx configuration of scorefast's documentation.

Build (warnings are errors): ``sphinx-build -W -b html docs docs/_build/html``,
or ``.ci/docs``. Needs the docs extra (``pip install -e ".[docs]"``) and a
built scorefast (torch is mocked where it is not installed).
"""
import importlib.util
import os

import scorefast

HERE = os.path.dirname(os.path.abspath(__file__))

project = "scorefast"
author = "the scorefast developers"
copyright = "the scorefast developers"
version = release = scorefast.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
]
numpydoc_show_class_members = False      # members are listed by autodoc itself
numpydoc_xref_param_type = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"               # types are in the numpydoc sections
autodoc_inherit_docstrings = False       # an undocumented property would show tuple's docstring
default_role = "code"
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []
templates_path = []
pygments_style = "sphinx"

# The optional PyTorch bridge is documented whether or not torch is installed.
if importlib.util.find_spec("torch") is None:
    autodoc_mock_imports = ["torch"]


def _variance_figure(app):
    """docs/_generated/variance.png: the demo's plot, measured at build time."""
    from scorefast.plots import plot_variance

    out = os.path.join(HERE, "_generated")
    os.makedirs(out, exist_ok=True)
    plot_variance(os.path.join(out, "variance.png"), repeats=20000, points=25, seed=0)


def setup(app):
    app.connect("builder-inited", _variance_figure)
