"""Training: ``fit`` and the small pieces it is made of.

Read in this order: ``config.py`` (``FitConfig``: every option and what ``"auto"`` means on a
device), ``step.py`` (the learning-rate schedule, the loss, one optimizer step),
``sampler.py`` (the data order), ``history.py``, ``loop.py`` (``fit``), ``recipe.py`` (the
course's training recipe: build a model from a seed and fit it with the shared parameters)
and ``__main__.py``, the command line: ``python -m seglib.train --help``, or
``torchrun --nproc_per_node=2 -m seglib.train ...`` for data-parallel training.
"""

from .config import DeviceSettings, FitConfig, device_settings
from .history import History
from .loop import fit
from .sampler import EpochSampler
from .step import LOSSES, make_loss, make_optimizer, poly_lr

__all__ = ["DeviceSettings", "EpochSampler", "FitConfig", "History", "LOSSES", "device_settings", "fit",
           "make_loss", "make_optimizer", "poly_lr"]
