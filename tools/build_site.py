"""Build the course website: the executed notebooks, the model sources and the API as one static site.

    python tools/build_site.py                       # both editions: site/student/ and site/instructor/
    python tools/build_site.py --edition student     # the student edition only (what CI builds)

Nothing is executed (the notebooks are committed executed) and nothing is downloaded: Sphinx
with MyST-NB and the book theme, all from the virtual environment, formulas rendered to MathML
at build time. For each edition the script writes a Sphinx source folder
(``site/.build/<edition>/source``): the pages of ``docs/``, a copy of every notebook prepared for the
site, a page per model file, and the README's sections the pages include; then runs
``sphinx-build``, which fails on any warning (a broken internal link, a missing image).

Prepared for the site, each notebook says at which commit it was executed and when, links the
model files it teaches, carries alt text for each figure (``docs/figures.json``), says that its
widgets are stills of live widgets, folds the output that answers each "Predict, then run"
question until it is clicked, and leaves out the cells of facts the test suite checks
(tag ``course-facts``, collapsed in JupyterLab). The student edition (the default) replaces every exercise
solution by nbgrader's stub and drops the check cells' outputs, as nbgrader's student version
does; the instructor edition keeps the solutions.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOKS = ROOT / "notebooks"
SITE = ROOT / "site"
EDITIONS = ("student", "instructor")
REPOSITORY = "https://github.com/seglib-course/seglib"
SPHINX_OPTIONS = ["-b", "html", "-W", "--keep-going", "-q"]  # any warning (a broken link, a missing image) fails
FIGURES = DOCS / "figures.json"  # alt text per figure: {notebook stem: {cell id: text}}
MODEL_FILES = sorted(p for p in (ROOT / "seglib" / "models").glob("*.py") if p.name != "__init__.py")
# Notebooks whose outputs show CamVid frames: their pages carry its attribution and terms.
CAMVID_PAGES = ("00_data_and_metrics", "07_camvid")
CAMVID_TERMS = """\
```{admonition} CamVid: attribution and terms
:class: note
The CamVid frames and labels on this page are from the Cambridge-driving Labeled Video
Database: G. J. Brostow, J. Fauqueur and R. Cipolla, "Semantic object classes in video: a
high-definition ground truth database", *Pattern Recognition Letters* 30(2), 2009, and
G. J. Brostow, J. Shotton, J. Fauqueur and R. Cipolla, ECCV 2008. The dataset is for research
and non-commercial use only; seglib ships none of it (see [](datasets.md)).
```
"""
WIDGET_STILL = ("*A still picture of the widget, as the notebook was executed: a static page cannot run it. "
                "In JupyterLab (or Colab) the widget is live.*")
PREDICT = "**Predict, then run.**"
# README sections the site includes: page source name -> (first heading, the heading it stops before)
README_SECTIONS = {
    "intro": (None, "## Two commands"),
    "two-commands": ("## Two commands", "## The course"),
    "course": ("## The course", "### Exercises that check themselves"),
    "exercises": ("### Exercises that check themselves", "### The leaderboard"),
    "teaching": ("## Teaching with nbgrader", "## The course as a website"),
    "datasets": ("## Real datasets", "## Scale: one GPU"),
}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def executed_at(notebook: Path) -> str:
    """A sentence saying which commit last changed the notebook's outputs, and when, from git."""
    relative = notebook.relative_to(ROOT).as_posix()
    line = git("log", "-1", "--format=%h %cs", "--", relative)
    if not line:
        return "This notebook is not committed yet: its outputs are from an uncommitted run."
    commit, day = line.split()
    changed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", relative], cwd=ROOT).returncode != 0
    where = f"[{commit}]({REPOSITORY}/commit/{commit})"
    sentence = f"The outputs on this page are those committed with the notebook: executed on {day}, commit {where}."
    return sentence + (" The notebook has changed since (uncommitted)." if changed else "")


