"""A cache of trained models, keyed by everything that decides the result.

Training the same model with the same recipe twice gives the same weights on the same
machine (``seglib.seeding``), so the second time can load the first one's. The key is a hash
of the whole recipe: the model's name and options, the train and val data (their kind, size,
classes and a few items' bytes), every ``fit`` option, the number of evaluations, the device
type, the CPU thread count, the torch version and a hash of seglib's own source code. A
change to any of them, a library edit included, is a different key: a stale model is never
served. Runs limited by wall-clock time, runs that write their own checkpoint and runs with
a callable the key cannot name (a lambda, a local function) are never cached.

An entry is one file ``<key>.pt`` (written atomically) with the weights, the history and
the random-number state at the end of training, which a hit restores too, so the cells after
a cached training print what they would after a real one.

Where: ``$SEGLIB_TRAINING_CACHE`` (a folder; ``off`` disables the cache), else
``~/.cache/seglib/training``. ``make run`` uses ``runs/cache`` (git-ignored); the test suite a
fresh folder per session. Delete the folder to empty the cache.
"""

import hashlib
import json
import os
import random
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..atomic import atomic_write
from .config import FitConfig, plain
from .history import History

ENVIRONMENT_VARIABLE = "SEGLIB_TRAINING_CACHE"
SOURCE_ROOT = Path(__file__).resolve().parents[1]  # the seglib package
NOT_IN_KEY = ("callbacks", "progress")  # what does not change the trained weights
NEVER_CACHED = ("max_minutes", "checkpoint")  # wall-clock limits and runs that save their own files


class Uncacheable(ValueError):
    """A recipe the cache cannot name exactly (so it must train)."""


def default_cache_folder() -> Path | None:
    """``$SEGLIB_TRAINING_CACHE``, ``None`` when it is ``off`` (or empty), else ``~/.cache/seglib/training``."""
    folder = os.environ.get(ENVIRONMENT_VARIABLE)
    if folder is None:
        return Path.home() / ".cache" / "seglib" / "training"
    return None if folder.strip().lower() in ("", "off", "0", "false", "no") else Path(folder)


@lru_cache(maxsize=1)
def source_hash() -> str:
    """A hash of every ``.py`` file of seglib (paths and contents): any library edit changes it."""
    digest = hashlib.sha256()
    for path in sorted(SOURCE_ROOT.rglob("*.py")):
        digest.update(str(path.relative_to(SOURCE_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(value):
    """``value`` as plain JSON data that names it exactly; ``Uncacheable`` when that is impossible."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, torch.Tensor):
        return {"tensor": hashlib.sha256(value.detach().cpu().contiguous().numpy().tobytes()).hexdigest(),
                "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, np.ndarray):
        return fingerprint(torch.from_numpy(np.ascontiguousarray(value)))
    if isinstance(value, dict):
        return {str(k): fingerprint(v) for k, v in sorted(value.items(), key=lambda item: str(item[0]))}
    if isinstance(value, (list, tuple)):
        return [fingerprint(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    qualname = getattr(value, "__qualname__", None) or type(value).__qualname__
    if "<" in qualname:  # <lambda>, <locals>: two different ones can share the name
        raise Uncacheable(f"cannot name {qualname} exactly")
    name = f"{getattr(value, '__module__', None) or type(value).__module__}.{qualname}"
    if callable(value) and not hasattr(value, "__dict__"):
        return name  # a builtin
    if isinstance(value, type) or hasattr(value, "__code__"):
        return name  # a class or a module-level function
    return {"object": name, "state": fingerprint(vars(value))}


def dataset_fingerprint(dataset) -> dict | None:
    """What identifies a dataset: its class, length, size, classes, and the bytes of its first,
    middle and last items."""
    if dataset is None:
        return None
    items = sorted({0, len(dataset) // 2, len(dataset) - 1})
    return {"type": f"{type(dataset).__module__}.{type(dataset).__qualname__}", "length": len(dataset),
            "image_size": fingerprint(getattr(dataset, "image_size", None)),
            "classes": fingerprint(list(getattr(dataset, "classes", []) or [])),
            "items": [fingerprint(list(dataset[i])) for i in items]}


def recipe_key(name: str, options: dict, train_data, val_data, config: FitConfig, evaluations: int,
               device: torch.device) -> str | None:
    """The cache key of one training run, or ``None`` when the run must not be cached."""
    fields = {k: v for k, v in vars(config).items() if k not in NOT_IN_KEY}
    if any(fields[k] is not None for k in NEVER_CACHED):
        return None
    try:
        recipe = {"model": name, "options": fingerprint(options), "fit": fingerprint(fields),
                  "evaluations": evaluations, "train": dataset_fingerprint(train_data),
                  "val": dataset_fingerprint(val_data), "device": device.type,
                  "threads": torch.get_num_threads(), "torch": torch.__version__, "seglib": source_hash()}
    except Uncacheable:
        return None
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:32]


def random_state() -> dict:
    """Python's, NumPy's and torch's random state, as tensors and plain values."""
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    return {"torch": torch.get_rng_state(), "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), position,
                                                      has_gauss, gauss],
            "python": plain(random.getstate())}


def set_random_state(state: dict) -> None:
    kind, keys, position, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))


class TrainingCache:
    """Trained models in ``folder``, one file per recipe key."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.pt"

    def load(self, key: str, model: nn.Module) -> History | None:
        """Load the entry ``key`` into ``model`` and restore the random state; its ``History``,
        or ``None`` when there is no such entry (or it cannot be read)."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            entry = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(entry["model"])
        except Exception:  # a file from an interrupted or older run: train again, and overwrite it
            return None
        set_random_state(entry["random_state"])
        history = History(entry["history"])
        history.stopped = entry.get("stopped")
        return history

    def save(self, key: str, model: nn.Module, history: History) -> None:
        """Store ``model``'s weights, ``history`` and the random state now, atomically."""
        entry = {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                 "history": plain(history.records), "stopped": history.stopped, "random_state": random_state()}
        atomic_write(self.path(key), lambda f: torch.save(entry, f))


def cached_fit(train: Callable[[], History], model: nn.Module, key: str | None, cache: TrainingCache | None,
               device: torch.device, callbacks=(), channels_last: bool = False) -> History:
    """``train()`` (which fits ``model``), unless ``cache`` holds ``key``: then ``model`` gets the
    cached weights on ``device`` (in the layout ``fit`` leaves it in) in training mode, and
    each callback is called once with the cached history. Stores a fresh result."""
    if cache is None or key is None:
        return train()
    history = cache.load(key, model)
    if history is None:
        history = train()
        cache.save(key, model, history)
        return history
    model.to(device, memory_format=torch.channels_last if channels_last else torch.preserve_format).train()
    print(f"{model.config['name'] if hasattr(model, 'config') else type(model).__name__}: "
          f"trained before with this exact recipe, loaded from the training cache")
    for callback in callbacks:
        callback(history)
    return history
