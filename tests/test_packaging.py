"""The project's declarations agree with each other (and the README with the Makefile, the files
and the committed notebooks), and seglib imports without Jupyter."""

import importlib.util
import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import tomllib
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]


def requirement_name(spec):
    return re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-")


def declared_requirements(project) -> list[str]:
    """pyproject's dependencies and every extra's; an extra may name another (``seglib[docs]``)."""
    return project["dependencies"] + sum(project["optional-dependencies"].values(), [])


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [s for s in declared_requirements(project) if requirement_name(s) != "seglib"]  # not seglib[docs]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pip = [s for s in pip_section if not s.startswith("-")]
    assert sorted(conda_pip) == sorted(declared), "environment.yml's pip section must list pyproject's dependencies"
    assert "-c constraints.txt" in pip_section and "-e ." in pip_section


def test_constraints_pin_every_declared_package_and_a_matched_torch_pair():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[requirement_name(name)] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    missing = [s for s in declared_requirements(project) if requirement_name(s) not in pins | {"seglib": ""}]
    assert not missing, f"constraints.txt does not pin {missing}"
    for name in ("torch", "torchvision"):  # the environment under test is the pinned one
        assert metadata.version(name).split("+")[0] == pins[name]


def test_torch_and_torchvision_are_a_matched_pair():
    # a mismatched pair fails here with "operator torchvision::nms does not exist"
    import torch
    import torchvision

    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0]])
    assert torchvision.ops.nms(boxes, torch.tensor([0.9, 0.8]), 0.5).tolist() == [0]
    torch_req = next(r for r in metadata.requires("torchvision") if requirement_name(r) == "torch")
    spec = SpecifierSet(re.sub(r"^torch\s*\(?([^)]*)\)?$", r"\1", torch_req))
    assert metadata.version("torch").split("+")[0] in spec, (torch_req, metadata.version("torch"))


@pytest.mark.slow  # a fresh interpreter importing torch: 3-5 s on the 2-core machine
def test_import_seglib_needs_no_jupyter_or_plotting():
    code = ("import sys, seglib, seglib.train, seglib.data, seglib.metrics; "
            "heavy = ('matplotlib', 'ipywidgets', 'IPython', 'papermill', 'jupyterlab'); "
            "print([m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def makefile_targets():
    return set(re.findall(r"^([A-Za-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))


def markdown_tables(text):
    """Every markdown table of ``text`` as a list of rows, each a list of cell texts."""
    tables, rows = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            tables.append(rows)
            rows = []
    return tables


def readme_run_summary(readme):
    """``{notebook: (seconds, final mIoU)}`` from the README's copy of ``make run``'s summary,
    and the paragraph that introduces it."""
    intro, block = re.search(r"\n\n([^\n]+(?:\n[^\n]+)*)\n\n```\nnotebook +seconds +final val mIoU\n(.*?)```",
                             readme, re.S).groups()
    rows = [line.split() for line in block.strip().splitlines()]
    return {name: (int(seconds), float(miou)) for name, seconds, miou in rows}, intro


def test_the_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^make run +#", readme, re.M) and re.search(r"^make test +#", readme, re.M)
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", readme))
    assert {"run", "test"} <= named and not named - makefile_targets(), \
        f"the README names make targets the Makefile lacks: {sorted(named - makefile_targets())}"
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)


def test_the_files_the_readme_names_exist():
    readme = (ROOT / "README.md").read_text()
    paths = set(re.findall(r"(?<![\w/.])((?:notebooks|tools|benchmarks|data_scripts|tests)/[\w./-]*\w)", readme))
    assert len(paths) >= 10
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, f"the README names files that do not exist: {missing}"


def test_the_readme_tables_are_well_formed():
    for rows in markdown_tables((ROOT / "README.md").read_text()):
        header, rule, *body = rows
        assert all(re.fullmatch(r":?-+:?", cell) for cell in rule) and len(rule) == len(header), header
        assert not any(all(re.fullmatch(r":?-+:?", cell) for cell in row) for row in body), \
            f"a second header in the table {header}"
        assert all(len(row) == len(header) for row in body), f"rows of the table {header} with another cell count"


def test_the_readme_numbers_match_the_committed_notebooks():
    """The run summary lists every notebook with the final mIoU its committed copy printed,
    dated; its seconds add up to the total the README gives; the course table lists every
    notebook with the same seconds, mIoU and default steps."""
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "tools" / "run_notebooks.py")
    run_notebooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_notebooks)  # its final_miou: what `make run`'s summary shows
    readme = (ROOT / "README.md").read_text()
    notebooks = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    summary, intro = readme_run_summary(readme)
    assert list(summary) == [p.name for p in notebooks]
    assert re.search(r"\b20\d\d-[01]\d-[0-3]\d\b", intro), "say when the run summary was measured"
    total = sum(seconds for seconds, _ in summary.values())
    assert f"{total} s in all" in readme
    course = next(t for t in markdown_tables(readme) if t[0][:2] == ["notebook", "teaches"])
    column = {name: course[0].index(name) for name in ("steps", "CPU run (2 cores, defaults)")}
    by_name = {row[0].strip("`"): row for row in course[2:]}
    assert list(by_name) == [p.name for p in notebooks]
    for path in notebooks:
        seconds, miou = summary[path.name]
        assert miou == run_notebooks.final_miou(path), f"{path.name}: the README's mIoU is not the committed one"
        row = by_name[path.name]
        assert row[column["CPU run (2 cores, defaults)"]] == f"{seconds} s"
        if path.name != "06_comparison.ipynb":  # its result column points to the leaderboard
            assert f"{miou:.3f}" in row[-1], path.name
        defaults = next(c for c in json.loads(path.read_text())["cells"]
                        if "parameters" in c["metadata"].get("tags", []))
        steps = re.search(r"^steps *= *(\d+)", "".join(defaults["source"]), re.M)[1]
        assert row[column["steps"]] == steps, f"{path.name}: the README's steps are not the notebook's default"
