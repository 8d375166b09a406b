"""Turn the course notebooks into nbgrader assignments: one assignment per notebook.

    python tools/make_assignments.py                    # every notebook, into course/
    python tools/make_assignments.py notebooks/00_data_and_metrics.ipynb --course-dir /tmp/course

Writes an nbgrader course folder (``course/`` by default, git-ignored): its
``nbgrader_config.py``, the instructor versions in ``source/<assignment>/`` (the committed
notebooks, solutions included, with the install cell pinned to this seglib commit so that
the checks cannot change under a handed-out assignment), then runs ``nbgrader
generate_assignment`` for each: the student versions in ``release/<assignment>/`` have the
solutions replaced by stubs, no outputs, and locked check cells.  The README's
"Teaching with nbgrader" section shows the rest of the round (collect, autograde, feedback).
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "git+https://github.com/seglib-course/seglib"
CELL_TIMEOUT = 1800  # seconds per cell when autograding: training cells take minutes (nbgrader's default is 30)

CONFIG = '''\
# nbgrader's configuration for the seglib course (written by tools/make_assignments.py).
c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = "seglib"
c.CourseDirectory.db_assignments = {assignments!r}
# Add your students here, e.g. dict(id="ada", first_name="Ada", last_name="Lovelace"); autograde adds unknown ones.
c.CourseDirectory.db_students = []
# Training cells take minutes on a CPU: nbgrader's default is 30 s per cell.
c.Execute.timeout = {timeout}
c.Execute.kernel_name = "python3"
'''


def assignment_name(notebook: Path) -> str:
    return notebook.stem


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def seglib_version() -> str:
    return re.search(r'__version__ = "([^"]+)"', (ROOT / "seglib" / "__init__.py").read_text()).group(1)


def pin_install_cell(nb, commit: str, version: str) -> None:
    """Make the notebook's install cell install exactly this commit, and warn when another
    seglib version is already installed."""
    cell = next((c for c in nb.cells if c.cell_type == "code" and REPOSITORY in c.source), None)
    if cell is None:
        raise SystemExit("no install cell: the notebook's first code cell must install seglib from "
                         f"{REPOSITORY}")
    pinned = (f"# This assignment was made from seglib {version}, commit {commit[:12]}: "
              "its checks are that version's.\n"
              f'SEGLIB = "seglib[notebooks] @ {REPOSITORY}@{commit}"\n')
    source = re.sub(rf',\s*"seglib\[notebooks\] @ {re.escape(REPOSITORY)}"', ", SEGLIB", cell.source)
    source = source.replace("import importlib.util\n", "import importlib.metadata\nimport importlib.util\n", 1)
    source = source.replace("\nif importlib.util.find_spec", f"\n{pinned}if importlib.util.find_spec", 1)
    cell.source = source + (
        "\nelif importlib.metadata.version(\"seglib\") != " + f'"{version}":\n'
        f'    print(f"seglib {{importlib.metadata.version(\'seglib\')}} is installed: '
        f'this assignment was made with seglib {version}")')
    if ", SEGLIB])" not in cell.source:
        raise SystemExit(f"could not pin the install cell:\n{cell.source}")


def write_source(notebook: Path, course: Path, commit: str, version: str) -> Path:
    nb = nbformat.read(notebook, as_version=4)
    pin_install_cell(nb, commit, version)
    target = course / "source" / assignment_name(notebook) / notebook.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def nbgrader(course: Path, *args: str) -> None:
    """Run an nbgrader command in the course folder.  The environment's bin/ goes on PATH:
    nbgrader's database setup shells out to alembic."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def make_assignments(notebooks: list[Path], course: Path, commit: str | None = None) -> list[str]:
    """Write the course folder and generate the student versions; returns the assignment names."""
    commit = commit or git("rev-parse", "HEAD")
    version = seglib_version()
    course.mkdir(parents=True, exist_ok=True)
    names = [assignment_name(n) for n in notebooks]
    (course / "nbgrader_config.py").write_text(
        CONFIG.format(assignments=[{"name": n} for n in names], timeout=CELL_TIMEOUT))
    for notebook in notebooks:
        write_source(notebook, course, commit, version)
        print(f"{assignment_name(notebook)}: source/{assignment_name(notebook)}/{notebook.name}")
    nbgrader(course, "generate_assignment", "*", "--force")
    return names


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebooks (default: notebooks/[0-9]*.ipynb)")
    parser.add_argument("--course-dir", default=str(ROOT / "course"), help="the nbgrader course folder")
    parser.add_argument("--commit", help="the seglib commit the install cells pin (default: HEAD)")
    args = parser.parse_args(argv)
    notebooks = [Path(p).resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    if not args.commit and git("status", "--porcelain", "--", "seglib", "notebooks"):
        print("warning: seglib/ or notebooks/ has uncommitted changes, which the pinned commit lacks")
    course = Path(args.course_dir).resolve()
    make_assignments(notebooks, course, args.commit)
    print(f"student versions in {course / 'release'}; instructor versions (with solutions) in {course / 'source'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
