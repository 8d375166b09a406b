"""Masks as pictures, in plain numpy: colourise, overlay, error maps, pixel accuracy."""

import numpy as np
import torch

from ..data.base import denormalize

IGNORE_COLOR = (0, 0, 0)
# error maps: right pixels white, wrong ones red, ignored ones grey
ERROR_COLORS = {"right": (255, 255, 255), "wrong": (220, 20, 60), "ignore": (150, 150, 150)}


def to_numpy(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def colorize(mask, colors, ignore_color=IGNORE_COLOR) -> np.ndarray:
    """Class-index mask (H, W) -> uint8 RGB (H, W, 3) with the dataset's palette; any index
    outside the palette (ignore, 255) gets ``ignore_color``."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    palette[:] = ignore_color
    palette[: len(colors)] = colors
    return palette[to_numpy(mask).astype(np.uint8)]


def as_rgb(image) -> np.ndarray:
    """A normalised ``[3, H, W]`` tensor or an (H, W, 3) uint8 array -> uint8 (H, W, 3)."""
    if isinstance(image, torch.Tensor) and image.dtype != torch.uint8:
        return denormalize(image)
    return to_numpy(image)


def overlay(image, mask, colors, alpha=0.5, ignore_color=IGNORE_COLOR) -> np.ndarray:
    """Blend the colourised mask over the image; ignore pixels keep the plain image."""
    rgb = as_rgb(image).astype(np.float32)
    mask = to_numpy(mask)
    coloured = colorize(mask, colors, ignore_color).astype(np.float32)
    known = (mask < len(colors))[..., None]
    blended = np.where(known, (1 - alpha) * rgb + alpha * coloured, rgb)
    return (blended + 0.5).astype(np.uint8)


def error_map(prediction, mask, ignore_index=255, colors=ERROR_COLORS) -> np.ndarray:
    """uint8 RGB (H, W, 3): wrong pixels (prediction != mask) in ``colors["wrong"]``, right ones
    in ``colors["right"]``, pixels whose label is ``ignore_index`` in ``colors["ignore"]``."""
    prediction, mask = to_numpy(prediction), to_numpy(mask)
    if prediction.shape != mask.shape:
        raise ValueError(f"prediction {prediction.shape} and mask {mask.shape} must have the same (H, W) shape")
    out = np.empty(mask.shape + (3,), dtype=np.uint8)
    out[:] = colors["right"]
    out[prediction != mask] = colors["wrong"]
    out[mask == ignore_index] = colors["ignore"]
    return out


def pixel_accuracy(prediction, mask, ignore_index=255) -> float:
    """Share of the scored pixels (label != ``ignore_index``) predicted right; NaN if none is scored."""
    prediction, mask = to_numpy(prediction), to_numpy(mask)
    scored = mask != ignore_index
    return float((prediction == mask)[scored].mean()) if scored.any() else float("nan")
