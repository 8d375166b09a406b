"""The course's training recipe: the data a run uses, and one model built from the seed and
trained with the shared run parameters (``seglib.params``).  The notebooks and the command
line train through it, so "the same protocol" means the same code, and a model trained
once with a recipe is loaded from the training cache (``cache.py``) the next time any
notebook asks for that same recipe."""

from collections.abc import Callable, Sequence

from torch import nn

from ..data import get_dataset
from ..device import select_device
from ..distributed import world_size
from ..models import create_model
from ..seeding import seed_everything
from .cache import TrainingCache, cached_fit, default_cache_folder, recipe_key
from .config import FitConfig, device_settings
from .history import History
from .loop import fit


def load_data(dataset: str, data_root: str | None = None, image_size: tuple[int, int] = (96, 128), **options):
    """The (train, val) splits a run trains and scores on, at ``image_size``.

    A real dataset is cached on first use (decoded and resized once, then read
    memory-mapped: see ``seglib.data.cache``); the synthetic one is drawn on the fly."""
    if dataset != "synthetic":
        options = {"cache": True, **options}
    return tuple(get_dataset(dataset, split, root=data_root, image_size=image_size, **options)
                 for split in ("train", "val"))


def train_model(name: str, train_data, val_data, params: dict, evaluations: int = 5,
                fit_options: dict | None = None, callbacks: Sequence[Callable[[History], None]] = (),
                curve_items: int | None = None, cache: bool = True, **options) -> tuple[nn.Module, History]:
    """Build model ``name`` right after seeding with ``params["seed"]``, and ``fit`` it with the
    run parameters (steps, batch size, lr, device, time limit), ``evaluations`` evaluations
    spread over the run (all but the last on the first ``curve_items`` val items, when given),
    the ``callbacks`` and ``fit_options`` (any ``FitConfig`` field, e.g. ``{"loss": "dice"}``).
    ``create_model`` gets ``params["model_options"][name]`` (the run's options for this model,
    if any) updated with ``options``.  With ``cache`` a run whose whole recipe was trained
    before loads that result from the training cache (``seglib.train.cache``) instead of
    training again.  Returns ``(model, history)``."""
    fit_options = dict(fit_options or {})
    fit_options["callbacks"] = [*fit_options.get("callbacks", ()), *callbacks]
    options = {**(params.get("model_options") or {}).get(name, {}), **options}
    config = fit_config(params, evaluations).with_options(eval_items=curve_items, **fit_options)
    device = select_device(config.device)
    folder = default_cache_folder() if cache and world_size() == 1 else None
    key = folder and recipe_key(name, options, train_data, val_data, config, evaluations, device)
    seed_everything(params["seed"])  # the initial weights depend on the seed alone
    model = create_model(name, num_classes=train_data.num_classes, **options)
    history = cached_fit(lambda: fit(model, train_data, val_data, config), model, key,
                         folder and TrainingCache(folder), device, config.callbacks,
                         channels_last=device_settings(config, device).channels_last)
    return model, history


def fit_config(params: dict, evaluations: int = 5) -> FitConfig:
    """The ``FitConfig`` of the run parameters (steps, batch size, lr, device, seed, time
    limit) with ``evaluations`` evaluations spread over the run: ``fit(model, train, val,
    fit_config(params))`` trains a model built elsewhere (fine-tuning) under the same protocol."""
    return FitConfig(steps=params["steps"], max_minutes=params["max_minutes"], batch_size=params["batch_size"],
                     lr=params["lr"], device=params["device"], seed=params["seed"],
                     eval_every=max(1, params["steps"] // evaluations))
