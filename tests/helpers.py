"""Test helpers that are plain code rather than fixtures: ``import helpers`` in a test module.

pytest's default ``prepend`` import mode puts ``tests/`` (a rootdir folder without
``__init__.py``) at the front of ``sys.path`` when it imports the test modules and
``tests/conftest.py``, so this module is importable by its bare name, as ``layouts`` is.
Processes spawned by a test (``torch.multiprocessing.spawn``) inherit that ``sys.path``.
Fixtures stay in ``conftest.py``; never ``from conftest import ...`` (two conftest.py files,
the root one and this folder's, share that module name)."""

import numpy as np

from seglib.data import SegmentationDataset


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