def readme_section(text: str, start: str | None, stop: str) -> str:
    """The README's lines from heading ``start`` (kept) to heading ``stop`` (not kept)."""
    lines = text.splitlines()

    def heading(prefix: str, after: int) -> int:
        found = [i for i, line in enumerate(lines) if i >= after and line.startswith(prefix)]
        if not found:
            raise SystemExit(f"README.md has no heading {prefix!r}: the site includes its sections "
                             f"(README_SECTIONS in {Path(__file__).name})")
        return found[0]

    first = heading("# ", 0) + 1 if start is None else heading(start, 0)
    return "\n".join(lines[first:heading(stop, first + 1)]).strip() + "\n"


def models_by_module() -> dict[str, list[str]]:
    """Model file stem -> the registry names it defines (``unet`` -> ["unet"])."""
    sys.path.insert(0, str(ROOT))
    from seglib.models import MODELS

    found: dict[str, list[str]] = {}
    for name, model_class in MODELS.items():
        found.setdefault(model_class.__module__.rsplit(".", 1)[1], []).append(name)
    return found


def taught_files(nb, models: dict[str, list[str]]) -> list[str]:
    """The model files a notebook runs, in the order of MODEL_FILES: those whose models it names
    (``"fcn8s"``), whose backbones it names (``"vgg16"``: vgg.py) or that it imports."""
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    quoted = set(re.findall(r"[\"'](\w+)[\"']", code))
    stems = [p.stem for p in MODEL_FILES]
    used = {stem for stem, names in models.items() if quoted & set(names)}
    used |= {stem for stem in stems if any(re.fullmatch(rf"{stem}\d+", word) for word in quoted)}
    used |= {stem for stem in stems if re.search(rf"seglib\.models\.{stem}\b", code)}
    return [stem for stem in stems if stem in used]


def markdown_cell(text: str):
    return nbformat.v4.new_markdown_cell(text)


def prepare_notebook(path: Path, edition: str, alt_text: dict[str, str], models) -> nbformat.NotebookNode:
    """The notebook as the site shows it (see the module docstring)."""
    nb = nbformat.read(path, as_version=4)
    if edition == "student":
        from nbgrader.preprocessors import ClearSolutions

        nb, _ = ClearSolutions().preprocess(nb, {})
        for cell in nb.cells:
            grading = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and (grading.get("solution") or grading.get("grade")):
                cell.outputs, cell.execution_count = [], None
    missing = []
    answer_pending = False
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if "course-facts" in cell.metadata.get("tags", []):  # the suite's checks, not the lesson
            cell.metadata.tags.append("remove-cell")
        if cell.cell_type == "markdown":
            answer_pending = answer_pending or PREDICT in cell.source
            continue
        images = [o for o in cell.get("outputs", []) if {"image/png", "image/jpeg"} & set(o.get("data", {}))]
        if images:
            if cell.id not in alt_text:
                missing.append(cell.id)
            else:
                cell.metadata.setdefault("mystnb", {})["image"] = {"alt": alt_text[cell.id]}
        if answer_pending and cell.get("outputs"):
            cell.metadata.setdefault("tags", []).append("hide-output")
            answer_pending = False
        if any("a live widget" in o.get("data", {}).get("text/plain", "") for o in images):
            cells.append(markdown_cell(WIDGET_STILL))
    if missing:
        raise SystemExit(f"{path.name}: no alt text for the figures of cells {', '.join(missing)}: add them to "
                         f"{FIGURES.relative_to(ROOT)} under {path.stem!r}")
    header = [executed_at(path)]
    files = taught_files(nb, models)
    if files:
        links = ", ".join(f"[`seglib/models/{stem}.py`](../models/{stem}.md)" for stem in files)
        header.append(f"The model code this notebook runs: {links}.")
    header.append(f"Run it yourself: [`notebooks/{path.name}`]({REPOSITORY}/blob/main/notebooks/{path.name}) "
                  "in JupyterLab, Colab or headless ([the two commands](../index.md#two-commands)).")
    extra = [markdown_cell(":::{admonition} This page\n:class: tip\n" + "\n\n".join(header) + "\n:::")]
    if path.stem in CAMVID_PAGES:
        extra.append(markdown_cell(CAMVID_TERMS.replace("](datasets.md)", "](../datasets.md)")))
    for cell in cells:  # the install cell: what Colab needs, not what the page teaches
        if cell.cell_type == "code" and f"git+{REPOSITORY}" in cell.source:
            cell.metadata.setdefault("tags", []).append("hide-input")
            break
    nb.cells = cells[:1] + extra + cells[1:]
    return nb


