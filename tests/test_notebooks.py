"""Papermill runs of the notebooks with tiny non-default parameters.

nbval (configured in pyproject.toml) is the only full execution of the notebooks in the
suite; these runs are short (a few training steps, small images, another seed) and check
that parameters reach the notebook, that results come out, and that bad parameters stop
the notebook with a clear message.
"""

import json
import sys
from pathlib import Path

import papermill
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
TINY = {"steps": 3, "image_size": (32, 64), "batch_size": 4, "seed": 1}  # a multiple of 32: FCN


def outputs_text(notebook_path):
    cells = json.loads(Path(notebook_path).read_text())["cells"]
    return "\n".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))


@pytest.mark.slow
def test_runner_executes_every_notebook_with_tiny_parameters(tmp_path, capsys):
    args = [arg for name, value in TINY.items() for arg in ("-p", name, repr(value))]
    assert run_notebooks.main(args + ["--output-dir", str(tmp_path)]) == 0
    summary = capsys.readouterr().out
    for notebook in NOTEBOOKS:
        executed = tmp_path / notebook.name
        text = outputs_text(executed)
        assert "FINAL val mIoU: " in text
        miou = run_notebooks.final_miou(executed)
        assert 0 <= miou <= 1
        assert notebook.name in summary and f"{miou:.3f}" in summary  # the summary line
        params = next(c for c in json.loads(executed.read_text())["cells"]
                      if "injected-parameters" in c["metadata"].get("tags", []))
        assert "steps = 3" in "".join(params["source"])


@pytest.mark.slow
@pytest.mark.parametrize("name,value,message", [
    ("dataset", "cityscape", "dataset='cityscape' is unknown; valid names: camseq, camvid, camvid32, cityscapes"),
    ("image_size", (90, 128), "must be a multiple of 16"),
    ("steps", 0, "steps must be a positive integer"),
])
def test_bad_parameters_stop_with_a_clear_message(tmp_path, name, value, message):
    with pytest.raises(papermill.PapermillExecutionError) as error:
        papermill.execute_notebook(str(NOTEBOOKS[0]), str(tmp_path / "out.ipynb"), parameters={name: value},
                                   kernel_name="python3", cwd=str(tmp_path), progress_bar=False)
    assert "bad notebook parameter" in str(error.value) and message in str(error.value)


@pytest.mark.slow
def test_notebook_00_runs_on_real_camvid_with_one_parameter(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("SEGLIB_CACHE", str(tmp_path / "cache"))  # the kernel inherits it
    out = tmp_path / "camvid.ipynb"
    papermill.execute_notebook(str(NOTEBOOKS[0]), str(out), kernel_name="python3", cwd=str(tmp_path),
                               progress_bar=False, parameters={"dataset": "camvid", "steps": 5,
                                                               "data_root": str(shared_data / "camvid11")})
    text = outputs_text(out)
    assert "367 train and 101 val images" in text and "0 Sky, 1 Building" in text
    assert "SignSymbol:   3.85   SegNet published   9.64 (2.51x)" in text  # the weights section
    assert "camvid: CamVid(split='train', 367 images" in text  # the real-datasets section found it
    assert "voc: not found; get it with `python data_scripts/get_data.py voc2012`" in text
    assert 0 <= run_notebooks.final_miou(out) <= 1
    assert len(list((tmp_path / "cache").glob("camvid-*-96x128-*.images.npy"))) == 2  # train and val cached


def test_every_notebook_follows_the_conventions():
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: exactly one cell tagged 'parameters'"
        inferred = papermill.inspect_notebook(str(path))  # what `papermill --help-notebook` shows
        for name in ("dataset", "data_root", "image_size", "batch_size", "steps", "max_minutes", "lr",
                     "device", "seed"):
            assert name in inferred, f"{path.name}: parameter {name} missing or not parseable by papermill"
        following = nb["cells"][nb["cells"].index(tagged[0]) + 1]
        assert "check_params(" in "".join(following["source"]), f"{path.name}: validate right after parameters"
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(c["execution_count"] for c in code), f"{path.name}: commit it executed (nbval needs outputs)"
        assert any("NBVAL_CHECK_OUTPUT" in "".join(c["source"]) for c in code)
        assert path.stat().st_size < 2_000_000, f"{path.name} is over 2 MB"
        assert "widgets" not in nb["metadata"], f"{path.name}: strip the stored widget state"
        assert '"image/png"' in path.read_text(), f"{path.name}: committed without its figures"


def test_committed_notebooks_hold_no_widget_views():
    for path in NOTEBOOKS:
        text = path.read_text()
        assert "application/vnd.jupyter.widget-view+json" not in text, \
            f"{path.name}: refresh it with tools/refresh_notebooks.py"
