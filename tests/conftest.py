"""Shared fixtures: a tiny learnable dataset, a tiny model, and the real shared data.

Plain helpers (classes, functions) live in ``tests/helpers.py``: ``import helpers``."""

import os
from pathlib import Path

import pytest
import torch
from helpers import StripesDataset

from seglib.models import create_model


@pytest.fixture
def stripes():
    return StripesDataset


@pytest.fixture
def tiny_unet():
    def build(seed=0, num_classes=3):
        torch.manual_seed(seed)
        return create_model("unet", num_classes=num_classes, base_channels=4, depth=3)
    return build


@pytest.fixture(scope="session")
def shared_data():
    """The real data folder named by SEGLIB_SHARED_DATA (.ci/run sets it).

    Skips when the variable is unset; fails loudly when it is set but the data is missing."""
    root = os.environ.get("SEGLIB_SHARED_DATA")
    if not root:
        pytest.skip("SEGLIB_SHARED_DATA is not set (CI sets it to ../shared/data)")
    root = Path(root)
    if not (root / "README.md").is_file():
        pytest.fail(f"SEGLIB_SHARED_DATA={root} is set but holds no shared data (README.md missing): "
                    "check that ../shared sits beside the clone")
    return root
