"""The item contract every dataset follows, and the normalisation it uses.

A dataset returns ``(image, mask)``: image float32 ``[3, H, W]`` normalised with the
ImageNet mean and std, mask int64 ``[H, W]`` with ``ignore_index`` (255) for void.
Subclasses only implement ``__len__`` and ``load(index)``, which returns the raw
uint8 arrays; the base class applies the paired transform.
"""

import numbers
from collections.abc import Callable

import numpy as np
import torch
from torchvision import tv_tensors

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IGNORE_INDEX = 255


class SegmentationDataset(torch.utils.data.Dataset):
    """Base class: ``classes`` (names), ``colors`` (RGB), ``ignore_index``, ``transform``.

    ``dataset[i]`` gives a transformed item.  ``dataset[(i, seed)]`` gives the same item
    with the random transform seeded by ``seed``, which is how ``fit`` makes augmentation
    reproducible (and resumable) whatever the number of DataLoader workers.
    """

    classes: tuple = ()
    colors: tuple = ()
    ignore_index: int = IGNORE_INDEX

    def __init__(self, transform: Callable | None = None):
        self.transform = transform

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Raw item at native resolution: image uint8 (H, W, 3) RGB, mask uint8 (H, W)."""
        raise NotImplementedError

    def __getitem__(self, key):
        index, seed = key if isinstance(key, tuple) else (key, None)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {type(self).__name__} of length {len(self)}")
        image, mask = self.load(index % len(self))
        image = tv_tensors.Image(torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1))
        mask = tv_tensors.Mask(torch.from_numpy(np.ascontiguousarray(mask)).to(torch.int64))
        if self.transform is not None:
            if seed is None:
                image, mask = self.transform(image, mask)
            else:
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(seed)
                    image, mask = self.transform(image, mask)
        return to_model_input(image), mask.as_subclass(torch.Tensor).to(torch.int64)


def to_model_input(image: torch.Tensor) -> torch.Tensor:
    """uint8 ``[3, H, W]`` (or already float) -> normalised float32 ``[3, H, W]``."""
    image = image.as_subclass(torch.Tensor)
    if image.dtype == torch.uint8:
        image = image.float().div_(255)
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return (image - mean) / std


def denormalize(image: torch.Tensor) -> np.ndarray:
    """Normalised float ``[3, H, W]`` -> uint8 (H, W, 3) for display."""
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    rgb = (image.detach().cpu().float() * std + mean).clamp(0, 1)
    return (rgb.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def check_image_size(image_size) -> tuple[int, int]:
    """Validate an ``(H, W)`` pair of positive ints and return it as a tuple."""
    ok = (isinstance(image_size, (tuple, list)) and len(image_size) == 2
          and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in image_size))
    if not ok:
        raise ValueError(f"image_size must be (height, width) in positive integers, got {image_size!r}")
    return int(image_size[0]), int(image_size[1])
