"""The project's declarations agree with each other, and seglib imports without Jupyter."""

import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]


def requirement_name(spec):
    return re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += extra
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
    declared = project["dependencies"] + sum(project["optional-dependencies"].values(), [])
    missing = [s for s in declared if requirement_name(s) not in pins]
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


def test_import_seglib_needs_no_jupyter_or_plotting():
    code = ("import sys, seglib, seglib.train, seglib.data, seglib.metrics; "
            "heavy = [m for m in ('matplotlib', 'ipywidgets', 'IPython', 'papermill', 'jupyterlab') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
