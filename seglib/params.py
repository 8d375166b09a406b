"""The course's run parameters, shared by the notebooks, the command line and the benchmarks.

``dataset``, ``data_root``, ``image_size`` (height, width), ``batch_size``, ``steps``,
``max_minutes``, ``lr``, ``device``, ``seed``, and in the model notebooks ``model`` and
``model_options``: ``create_model`` options keyed by model name, e.g. ``{"deeplabv3plus":
{"backbone": "resnet50"}}`` (``train_model`` applies them to that model).
``check_params`` validates them all at once, so a bad value stops a run at its first cell
with one message that names every problem and what to use instead.
"""

import inspect
import json
import numbers
import re
from collections.abc import Sequence

from . import models
from .data import list_datasets
from .data.base import check_image_size
from .models import MODELS, list_models, size_error

DEVICE_NAME = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
SIZE_TEXT = re.compile(r"^\s*[(\[]?\s*(\d+)\s*[,x]\s*(\d+)\s*[)\]]?\s*$")


def parse_size(image_size):
    """``(96, 128)``, ``[96, 128]``, ``"(96, 128)"`` or ``"96x128"`` -> ``(96, 128)``; anything else
    is returned unchanged (and rejected by ``check_params``).  Papermill passes tuples and
    command-line values as strings, hence the text forms."""
    match = SIZE_TEXT.match(image_size) if isinstance(image_size, str) else None
    return (int(match[1]), int(match[2])) if match else image_size


def parse_seeds(seeds, seed):
    """``seeds`` as a tuple: None -> ``(seed,)``; text as JSON (``"[0, 1]"``) or comma-separated
    (``"0,1"``); anything else unchanged when it is not a list or tuple (``check_params`` names it)."""
    if seeds is None:
        return (seed,)
    if isinstance(seeds, str):
        try:
            seeds = json.loads(seeds if seeds.strip().startswith("[") else f"[{seeds}]")
        except json.JSONDecodeError:
            return seeds
    return tuple(seeds) if isinstance(seeds, (list, tuple)) else seeds


def parse_options(model_options):
    """``model_options`` as a dict: None -> ``{}``; JSON text (papermill's ``-p`` passes text) is
    parsed; anything else is returned unchanged (and checked by ``model_options_problems``)."""
    if model_options is None:
        return {}
    if isinstance(model_options, str):
        try:
            return json.loads(model_options)
        except json.JSONDecodeError:
            return model_options
    return model_options


def option_names(model_class) -> list[str]:
    """The keyword options a model class takes, following ``**options`` up to its base class
    (``FCN8s(num_classes, in_channels, **options)`` passes them on to ``FCN``)."""
    names = []
    for cls in model_class.__mro__:
        if "__init__" not in vars(cls):
            continue
        parameters = inspect.signature(cls.__init__).parameters.values()
        names += [p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                  and p.name not in ("self", "num_classes") and p.name not in names]
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            break
    return names


def model_options_problems(model_options) -> list[str]:
    """What is wrong with ``model_options``: it must map model names to dicts of options that
    the model's constructor takes (``num_classes`` is the dataset's)."""
    if not isinstance(model_options, dict):
        return [f"model_options must be a dict keyed by model name, e.g. "
                f"{{'deeplabv3plus': {{'backbone': 'resnet50'}}}}, got {model_options!r}"]
    problems = []
    for name, options in model_options.items():
        if name not in MODELS:
            problems.append(f"model_options has options for {name!r}, which is not a model; valid names: "
                            f"{', '.join(list_models())} (the options are keyed by model name)")
        elif not isinstance(options, dict):
            problems.append(f"model_options[{name!r}] must be a dict of create_model options, got {options!r}")
        else:
            accepted = option_names(MODELS[name])
            unknown = [key for key in options if key not in accepted]
            if unknown:
                problems.append(f"model_options[{name!r}]: {name} does not take {', '.join(map(repr, unknown))}; "
                                f"it takes {', '.join(accepted)} (num_classes comes from the dataset)")
    return problems


def divisor_of(name: str, model_options) -> int:
    """What model ``name`` needs the image size to be a multiple of, built with its options in
    ``model_options`` when they are valid (bad options are reported on their own)."""
    options = model_options.get(name, {}) if isinstance(model_options, dict) else {}
    try:
        return models.size_divisor(name, **(options if isinstance(options, dict) else {}))
    except TypeError:  # an option the model does not take: model_options_problems names it
        return models.size_divisor(name)


def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_params(*, dataset: str, data_root: str | None = None, image_size: Sequence[int] | str,
                 batch_size: int, steps: int, max_minutes: float | None = None, lr: float, device: str = "auto",
                 seed: int = 0, model: str | None = None, size_divisor: int | None = None,
                 model_options: dict | str | None = None, seeds: Sequence[int] | str | None = None,
                 models: Sequence[str] = ()) -> dict:
    """Validate the run parameters; raise one ValueError listing every bad value and what to use.

    ``image_size`` must suit ``model`` and every name in ``models`` (a notebook that trains
    several), each built with its ``model_options`` (``seglib.models.size_divisor``);
    ``size_divisor`` overrides what the size must be a multiple of.  ``seeds``: the training
    seeds of a notebook that repeats its runs (a list, or papermill's text ``"[0, 1, 2]"`` /
    ``"0,1,2"``); ``(seed,)`` when None.
    Returns the parameters as a dict, ``image_size`` and ``seeds`` as tuples of ints."""
    problems = []
    image_size = parse_size(image_size)
    if dataset not in list_datasets():
        problems.append(f"dataset={dataset!r} is unknown; valid names: {', '.join(list_datasets())}")
    if data_root is not None and not isinstance(data_root, str):
        problems.append(f"data_root must be None or a folder path string, got {data_root!r}")
    model_options = parse_options(model_options)
    names = ([model] if model is not None else []) + list(models)
    unknown = [name for name in names if name not in list_models()]
    for name in unknown:
        problems.append(f"{'model=' if name == model else 'models: '}{name!r} is unknown; "
                        f"valid names: {', '.join(list_models())}")
    try:
        check_image_size(image_size)
    except ValueError as error:
        problems.append(str(error))
    else:
        if size_divisor is None and not unknown:
            size_divisor = max([1] + [divisor_of(name, model_options) for name in names])
        problem = size_error(image_size, size_divisor or 1, " and ".join(names) or "these models")
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
    problems += model_options_problems(model_options)
    seeds = parse_seeds(seeds, seed)
    if not (isinstance(seeds, tuple) and seeds and all(is_int(s) for s in seeds) and len(set(seeds)) == len(seeds)):
        problems.append(f"seeds must be a non-empty list of different integers, e.g. [0, 1, 2], got {seeds!r}")
    if problems:
        raise ValueError("bad parameter(s):\n  - " + "\n  - ".join(problems))
    return dict(dataset=dataset, data_root=data_root, image_size=tuple(image_size), batch_size=batch_size,
                steps=steps, max_minutes=max_minutes, lr=lr, device=device, seed=seed, model=model,
                model_options=model_options, seeds=seeds)
