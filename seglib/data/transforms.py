"""Paired transforms: the image and its mask move together.

Built on torchvision's ``transforms.v2``: wrapping the mask as ``tv_tensors.Mask``
makes every geometric transform resize it with nearest-neighbour (never blending two
labels into a third), pad it with 255 (ignore) and leave it untouched by colour jitter.
"""

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from .base import IGNORE_INDEX

PAD_FILL = {tv_tensors.Image: 0, tv_tensors.Mask: IGNORE_INDEX}


class RandomScale(v2.Transform):
    """Resize image and mask by one random factor drawn from ``scale`` (min, max)."""

    def __init__(self, scale: tuple[float, float] = (0.75, 1.25)):
        super().__init__()
        if not 0 < scale[0] <= scale[1]:
            raise ValueError(f"scale must be (min, max) with 0 < min <= max, got {scale}")
        self.scale = scale

    def make_params(self, flat_inputs):
        height, width = v2.query_size(flat_inputs)
        factor = float(torch.empty(1).uniform_(*self.scale))
        return {"size": [max(1, round(height * factor)), max(1, round(width * factor))]}

    def transform(self, inpt, params):
        return self._call_kernel(F.resize, inpt, params["size"], antialias=True)


def train_transform(size: tuple[int, int], scale: tuple[float, float] | None = (0.75, 1.25), hflip: float = 0.5,
                    jitter: float = 0.2) -> v2.Compose:
    """Random scale, crop to ``size`` (H, W) (padding masks with 255), flip, colour jitter."""
    steps = []
    if scale is not None and scale != (1, 1):
        steps.append(RandomScale(scale))
    steps.append(v2.RandomCrop(tuple(size), pad_if_needed=True, fill=PAD_FILL))
    if hflip:
        steps.append(v2.RandomHorizontalFlip(hflip))
    if jitter:
        steps.append(v2.ColorJitter(brightness=jitter, contrast=jitter, saturation=jitter))
    return v2.Compose(steps)