def model_page(path: Path, models: dict[str, list[str]], users: dict[str, list[str]]) -> str:
    """A page showing one model file with highlighting, and who uses it."""
    names = models.get(path.stem, [])
    lines = [f"# `seglib/models/{path.name}`", ""]
    doc = re.match(r'"""(.*?)"""', path.read_text(), re.S)
    if doc:
        lines += [doc.group(1).strip().splitlines()[0], ""]
    if names:
        lines += ["Registry names: " + ", ".join(f'`create_model("{n}", ...)`' for n in names) + ".", ""]
    if users.get(path.stem):
        lines += ["Taught in: " + ", ".join(f"[](../notebooks/{stem}.ipynb)" for stem in users[path.stem]) + ".", ""]
    lines += [f"This is the file the notebooks import, copied when the site was built "
              f"([on GitHub]({REPOSITORY}/blob/main/seglib/models/{path.name})).", "",
              f"```{{literalinclude}} ../_code/seglib/models/{path.name}", ":language: python", ":linenos:", "```", ""]
    return "\n".join(lines)


def write_source(edition: str, source: Path) -> None:
    """Write the Sphinx source folder of one edition."""
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("figures.json", "__pycache__"))
    readme = (ROOT / "README.md").read_text()
    (source / "_readme").mkdir()
    for name, (start, stop) in README_SECTIONS.items():
        (source / "_readme" / f"{name}.md").write_text(readme_section(readme, start, stop))
    alt_text = json.loads(FIGURES.read_text())
    models = models_by_module()
    (source / "notebooks").mkdir()
    users: dict[str, list[str]] = {}
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nb = prepare_notebook(path, edition, alt_text.get(path.stem, {}), models)
        nbformat.write(nb, source / "notebooks" / path.name)
        for stem in taught_files(nb, models):
            users.setdefault(stem, []).append(path.stem)
    (source / "_code" / "seglib" / "models").mkdir(parents=True)
    (source / "models").mkdir(exist_ok=True)
    for path in MODEL_FILES:
        shutil.copy2(path, source / "_code" / "seglib" / "models" / path.name)
        (source / "models" / f"{path.stem}.md").write_text(model_page(path, models, users))
    (source / "edition.txt").write_text(edition)


def build(edition: str, site: Path) -> float:
    """Build one edition into ``site/<edition>`` (from scratch: Sphinx's files in ``site/.build``);
    returns the seconds it took."""
    start = time.perf_counter()
    source, doctrees, out = site / ".build" / edition / "source", site / ".build" / edition / "doctrees", site / edition
    for folder in (source, doctrees, out):
        shutil.rmtree(folder, ignore_errors=True)
    write_source(edition, source)
    command = [sys.executable, "-m", "sphinx", *SPHINX_OPTIONS, "-j", "auto", "-d", str(doctrees), str(source),
               str(out)]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(command, cwd=ROOT, env=environment)  # autodoc reads this checkout's seglib
    if result.returncode:
        raise SystemExit(f"sphinx-build failed for the {edition} edition (its warnings are above): {' '.join(command)}")
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edition", choices=(*EDITIONS, "both"), default="both")
    parser.add_argument("--out", type=Path, default=SITE, help="the folder that gets one subfolder per edition")
    args = parser.parse_args(argv)
    for edition in EDITIONS if args.edition == "both" else (args.edition,):
        seconds = build(edition, args.out)
        print(f"{edition} edition: {args.out / edition}/index.html ({seconds:.0f} s)")


if __name__ == "__main__":
    main()
