"""The exercises in nbgrader's format, and a whole grading round with the real nbgrader.

Fast: every committed notebook carries its exercises in nbgrader's format (a solution cell,
then a locked check cell with points whose stored output is ``all N cases pass``).
Slow: ``tools/make_assignments.py`` on the whole course (no solution line survives in the
student versions, every exercise is a stub, every check is locked), papermill running a
student version past its unsolved exercises, and ``nbgrader
autograde`` + ``generate_feedback`` on notebook 00 for three submissions with tiny
parameters: the instructor's version, the untouched student version, and a planted mistake.
"""

import re
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_assignments  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
MINIMUM_EXERCISES = {"06_comparison.ipynb": 1, "07_camvid.ipynb": 2}  # every other notebook: 3
TINY = {"steps": 3, "image_size": (32, 64), "batch_size": 4}


def nbgrader_cells(nb) -> list:
    return [c for c in nb.cells if "nbgrader" in c.metadata]


def solution_lines(cell) -> list[str]:
    """The lines between each ``### BEGIN SOLUTION`` and ``### END SOLUTION``, stripped,
    without blanks and comments."""
    regions = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S)
    return [line.strip() for region in regions for line in region.splitlines()
            if line.strip() and not line.strip().startswith("#")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_is_a_solution_then_a_locked_check_with_points(path):
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    ids = [c.metadata.nbgrader.grade_id for c in nbgrader_cells(nb)]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate grade_id"
    solutions = [i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(solutions) >= MINIMUM_EXERCISES.get(path.name, 3), f"{path.name}: too few exercises"
    for i in solutions:
        solution, check = cells[i], cells[i + 1]
        name = solution.metadata.nbgrader.grade_id
        assert solution_lines(solution), f"{path.name} {name}: an empty solution"
        assert "raises-exception" in solution.metadata.tags
        grading = check.metadata.get("nbgrader", {})
        assert grading.get("grade") and grading.get("locked") and grading.get("points", 0) > 0, \
            f"{path.name} {name}: the next cell must be its locked, graded check"
        assert {"raises-exception", "nbval-check-output"} <= set(check.metadata.tags)
        assert f"({grading['points']} points)" in cells[i - 1].source, \
            f"{path.name} {name}: the exercise's heading states its points"
        printed = "".join(o.get("text", "") for o in check.outputs)
        assert re.search(r"all \d+ cases pass\n$", printed), f"{path.name} {name}: committed without a passing check"
        assert "check_" in check.source and name in check.source


def test_the_install_cell_is_pinned_to_a_commit():
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    make_assignments.pin_install_cell(nb, "0123456789abcdef" * 2 + "01234567", "9.9.9")
    source = nb.cells[1].source
    assert 'SEGLIB = "seglib[notebooks] @ git+https://github.com/seglib-course/seglib@0123456789abcdef' in source
    assert 'elif importlib.metadata.version("seglib") != "9.9.9":' in source
    compile(source, "install cell", "exec")


def write_submission(release: Path, submitted: Path, student: str, solutions: dict[str, str]) -> None:
    """The student version with these solution cells filled in and tiny parameters."""
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        name = cell.metadata.get("nbgrader", {}).get("grade_id")
        if name in solutions:
            cell.source = solutions[name]
        if "parameters" in cell.metadata.get("tags", []):
            cell.source += "".join(f"\n{key} = {value!r}" for key, value in TINY.items())
    target = submitted / student / release.parent.name / release.name
    target.parent.mkdir(parents=True)
    nbformat.write(nb, target)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    make_assignments.make_assignments(NOTEBOOKS, course, commit="0" * 40)
    return course


@pytest.mark.slow
def test_student_versions_hold_no_solution_and_lock_every_check(course):
    for path in NOTEBOOKS:
        source = nbformat.read(course / "source" / path.stem / path.name, as_version=4)
        release = nbformat.read(course / "release" / path.stem / path.name, as_version=4)
        student_text = "\n".join(c.source for c in release.cells)
        for cell in nbgrader_cells(source):
            if cell.metadata.nbgrader.get("solution"):
                leaked = [line for line in solution_lines(cell) if line in student_text]
                assert not leaked, f"{path.name} {cell.metadata.nbgrader.grade_id}: {leaked}"
        for cell in nbgrader_cells(release):
            grading = cell.metadata.nbgrader
            if grading.get("solution"):
                assert "raise NotImplementedError()" in cell.source and "SOLUTION" not in cell.source
            if grading.get("grade"):
                assert grading["locked"] and cell.metadata.get("editable") is False
        assert all(not c.get("outputs") for c in release.cells if c.cell_type == "code"), path.name
        assert f"seglib@{'0' * 40}" in release.cells[1].source, f"{path.name}: install cell not pinned"


@pytest.mark.slow
def test_papermill_runs_a_student_version_past_its_unsolved_exercises(course, tmp_path):
    """Every cell runs (the checks are tagged raises-exception); papermill then reports the
    failed checks, as it reports any error output."""
    name = NOTEBOOKS[0].stem
    executed = tmp_path / "executed.ipynb"
    with pytest.raises(papermill.PapermillExecutionError, match="not written yet"):
        papermill.execute_notebook(str(course / "release" / name / f"{name}.ipynb"), str(executed),
                                   parameters=TINY, kernel_name="python3", cwd=str(tmp_path), progress_bar=False)
    cells = nbformat.read(executed, as_version=4).cells
    checks = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert all("not written yet" in "".join(o.get("evalue", "") for o in c.outputs) for c in checks)
    assert "FINAL val mIoU: " in "".join(o.get("text", "") for o in cells[-1].outputs)


@pytest.mark.slow
def test_a_grading_round_scores_each_submission_and_names_the_mistake(course):
    from nbgrader.api import Gradebook

    name = NOTEBOOKS[0].stem
    source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    solved = {c.metadata.nbgrader.grade_id: c.source for c in nbgrader_cells(source)
              if c.metadata.nbgrader.get("solution")}
    planted = dict(solved, confusion_matrix=solved["confusion_matrix"].replace(
        "num_classes * target[valid] + pred[valid]", "num_classes * pred[valid] + target[valid]"))
    assert planted != solved
    release = course / "release" / name / f"{name}.ipynb"
    for student, solutions in (("instructor", solved), ("untouched", {}), ("planted", planted)):
        write_submission(release, course / "submitted", student, solutions)

    make_assignments.nbgrader(course, "autograde", name, "--force")
    make_assignments.nbgrader(course, "generate_feedback", name, "--force")

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        def scores(student):
            notebook = gradebook.find_submission_notebook(name, name, student)
            return {grade.name: grade.score for grade in notebook.grades}

        points = {grade.name: grade.max_score for grade in gradebook.find_notebook(name, name).grade_cells}
        assert len(points) == len(solved) and sum(points.values()) == 6
        assert scores("instructor") == points
        assert scores("untouched") == {grade: 0 for grade in points}
        assert scores("planted") == dict(points, confusion_matrix_check=0)

    for student in ("instructor", "untouched"):  # the lesson runs past unsolved exercises
        graded = nbformat.read(course / "autograded" / student / name / f"{name}.ipynb", as_version=4)
        printed = "".join(o.get("text", "") for c in graded.cells for o in c.get("outputs", []))
        assert "FINAL val mIoU: " in printed
        failed = [c for c in graded.cells if any(o.output_type == "error" for o in c.get("outputs", []))]
        assert all(c.metadata.get("nbgrader", {}).get("grade") for c in failed), student  # only checks fail
        assert len(failed) == (0 if student == "instructor" else len(solved))
    feedback = (course / "feedback" / "planted" / name / f"{name}.html").read_text()
    assert "rows and columns are swapped" in feedback
    assert "not written yet" in (course / "feedback" / "untouched" / name / f"{name}.html").read_text()
