"""Shared fixtures: a tiny learnable dataset, a tiny model, and the real shared data."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from seglib.data import SegmentationDataset
from seglib.models import create_model


class StripesDataset(SegmentationDataset):
    """Tiny learnable data: the class of a pixel is which third of the image it is in,
    and the image is a noisy colour per class, with a void (255) border."""

    classes = ("left", "middle", "right")
    colors = ((255, 0, 0), (0, 255, 0), (0, 0, 255))

    def __init__(self, length=32, image_size=(32, 32), transform=None, seed=0):
        super().__init__(transform)
        self.length, self.image_size, self.seed = length, image_size, seed

    def __len__(self):
        return self.length

    def load(self, index):
        rng = np.random.default_rng([self.seed, index])
        h, w = self.image_size
        mask = np.repeat(np.minimum(np.arange(w) * 3 // w, 2)[None], h, axis=0).astype(np.uint8)
        mask[0] = 255
        image = np.array(self.colors, dtype=np.float32)[np.minimum(mask, 2)] * 0.5
        image += rng.normal(0, 40, image.shape)
        return np.clip(image, 0, 255).astype(np.uint8), mask


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
