"""Training: ``fit`` and the small pieces it is made of.

Read in this order: ``step.py`` (the learning-rate schedule, the loss, one optimizer
step), ``sampler.py`` (the data order), ``history.py``, ``loop.py`` (``fit``), and
``__main__.py``, the command line: ``python -m seglib.train --help``, or
``torchrun --nproc_per_node=2 -m seglib.train ...`` for data-parallel training.
"""

from .history import History
from .loop import RUN_KEYS, check_size, fit, raise_not_finite, restore
from .sampler import EpochSampler
from .step import LOSSES, make_loss, make_optimizer, poly_lr, train_step

__all__ = ["EpochSampler", "History", "LOSSES", "RUN_KEYS", "check_size", "fit", "make_loss", "make_optimizer",
           "poly_lr", "raise_not_finite", "restore", "train_step"]
