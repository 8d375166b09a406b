"""The fast path: a dataset split stored once at the training size as uint8 arrays.

Decoding a full-size PNG costs milliseconds per image, every epoch.  ``ArrayCache`` decodes
each image once, resizes it to the dataset's ``image_size`` and writes all of them into
two ``.npy`` files (images ``[N, H, W, 3]``, masks ``[N, H, W]``), which are then read
memory-mapped: an item costs a copy from the page cache.

The file names carry a key made of the dataset name, split, size, label options and the
list of source files (names and sizes), so a change to any of them builds a new cache.
Building is resumable (progress is saved every few dozen images) and atomic (the final
files appear by rename only when complete).
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..atomic import write_json
from .paths import data_home

SAVE_EVERY = 64


def default_cache_dir() -> Path:
    """``SEGLIB_CACHE`` if set, else ``data_home() / "cache"``."""
    return Path(os.environ.get("SEGLIB_CACHE") or data_home() / "cache").expanduser()


def cache_key(dataset) -> str:
    """``<name>-<split>-<H>x<W>-<hash>``: the hash covers options and source files."""
    files = [(str(Path(a).relative_to(dataset.root)), Path(a).stat().st_size,
              str(Path(b).relative_to(dataset.root)), Path(b).stat().st_size) for a, b in dataset.files]
    text = json.dumps({"options": dataset.options(), "files": files}, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    height, width = dataset.image_size
    return f"{dataset.name}-{dataset.split}-{height}x{width}-{digest}"


class ArrayCache:
    """``cache[i]`` -> (image uint8 (H, W, 3), mask uint8 (H, W)) of ``dataset`` at its
    ``image_size``; built on first use if missing."""

    def __init__(self, dataset, directory=None):
        self.directory = Path(directory).expanduser() if directory is not None else default_cache_dir()
        key = cache_key(dataset)
        self.images_path = self.directory / f"{key}.images.npy"
        self.masks_path = self.directory / f"{key}.masks.npy"
        self.done_path = self.directory / f"{key}.json"
        self.arrays = None
        if not self.done_path.is_file():
            self.build(dataset)

    def build(self, dataset):
        """Decode, resize and store every item; resume a build that was interrupted."""
        self.directory.mkdir(parents=True, exist_ok=True)
        n, (height, width) = len(dataset), dataset.image_size
        partial_images = self.images_path.with_name(self.images_path.name + ".partial")
        partial_masks = self.masks_path.with_name(self.masks_path.name + ".partial")
        progress = self.done_path.with_name(self.done_path.name + ".partial")
        start = json.loads(progress.read_text())["done"] if progress.is_file() and partial_images.is_file() else 0
        mode = "r+" if start else "w+"
        images = np.lib.format.open_memmap(partial_images, mode, np.uint8, (n, height, width, 3))
        masks = np.lib.format.open_memmap(partial_masks, mode, np.uint8, (n, height, width))
        for index in tqdm(range(start, n), initial=start, total=n, desc=f"caching {dataset.name} {dataset.split}"):
            images[index], masks[index] = dataset.resize(*dataset.load_native(index))
            if (index + 1) % SAVE_EVERY == 0:
                images.flush(), masks.flush()
                write_json(progress, {"done": index + 1})
        images.flush(), masks.flush()
        del images, masks
        os.replace(partial_images, self.images_path)
        os.replace(partial_masks, self.masks_path)
        write_json(self.done_path, {"items": n, "image_size": [height, width], "options": dataset.options()})
        progress.unlink(missing_ok=True)

    def __getitem__(self, index):
        if self.arrays is None:  # opened lazily, so that each DataLoader worker maps its own
            self.arrays = (np.load(self.images_path, mmap_mode="r"), np.load(self.masks_path, mmap_mode="r"))
        images, masks = self.arrays
        return np.array(images[index]), np.array(masks[index])

    def __getstate__(self):
        return {**self.__dict__, "arrays": None}
