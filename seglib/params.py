"""The course's run parameters, shared by the notebooks, the command line and the benchmarks.

``dataset``, ``data_root``, ``image_size`` (height, width), ``batch_size``, ``steps``,
``max_minutes``, ``lr``, ``device``, ``seed``, and ``model`` in the model notebooks.
``check_params`` validates them all at once, so a bad value stops a run at its first cell
with one message that names every problem and what to use instead.
"""

import numbers
import re
from collections.abc import Sequence

from . import models
from .data import list_datasets
from .data.base import check_image_size
from .models import list_models, size_error

DEVICE_NAME = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
SIZE_TEXT = re.compile(r"^\s*[(\[]?\s*(\d+)\s*[,x]\s*(\d+)\s*[)\]]?\s*$")


def parse_size(image_size):
    """``(96, 128)``, ``[96, 128]``, ``"(96, 128)"`` or ``"96x128"`` -> ``(96, 128)``; anything else
    is returned unchanged (and rejected by ``check_params``).  Papermill passes tuples and
    command-line values as strings, hence the text forms."""
    match = SIZE_TEXT.match(image_size) if isinstance(image_size, str) else None
    return (int(match[1]), int(match[2])) if match else image_size


def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_params(*, dataset: str, data_root: str | None = None, image_size: Sequence[int] | str,
                 batch_size: int, steps: int, max_minutes: float | None = None, lr: float, device: str = "auto",
                 seed: int = 0, model: str | None = None, size_divisor: int | None = None) -> dict:
    """Validate the run parameters; raise one ValueError listing every bad value and what to use.

    ``image_size`` must suit ``model`` (``seglib.models.size_divisor``); ``size_divisor``
    overrides what the size must be a multiple of (a notebook that trains several models
    passes the largest).  Returns the parameters as a dict, ``image_size`` as a tuple of ints."""
    problems = []
    image_size = parse_size(image_size)
    if dataset not in list_datasets():
        problems.append(f"dataset={dataset!r} is unknown; valid names: {', '.join(list_datasets())}")
    if data_root is not None and not isinstance(data_root, str):
        problems.append(f"data_root must be None or a folder path string, got {data_root!r}")
    known_model = model is None or model in list_models()
    if not known_model:
        problems.append(f"model={model!r} is unknown; valid names: {', '.join(list_models())}")
    try:
        check_image_size(image_size)
    except ValueError as error:
        problems.append(str(error))
    else:
        if size_divisor is None:
            size_divisor = models.size_divisor(model) if model is not None and known_model else 1
        problem = size_error(image_size, size_divisor, model or "these models")
        if problem:
            problems.append(problem)
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
    if problems:
        raise ValueError("bad parameter(s):\n  - " + "\n  - ".join(problems))
    return dict(dataset=dataset, data_root=data_root, image_size=tuple(image_size), batch_size=batch_size,
                steps=steps, max_minutes=max_minutes, lr=lr, device=device, seed=seed, model=model)
