"""Sphinx configuration of the course website (tools/build_site.py writes the source folder and runs it)."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

EDITION = (HERE / "edition.txt").read_text().strip() if (HERE / "edition.txt").exists() else "student"

project = "seglib"
author = "The seglib course authors"
copyright = "the seglib course authors (MIT licence); CamVid frames: Brostow et al., research and non-commercial use"
html_title = "seglib: semantic segmentation, a Jupyter-first course" + (" (instructor edition)"
                                                                        if EDITION == "instructor" else "")

extensions = [
    "myst_nb",                 # Markdown pages and the executed notebooks (never executed again here)
    "sphinx.ext.autodoc",      # the API reference from the docstrings
    "sphinx.ext.githubpages",  # .nojekyll, so GitHub Pages serves _static/
    "mathml",                  # formulas rendered to MathML at build time: no MathJax, no network
]
exclude_patterns = ["_readme", "_code", "edition.txt", "**.ipynb_checkpoints"]

nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
# The README's sections are included under the pages' own titles (### under #).
suppress_warnings = ["myst.header"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_inherit_docstrings = False  # torchvision's docstrings cite its own gallery
autodoc_default_options = {"members": True, "show-inheritance": False}

html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": "https://github.com/seglib-course/seglib",
    "use_repository_button": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
    "use_download_button": False,  # the page's own source is not copied (html_copy_source)
}
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = False
html_static_path = ["_static"]
html_css_files = ["seglib.css"]
html_favicon = "_static/favicon.svg"
