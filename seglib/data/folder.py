"""``FileDataset``: the base of every real dataset, a list of (image file, label file) pairs.

A subclass says where its files are (``find_files``) and how to read a label file
(``read_label``); this class does the rest: a clear error when the folder is missing or
laid out differently, decoding, the image/label size check, resizing to ``image_size``,
augmentation, and the optional uint8 cache (``cache=True``) that skips decoding.
"""

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from .base import SegmentationDataset, check_image_size
from .cache import ArrayCache
from .files import check_same_size, read_image
from .paths import DatasetNotFoundError, data_home, dataset_root, get_data_command
from .transforms import train_transform


class FileDataset(SegmentationDataset):
    """A dataset read from files.

    ``split``: one of ``splits``.  ``root``: the dataset's folder (default
    ``data_home() / name``).  ``image_size``: (H, W) every item is resized to (labels with
    nearest neighbour); None keeps the native size.  ``augment``: random scale / crop /
    flip / colour jitter at ``image_size``.  ``cache``: store the split once at
    ``image_size`` as uint8 arrays in ``cache_dir`` and read them back memory-mapped.
    ``load(i)`` gives the raw item at ``image_size``; ``load_native(i)`` at the file's size.
    """

    name = ""           # registry name
    title = ""          # human name for messages
    layout = ""         # the expected files, for the "not found" message
    script = ""         # the data_scripts/get_data.py argument that fetches it
    subfolders = ()     # where inside ``root`` the dataset may sit (archives nest it)

    def __init__(self, split: str, root: str | Path | None = None, image_size: tuple[int, int] | None = None,
                 augment: bool = False, transform: Callable | None = None, cache: bool = False,
                 cache_dir: str | Path | None = None):
        self.split = split
        self.given_root = dataset_root(self.name, root)
        self.root = self.find_root(self.given_root)
        self.image_size = None if image_size is None else check_image_size(image_size)
        self.files = self.find_files(split)
        if not self.files:
            raise self.not_found(f"the {split} split of {self.title} has no images")
        if transform is None and augment:
            transform = train_transform(self.require_size("augment=True"))
        super().__init__(transform)
        self.cache = None
        if cache:
            self.require_size("cache=True")
            self.cache = ArrayCache(self, cache_dir)

    # -- what a subclass provides ------------------------------------------------------------
    def is_root(self, folder: Path) -> bool:
        """Whether ``folder`` holds the dataset."""
        raise NotImplementedError

    def find_files(self, split) -> list[tuple[Path, Path]]:
        """The (image, label) file pairs of ``split``, in a fixed order."""
        raise NotImplementedError

    def read_label(self, path) -> np.ndarray:
        """A label file -> uint8 class indices (H, W), 255 for ignore."""
        raise NotImplementedError

    def options(self) -> dict:
        """The options that change the labels (part of the cache key)."""
        return {}

    # -- shared behaviour ----------------------------------------------------------------------
    def __len__(self):
        return len(self.files)

    def __repr__(self):
        size = "native size" if self.image_size is None else "x".join(map(str, self.image_size))
        return (f"{type(self).__name__}(split={self.split!r}, {len(self)} images, {self.num_classes} classes, "
                f"{size}, root={str(self.root)!r}{', cached' if self.cache else ''})")

    def find_root(self, root: Path) -> Path:
        for folder in (root, *(root / sub for sub in self.subfolders)):
            if folder.is_dir() and self.is_root(folder):
                return folder
        problem = "the folder does not exist" if not root.exists() else "the folder is not laid out as expected"
        raise self.not_found(f"no {self.title} at {root}: {problem}", root)

    def not_found(self, problem, root=None) -> DatasetNotFoundError:
        root = self.root if root is None else root
        command = get_data_command(self.script or self.name)
        return DatasetNotFoundError(
            f"{problem}.\nExpected under {root}:\n{self.layout.strip(chr(10))}\n"
            f"Get it with `{command}` (it writes to {data_home() / self.name}; set SEGLIB_DATA to use "
            f"another folder), or pass root= the folder that holds it.", self.name, root, command)

    def pair(self, image: Path, label: Path) -> tuple[Path, Path]:
        """An (image, label) pair, checked to exist."""
        if not label.is_file():
            raise self.not_found(f"image {image} has no label file {label}")
        return image, label

    def require_size(self, what):
        if self.image_size is None:
            raise ValueError(f"{what} needs image_size=(height, width): the size every item is stored at")
        return self.image_size

    def load_native(self, index):
        image_path, label_path = self.files[index]
        image, mask = read_image(image_path), self.read_label(label_path)
        check_same_size(image, mask, image_path, label_path)
        return image, mask

    def load_label(self, index):
        """The label alone, at the file's size (class statistics need no image)."""
        return self.read_label(self.files[index][1])

    def load(self, index):
        if self.cache is not None:
            return self.cache[index]
        return self.resize(*self.load_native(index))

    def resize(self, image, mask):
        """Image (area / linear interpolation) and mask (nearest) to ``image_size``."""
        if self.image_size is None or image.shape[:2] == self.image_size:
            return image, mask
        height, width = self.image_size
        shrink = height * width < image.shape[0] * image.shape[1]
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        return image, cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
