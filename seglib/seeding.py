"""Seeds: the one rule for where randomness starts, so that a run repeats exactly.

* ``seed_everything(seed)`` seeds Python, NumPy and torch.  A notebook calls it in its set-up,
  and the training recipe calls it again right before building each model, so a model's
  initial weights depend on the seed alone (not on what ran before).
* ``fit`` seeds torch with its ``seed`` before training (dropout and other randomness inside
  the model) and derives every other stream it needs from it with ``derived_seed``:
  the data order of epoch ``e`` (``EpochSampler``) and the batch augmentation of step ``s``.
"""

import random

import numpy as np
import torch

SEED_STRIDE = 1_000_003  # a prime: derived seeds of nearby seeds do not collide


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def derived_seed(seed: int, index: int) -> int:
    """The seed of stream ``index`` (an epoch, a step) of a run seeded with ``seed``."""
    return seed * SEED_STRIDE + index
