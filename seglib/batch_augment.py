"""Augmentation of a whole batch on the device it is on: ``fit(..., batch_augment=BatchAugment())``.

``data.train_transform`` augments one item at a time in the DataLoader's CPU workers; at
360x480 that can cost more CPU time than a GPU step.  ``BatchAugment`` does the same steps
(random scale, crop back to the size, horizontal flip, brightness / contrast jitter) to the
normalised batch on the GPU, in one ``grid_sample`` call for all items:

* the random numbers come from a CPU ``torch.Generator`` seeded by the ``seed`` argument, so a
  batch is augmented the same way on any device (``fit`` passes ``derived_seed(seed, step)``);
* scale, crop and flip are one affine map per item (``F.affine_grid``): output pixel ``x``
  reads input ``x / s + t`` (``-x / s + t`` flipped), in ``[-1, 1]`` coordinates;
* ``crop=(h, w)`` returns smaller items than it is given, cut at the images' own scale: train
  on 176x240 windows of 352x480 images and a step costs what a 176x240 image costs, while the
  model learns the scale it will be shown at full size;
* images are sampled bilinearly and padded with 0 (the mean colour, after normalisation);
  masks with nearest neighbour, so they only hold their own labels, and padded with 255.
"""

import torch
import torch.nn.functional as F

from .data.base import IGNORE_INDEX, IMAGENET_MEAN, IMAGENET_STD

GRAY = (0.299, 0.587, 0.114)  # luminance weights, as torchvision's contrast uses


class BatchAugment:
    """``augment(images [N, 3, H, W] normalised, masks [N, H, W] int64, seed) -> (images, masks)``,
    same shapes, dtypes and device.  ``scale``: (min, max) zoom factor, None for none;
    ``hflip``: flip probability; ``jitter``: brightness and contrast factors drawn from
    ``[1 - jitter, 1 + jitter]``, 0 for none; ``crop``: (height, width) of the items returned,
    a window of each (scaled) image; None returns the input's size."""

    def __init__(self, scale=(0.75, 1.25), hflip=0.5, jitter=0.2, ignore_index=IGNORE_INDEX,
                 crop: tuple[int, int] | None = None):
        if scale is not None and not 0 < scale[0] <= scale[1]:
            raise ValueError(f"scale must be (min, max) with 0 < min <= max, got {scale}")
        if crop is not None and (len(crop) != 2 or min(crop) < 1):
            raise ValueError(f"crop must be (height, width) in pixels, got {crop}")
        self.scale, self.hflip, self.jitter, self.ignore_index = scale or (1.0, 1.0), hflip, jitter, ignore_index
        self.crop = None if crop is None else (int(crop[0]), int(crop[1]))

    def __repr__(self):
        crop = f", crop={self.crop}" if self.crop else ""
        return f"BatchAugment(scale={self.scale}, hflip={self.hflip}, jitter={self.jitter}{crop})"

    def draw(self, n, seed) -> dict:
        """The random parameters of ``n`` items, each a CPU tensor of shape (N,)."""
        g = torch.Generator().manual_seed(seed)

        def uniform(low, high):
            return torch.rand(n, generator=g, dtype=torch.float64) * (high - low) + low

        return {"flip": torch.rand(n, generator=g) < self.hflip, "scale": uniform(*self.scale),
                "x": uniform(-1, 1), "y": uniform(-1, 1),  # crop position, as a share of the slack
                "brightness": uniform(1 - self.jitter, 1 + self.jitter),
                "contrast": uniform(1 - self.jitter, 1 + self.jitter)}

    def __call__(self, images, masks, seed: int):
        p = self.draw(len(images), seed)
        if self.crop and (self.crop[0] > images.shape[-2] or self.crop[1] > images.shape[-1]):
            raise ValueError(f"crop {self.crop} is larger than the images {tuple(images.shape[-2:])}: "
                             "crop to at most the training size")
        grid = sampling_grid(p, images.shape, images.device, self.crop)  # (N, h, w, 2)
        out = F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if self.jitter:
            out = jitter(out, p["brightness"], p["contrast"])
        # masks shifted by one so that the zero padding becomes -1, then ignore_index
        shifted = F.grid_sample(masks[:, None].float() + 1, grid, mode="nearest", padding_mode="zeros",
                                align_corners=False)[:, 0].long() - 1  # (N, H, W)
        return out.to(images.dtype), shifted.masked_fill_(shifted < 0, self.ignore_index)


def sampling_grid(p, shape, device, crop: tuple[int, int] | None = None) -> torch.Tensor:
    """Per item, output ``x`` reads input ``±x * share / scale + shift``, where ``share`` is the
    part of the input's height or width that the output covers at scale 1 (1 without ``crop``):
    the ``F.affine_grid`` of ``theta`` (N, 2, 3), built on the CPU and expanded on ``device``."""
    n, _, height, width = shape
    out_height, out_width = crop or (height, width)
    scale = p["scale"]
    span_x, span_y = out_width / width / scale, out_height / height / scale  # the window, as a share
    theta = torch.zeros(n, 2, 3, dtype=torch.float64)
    theta[:, 0, 0] = torch.where(p["flip"], -span_x, span_x)
    theta[:, 1, 1] = span_y
    # how far the window can move: inside the image, or the image inside it
    theta[:, 0, 2] = p["x"] * (1 - span_x).abs()
    theta[:, 1, 2] = p["y"] * (1 - span_y).abs()
    return F.affine_grid(theta.to(device, torch.float32), [n, 1, out_height, out_width], align_corners=False)


def jitter(images, brightness, contrast):
    """Brightness then contrast (as torchvision's ``ColorJitter``) on normalised images,
    in RGB space clamped to [0, 1]; ``brightness`` and ``contrast`` are factors (N,)."""
    mean = images.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = images.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
    rgb = (images * std + mean) * brightness.to(images).view(-1, 1, 1, 1)
    rgb = rgb.clamp(0, 1)
    gray = (rgb * images.new_tensor(GRAY).view(1, 3, 1, 1)).sum(1, keepdim=True).mean((2, 3), keepdim=True)
    c = contrast.to(images).view(-1, 1, 1, 1)
    rgb = (c * rgb + (1 - c) * gray).clamp(0, 1)
    return (rgb - mean) / std
