"""``LiveCurves``: training curves that redraw in place in a notebook while ``fit`` runs."""

from __future__ import annotations  # the hints name matplotlib types, imported only when drawing

from typing import TYPE_CHECKING

from ..train import History
from .plots import plot_history

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def notebook_display():
    """IPython's ``display`` inside a kernel; None elsewhere (a plain script, pytest)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    return display if get_ipython() is not None else None


class LiveCurves:
    """A ``fit`` callback, ``fit(..., callbacks=[LiveCurves()])``: after each evaluation it
    redraws ``plot_history`` as a PNG in one notebook output (``display_id``), so an executed
    notebook keeps a single, final figure.  Outside a notebook it only keeps the history."""

    def __init__(self, title: str | None = None):
        self.title = title
        self.history = History()
        self.handle = None  # the notebook output being updated

    def __call__(self, history: History) -> None:
        if history is not self.history:  # a new run: a new output
            self.history, self.handle = history, None
        display = notebook_display()
        if display is None:
            return
        from IPython.display import Image

        image = Image(data=self.png(), format="png")
        if self.handle is None:
            self.handle = display(image, display_id=True)
        else:
            self.handle.update(image)

    def figure(self) -> Figure:
        """The curves as a matplotlib Figure (not registered with pyplot, so no extra output)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 4))
        FigureCanvasAgg(fig)
        ax, lr_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
        last = self.history.last
        facts = [f"step {last['step']}"] if last else []
        facts += [f"{name} {last[key]:.3f}" for key, name in (("train_loss", "loss"), ("miou", "val mIoU"))
                  if last.get(key) is not None]
        fig.suptitle(": ".join(filter(None, [self.title, ", ".join(facts)])), fontsize=10)
        return plot_history(self.history, ax, lr_ax)

    def png(self) -> bytes:
        from io import BytesIO

        buffer = BytesIO()
        self.figure().savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()
