"""LiveCurves: one notebook output updated in place, and silent outside a notebook."""

import base64

import matplotlib

matplotlib.use("Agg")

import IPython  # noqa: E402
import IPython.display  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from seglib import History, fit  # noqa: E402
from seglib.viz import LiveCurves  # noqa: E402


class FakeHandle:
    def __init__(self, shown):
        self.shown = [shown]

    def update(self, shown):
        self.shown.append(shown)


@pytest.fixture
def fake_notebook(monkeypatch):
    """Pretend to run in a kernel; returns the list of handles that ``display`` gave out."""
    handles = []

    def display(obj, display_id=None):
        assert display_id is True
        handles.append(FakeHandle(obj))
        return handles[-1]

    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", display)
    return handles


def record(step):
    return {"step": step, "lr": 1e-3 / step, "train_loss": 1 / step, "miou": step / 100, "pixel_acc": step / 90}


def lines_by_label(fig):
    return {line.get_label(): line for ax in fig.axes for line in ax.lines}


def test_three_evaluations_make_one_display_and_two_updates(fake_notebook):
    curves, history = LiveCurves(title="run"), History()
    for step in (10, 20, 30):
        history.records.append(record(step))
        curves(history)
    assert len(fake_notebook) == 1
    shown = fake_notebook[0].shown
    assert len(shown) == 3 and all(image.data.startswith(b"\x89PNG") for image in shown)
    lines = lines_by_label(curves.figure())
    assert lines["val mIoU"].get_xdata().tolist() == [10, 20, 30]
    assert lines["learning rate"].get_ydata().tolist() == history["lr"]
    assert plt.get_fignums() == []  # nothing left for the inline backend to show again


def test_a_new_run_gets_a_new_output(fake_notebook):
    curves = LiveCurves()
    for _ in range(2):
        curves(History([record(1)]))
    assert len(fake_notebook) == 2


def test_fit_with_live_curves_outside_a_notebook(stripes, tiny_unet):
    curves = LiveCurves()
    data = stripes(length=8, image_size=(32, 32))
    history = fit(tiny_unet(), data, data, steps=4, batch_size=4, eval_every=2, device="cpu",
                  progress=False, callbacks=[curves])
    assert curves.history is history and curves.handle is None
    assert lines_by_label(curves.figure())["train loss"].get_xdata().tolist() == [2, 4]


@pytest.mark.slow
def test_an_executed_notebook_keeps_one_final_figure(tmp_path):
    final = tmp_path / "final.png"
    code = ("from pathlib import Path\nfrom seglib import History\nfrom seglib.viz import LiveCurves\n"
            "curves, history = LiveCurves(), History()\n"
            "for step in (10, 20, 30):\n"
            "    history.records.append({'step': step, 'lr': 1e-3 / step, 'train_loss': 1 / step,"
            " 'miou': step / 100, 'pixel_acc': step / 90})\n"
            "    curves(history)\n"
            f"_ = Path({str(final)!r}).write_bytes(curves.png())\n")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    assert len(outputs) == 1 and outputs[0].output_type == "display_data"
    assert base64.b64decode(outputs[0].data["image/png"]) == final.read_bytes()  # the last picture
