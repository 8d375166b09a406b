"""Papermill runs of the notebooks with tiny non-default parameters, and the runner's contract.

nbval (configured in pyproject.toml) is the only full execution of every notebook in the
suite.  Each papermill run starts a kernel, so only a few run here: ``tools/run_notebooks.py``
on the two cheapest notebooks with tiny parameters (parameters injected, the summary line,
the final mIoU read back), one bad parameter end to end (``check_params`` itself is unit
tested in test_params.py), and notebook 00 on the real CamVid.  The runner's summary and
exit status on a failing notebook are checked without a kernel.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import layouts
import nbformat
import papermill
import pytest
from papermill.translators import PythonTranslator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
TINY = {"steps": 3, "image_size": (32, 64), "batch_size": 4, "seed": 1}  # a multiple of 32: FCN
CHEAPEST = ["03_inception_unet.ipynb", "05_deeplab_pspnet.ipynb"]  # about 10-15 s each with TINY


def outputs_text(notebook_path):
    cells = json.loads(Path(notebook_path).read_text())["cells"]
    return "\n".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))


def summary_rows(out):
    """``{notebook: (seconds, final mIoU column)}`` from the table run_notebooks prints last."""
    table = out[out.index("\nnotebook "):].strip().splitlines()[1:]
    return {name: (int(seconds), shown) for name, seconds, shown in (row.split() for row in table)}


@pytest.mark.slow
def test_runner_executes_notebooks_with_tiny_parameters(tmp_path, capfd):
    args = [arg for name, value in TINY.items() for arg in ("-p", name, repr(value))]
    notebooks = [str(ROOT / "notebooks" / name) for name in CHEAPEST]
    assert run_notebooks.main(notebooks + args + ["--output-dir", str(tmp_path)]) == 0
    out, err = capfd.readouterr()  # the kernels' output too
    assert "without encryption" not in out + err  # ipykernel's start-up warning is not printed
    assert re.search(r"03_inception_unet.ipynb: +100%.*cell", out)  # a progress bar per notebook
    assert f"running 2 notebook(s) into {tmp_path} with {TINY}" in out
    rows = summary_rows(out)
    assert list(rows) == CHEAPEST
    for name in CHEAPEST:
        executed = tmp_path / name
        text = outputs_text(executed)
        assert "FINAL val mIoU: " in text
        assert "val images at (32, 64)" in text  # the parameters reached the notebook's data
        miou = run_notebooks.final_miou(executed)
        assert 0 <= miou <= 1
        assert rows[name][1] == f"{miou:.3f}"  # the summary line
        cells = json.loads(executed.read_text())["cells"]
        params = next(c for c in cells if "injected-parameters" in c["metadata"].get("tags", []))
        injected = "".join(params["source"])
        for key, value in TINY.items():  # as papermill writes them: the tuple as a string, which
            assert f"{key} = {PythonTranslator.translate(value)}" in injected  # check_params parses
        # the injected cell comes right after the notebook's own parameters, before check_params
        index = cells.index(params)
        assert "parameters" in cells[index - 1]["metadata"].get("tags", [])
        assert "check_params(" in "".join(cells[index + 1]["source"])


@pytest.mark.slow
def test_a_bad_parameter_stops_the_notebook_with_a_clear_message(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as error:
        papermill.execute_notebook(str(NOTEBOOKS[0]), str(tmp_path / "out.ipynb"), parameters={"dataset": "cityscape"},
                                   kernel_name="python3", cwd=str(tmp_path), progress_bar=False)
    message = str(error.value)
    assert "ValueError" in message and "bad parameter" in message
    assert "dataset='cityscape' is unknown; valid names: camseq, camvid, camvid32, cityscapes" in message
    executed = json.loads((tmp_path / "out.ipynb").read_text())["cells"]
    assert not any("FINAL val mIoU" in "".join(o.get("text", "")) for c in executed for o in c.get("outputs", []))


def fake_execute(results):
    """A stand-in for papermill.execute_notebook: writes an executed copy that prints
    ``results[name]`` as the final line, or raises when that is an exception."""
    def execute(notebook, output, parameters, **options):
        result = results[Path(notebook).name]
        nb = nbformat.v4.new_notebook()
        text = f"steps={parameters.get('steps')}\nFINAL val mIoU: {result}\n"
        nb.cells = [nbformat.v4.new_code_cell("report_final()", outputs=[nbformat.v4.new_output("stream", text=text)])]
        if isinstance(result, Exception):
            nb.cells[0].outputs = []
            nbformat.write(nb, output)
            raise result
        nbformat.write(nb, output)
    return execute


def test_runner_summary_and_exit_status_without_a_kernel(tmp_path, monkeypatch, capsys):
    results = {"a.ipynb": "0.512", "b.ipynb": RuntimeError("cell 3 failed\nKeyError: 'x'"), "c.ipynb": "nan"}
    monkeypatch.setattr(papermill, "execute_notebook", fake_execute(results))
    paths = [str(tmp_path / name) for name in results]
    assert run_notebooks.main(paths + ["-p", "steps", "2", "--output-dir", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert "running 3 notebook(s)" in out and "with {'steps': 2}" in out
    assert "b.ipynb: 0 s, FAILED RuntimeError: KeyError: 'x'" in out  # the error's last line
    rows = summary_rows(out)
    assert {name: shown for name, (_, shown) in rows.items()} == {"a.ipynb": "0.512", "b.ipynb": "FAILED",
                                                                  "c.ipynb": "nan"}
    assert run_notebooks.final_miou(tmp_path / "out" / "a.ipynb") == 0.512
    assert run_notebooks.parse_value("(32, 64)") == (32, 64) and run_notebooks.parse_value("camvid") == "camvid"


def test_runner_skips_a_real_data_notebook_whose_data_is_missing(tmp_path, monkeypatch, capsys):
    notebook = nbformat.v4.new_notebook(metadata={"seglib": {"dataset": "camvid"}})
    nbformat.write(notebook, tmp_path / "07.ipynb")
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "a.ipynb")
    monkeypatch.setattr(papermill, "execute_notebook", fake_execute({"a.ipynb": "0.5", "07.ipynb": "0.4"}))
    monkeypatch.setenv("SEGLIB_DATA", str(tmp_path / "empty"))
    monkeypatch.delenv("SEGLIB_CAMVID", raising=False)
    paths = [str(tmp_path / "a.ipynb"), str(tmp_path / "07.ipynb")]
    assert run_notebooks.main(paths + ["--output-dir", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "07.ipynb: skipped: CamVid not found; get it with python data_scripts/get_data.py camvid" in out
    assert summary_rows(out) == {"a.ipynb": (0, "0.500"), "07.ipynb": (0, "skipped")}
    # the variable set (as CI sets it) or a data_root given: it runs, and a wrong folder would fail there
    monkeypatch.setenv("SEGLIB_CAMVID", str(tmp_path / "nowhere"))
    assert run_notebooks.main(paths[1:] + ["--output-dir", str(tmp_path / "out")]) == 0
    assert "skipped" not in capsys.readouterr().out
    monkeypatch.delenv("SEGLIB_CAMVID")
    layouts.make_camvid(tmp_path / "empty" / "camvid")  # the default folder
    assert run_notebooks.skip_reason(tmp_path / "07.ipynb", {}) is None


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
        if not path.name.startswith("00_"):  # every model notebook takes create_model options by model name
            assert "model_options" in inferred, f"{path.name}: parameter model_options missing"
            assert "model_options=model_options" in "".join(following["source"]), f"{path.name}: check model_options"
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(c["execution_count"] for c in code), f"{path.name}: commit it executed (nbval needs outputs)"
        checked = [c for c in code if "nbval-check-output" in c["metadata"].get("tags", [])]
        assert checked, f"{path.name}: no cell tagged nbval-check-output"
        assert not any("NBVAL_CHECK_OUTPUT" in "".join(c["source"]) for c in code), \
            f"{path.name}: mark checked cells with the nbval-check-output tag, not a comment"
        # The suite's facts about a training run sit in collapsed cells, out of the student's reading path.
        for cell in checked:
            source = "".join(cell["source"])
            facts = "course-facts" in cell["metadata"].get("tags", [])
            if "nbgrader" not in cell["metadata"] and re.search(r"STATED|\.last\[|histor", source):
                assert facts, f"{path.name}: a checked fact about training outside a course-facts cell: {source[:80]}"
            if facts:
                assert cell["metadata"].get("jupyter") == {"source_hidden": True, "outputs_hidden": True}, \
                    f"{path.name}: a course-facts cell must be collapsed (source and outputs hidden)"
        assert path.stat().st_size < 2_000_000, f"{path.name} is over 2 MB"
        assert "widgets" not in nb["metadata"], f"{path.name}: strip the stored widget state"
        assert '"image/png"' in path.read_text(), f"{path.name}: committed without its figures"


def test_committed_notebooks_hold_no_widget_views():
    for path in NOTEBOOKS:
        text = path.read_text()
        assert "application/vnd.jupyter.widget-view+json" not in text, \
            f"{path.name}: refresh it with tools/refresh_notebooks.py"


def test_runner_gives_the_notebooks_one_training_cache_and_can_empty_it(tmp_path, monkeypatch):
    seen = []

    def execute(notebook, output, parameters, **options):
        seen.append(os.environ["SEGLIB_TRAINING_CACHE"])  # what the kernel papermill starts inherits
        return fake_execute({"a.ipynb": "0.5"})(notebook, output, parameters, **options)

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    monkeypatch.setenv("SEGLIB_TRAINING_CACHE", str(tmp_path / "session"))
    cache = tmp_path / "cache"
    (cache / "old").mkdir(parents=True)
    arguments = [str(tmp_path / "a.ipynb"), "--output-dir", str(tmp_path / "out"), "--training-cache", str(cache)]
    assert run_notebooks.main(arguments) == 0 and (cache / "old").exists()  # kept between runs
    assert run_notebooks.main(arguments + ["--fresh-cache"]) == 0 and not cache.exists()  # emptied first
    assert seen == [str(cache), str(cache)]


@pytest.mark.slow
def test_07s_data_cells_print_what_is_committed_with_an_empty_data_cache(shared_data, tmp_path):
    """A student's first run builds the CamVid cache: nbval must find the same checked outputs
    then (a cache build's progress bar inside a checked cell once added an output)."""
    nb = nbformat.read(ROOT / "notebooks" / "07_camvid.ipynb", as_version=4)
    last = next(i for i, c in enumerate(nb.cells) if "reference_frame_gaps(" in c.source)  # before training
    nb.cells = nb.cells[:last + 1]
    checked = [c for c in nb.cells if "nbval-check-output" in c.metadata.get("tags", [])]
    assert len(checked) >= 3  # the class shares, an exercise's check, the frame gaps
    head = tmp_path / "07_data_cells.ipynb"
    nbformat.write(nb, head)
    cache, home = tmp_path / "cache", tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "SEGLIB_CACHE": str(cache), "HOME": str(home),
           "SEGLIB_CAMVID": str(shared_data / "camvid11"), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
                           "--nbval-lax", "--nbval-current-env", f"--nbval-sanitize-with={ROOT / 'nbval_sanitize.cfg'}",
                           "--rootdir", str(tmp_path), str(head)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:]
    assert f"{len([c for c in nb.cells if c.cell_type == 'code'])} passed" in done.stdout
    built = sorted(p.name.split("-")[1] for p in cache.glob("camvid-*-176x240-*.images.npy"))
    assert built == ["held_out", "train", "train", "val"], built  # the cache was empty: every split built
