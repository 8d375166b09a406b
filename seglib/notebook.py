"""What the course notebooks import: one line brings every helper a notebook calls.

``check_params`` and ``parse_size`` (``seglib.params``), ``load_data`` and ``train_model``
(``seglib.train.recipe``; here with live training curves), ``setup``, ``iou_table``,
``show_source`` and ``report_final``, the line ``tools/run_notebooks.py`` collects.
"""

import inspect
import math

import torch

from .device import select_device
from .params import check_params, parse_size
from .seeding import seed_everything
from .train import recipe
from .train.recipe import fit_config, load_data

__all__ = ["check_params", "fit_config", "iou_table", "load_data", "parse_size", "report_final", "setup", "show_source",
           "train_model"]


def setup(seed: int = 0, device: str = "auto", threads: int = 2) -> torch.device:
    """Seed everything and pick the device.  On a CPU, fix the thread count so that results
    (and the outputs nbval compares) do not depend on the machine's core count."""
    seed_everything(seed)
    device = select_device(device)
    if device.type == "cpu":
        torch.set_num_threads(threads)
    return device


def train_model(name: str, train_data, val_data, params: dict, evaluations: int = 5, fit_options=None,
                curves: bool = True, curve_items: int | None = 25, label: str | None = None, **options):
    """``seglib.train.recipe.train_model`` with the notebooks' live training curves: with
    ``curves=True`` a ``viz.LiveCurves`` figure titled ``label`` (the run's name; ``name`` by
    default) updates after each of the ``evaluations`` (outside a notebook it draws nothing).
    The evaluations before the last score the first ``curve_items`` val images, a cheap curve;
    the last scores them all.  Returns ``(model, history)``."""
    callbacks = ()
    if curves:
        from .viz import LiveCurves

        callbacks = (LiveCurves(title=label or name),)
    return recipe.train_model(name, train_data, val_data, params, evaluations, fit_options, callbacks,
                              curve_items, **options)


def iou_table(results: dict, classes, columns: int = 5) -> str:
    """Per-class IoU of several runs side by side: ``results`` maps a column name to a
    history record (``history.last``); rows are classes, then mIoU and pixel accuracy.  More
    than ``columns`` runs are split into tables of at most ``columns``, one under the other,
    so that the text never wraps."""
    names = list(results)
    if len(names) > columns:
        blocks = [names[i:i + columns] for i in range(0, len(names), columns)]
        return "\n\n".join(iou_table({n: results[n] for n in block}, classes, columns) for block in blocks)
    width = max(8, *(len(n) for n in names))
    label = max(len(c) for c in [*classes, "pixel acc"]) + 1
    lines = [" " * label + "".join(f"{n:>{width + 1}}" for n in names)]

    def cell(value):
        return f"{'-' if math.isnan(value) else f'{value:.3f}':>{width + 1}}"

    for c, name in enumerate(classes):
        lines.append(f"{name:>{label}}" + "".join(cell(float(results[n]["iou"][c])) for n in names))
    for key, title in (("miou", "mIoU"), ("pixel_acc", "pixel acc")):
        lines.append(f"{title:>{label}}" + "".join(cell(float(results[n][key])) for n in names))
    return "\n".join(lines)


def report_final(miou: float) -> None:
    """Print the line that ``tools/run_notebooks.py`` collects into its summary."""
    print(f"FINAL val mIoU: {miou:.3f}")


def show_source(*objects):
    """The source of classes or functions, read from the files that run, as one ``python``
    block in a Markdown output (JupyterLab and the course website both highlight it)."""
    from IPython.display import Markdown

    source = "\n\n".join(inspect.getsource(obj) for obj in objects)
    return Markdown(f"```python\n{source}```")
