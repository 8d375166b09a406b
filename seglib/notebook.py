"""Helpers every course notebook calls: parameter checks, set-up, the final result line.

The parameter names are shared by all notebooks (and the command line): ``dataset``,
``data_root``, ``image_size`` (height, width), ``batch_size``, ``steps``,
``max_minutes``, ``lr``, ``device``, ``seed``, and ``model`` in the model notebooks.
"""

import numbers
import re

import torch

import math

from .data import get_dataset, list_datasets
from .data.base import check_image_size
from .device import seed_everything, select_device
from .models import create_model, list_models
from .train import fit

DEVICE_NAME = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
SIZE_TEXT = re.compile(r"^\s*[(\[]?\s*(\d+)\s*[,x]\s*(\d+)\s*[)\]]?\s*$")


def parse_size(image_size):
    """``(96, 128)``, ``[96, 128]``, ``"(96, 128)"`` or ``"96x128"`` -> ``(96, 128)``; anything else
    is returned unchanged (and rejected by ``check_params``).  Papermill passes tuples and
    command-line values as strings, hence the text forms."""
    match = SIZE_TEXT.match(image_size) if isinstance(image_size, str) else None
    return (int(match[1]), int(match[2])) if match else image_size


def check_params(*, dataset, data_root=None, image_size, batch_size, steps, max_minutes=None, lr,
                 device="auto", seed=0, model=None, size_divisor=1):
    """Validate notebook parameters; raise one ValueError listing every bad value and what to use.

    Returns the parameters as a dict, with ``image_size`` as a tuple of ints."""
    problems = []
    image_size = parse_size(image_size)

    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    if dataset not in list_datasets():
        problems.append(f"dataset={dataset!r} is unknown; valid names: {', '.join(list_datasets())}")
    if data_root is not None and not isinstance(data_root, str):
        problems.append(f"data_root must be None or a folder path string, got {data_root!r}")
    try:
        check_image_size(image_size)
    except ValueError as error:
        problems.append(str(error))
    else:
        if any(v % size_divisor for v in image_size):
            example = tuple(max(size_divisor, v // size_divisor * size_divisor) for v in image_size)
            problems.append(f"image_size={tuple(image_size)} must be a multiple of {size_divisor} in both "
                            f"height and width for this model, e.g. {example}")
    if not (is_int(batch_size) and batch_size > 0):
        problems.append(f"batch_size must be a positive integer, got {batch_size!r}")
    if not (is_int(steps) and steps > 0):
        problems.append(f"steps must be a positive integer, got {steps!r}")
    if max_minutes is not None and not (isinstance(max_minutes, numbers.Real) and max_minutes > 0):
        problems.append(f"max_minutes must be None or a positive number, got {max_minutes!r}")
    if not (isinstance(lr, numbers.Real) and not isinstance(lr, bool) and 0 < lr < 10):
        problems.append(f"lr must be a positive number (e.g. 1e-3), got {lr!r}")
    if not (isinstance(device, str) and DEVICE_NAME.match(device)):
        problems.append(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}")
    if not is_int(seed):
        problems.append(f"seed must be an integer, got {seed!r}")
    if model is not None and model not in list_models():
        problems.append(f"model={model!r} is unknown; valid names: {', '.join(list_models())}")
    if problems:
        raise ValueError("bad notebook parameter(s):\n  - " + "\n  - ".join(problems))
    return dict(dataset=dataset, data_root=data_root, image_size=tuple(image_size), batch_size=batch_size,
                steps=steps, max_minutes=max_minutes, lr=lr, device=device, seed=seed, model=model)


def setup(seed=0, device="auto", threads=2) -> torch.device:
    """Seed everything and pick the device.  On a CPU, fix the thread count so that results
    (and the outputs nbval compares) do not depend on the machine's core count."""
    seed_everything(seed)
    device = select_device(device)
    if device.type == "cpu":
        torch.set_num_threads(threads)
    return device


def load_data(dataset, data_root=None, image_size=(96, 128), **options):
    """The (train, val) splits a notebook trains and scores on, at ``image_size``.

    A real dataset is cached on first use (decoded and resized once, then read
    memory-mapped: see ``seglib.data.cache``); the synthetic one is drawn on the fly."""
    if dataset != "synthetic":
        options = {"cache": True, **options}
    return tuple(get_dataset(dataset, split, root=data_root, image_size=image_size, **options)
                 for split in ("train", "val"))


def train_model(name, train_data, val_data, params, evaluations=5, fit_options=None, curves=True, **options):
    """Build model ``name`` (``options`` go to ``create_model``) from the notebook's seed and
    train it with the notebook's parameters (steps, batch size, lr, device, time limit) and
    ``fit_options`` (e.g. ``{"loss": "dice"}``); returns ``(model, history)``.  Every
    notebook trains through this, so "the same protocol" means the same code.

    ``curves``: show live training curves (``viz.LiveCurves``) that update after each of
    the ``evaluations``; outside a notebook they draw nothing."""
    fit_options = dict(fit_options or {})
    if curves:
        from .viz import LiveCurves

        fit_options["callbacks"] = [*fit_options.get("callbacks", ()), LiveCurves(title=name)]
    seed_everything(params["seed"])
    model = create_model(name, num_classes=train_data.num_classes, **options)
    history = fit(model, train_data, val_data, steps=params["steps"], max_minutes=params["max_minutes"],
                  batch_size=params["batch_size"], lr=params["lr"], device=params["device"], seed=params["seed"],
                  eval_every=max(1, params["steps"] // evaluations), **fit_options)
    return model, history


def iou_table(results: dict, classes) -> str:
    """Per-class IoU of several runs side by side: ``results`` maps a column name to a
    history record (``history.last``); rows are classes, then mIoU and pixel accuracy."""
    names = list(results)
    width = max(8, *(len(n) for n in names))
    label = max(len(c) for c in classes) + 1
    lines = [" " * label + "".join(f"{n:>{width + 1}}" for n in names)]

    def cell(value):
        return f"{'-' if math.isnan(value) else f'{value:.3f}':>{width + 1}}"

    for c, name in enumerate(classes):
        lines.append(f"{name:>{label}}" + "".join(cell(float(results[n]["iou"][c])) for n in names))
    for key, title in (("miou", "mIoU"), ("pixel_acc", "pixel acc")):
        lines.append(f"{title:>{label}}" + "".join(cell(float(results[n][key])) for n in names))
    return "\n".join(lines)


def report_final(miou: float):
    """Print the line that ``tools/run_notebooks.py`` collects into its summary."""
    print(f"FINAL val mIoU: {miou:.3f}")
