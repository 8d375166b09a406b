"""Masks as pictures, in numpy (and OpenCV for the blend): colourise, overlay, error maps."""

from collections.abc import Sequence

import cv2
import numpy as np
import torch
from numpy.typing import ArrayLike

from ..data.base import denormalize

Color = tuple[int, int, int]  # RGB, 0..255
TensorOrArray = torch.Tensor | np.ndarray

IGNORE_COLOR = (0, 0, 0)
# error maps: right pixels white, wrong ones red, ignored ones grey
ERROR_COLORS = {"right": (255, 255, 255), "wrong": (220, 20, 60), "ignore": (150, 150, 150)}


def to_numpy(x: torch.Tensor | ArrayLike) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def colorize(mask: TensorOrArray, colors: Sequence[Color], ignore_color: Color = IGNORE_COLOR) -> np.ndarray:
    """Class-index mask (H, W) -> uint8 RGB (H, W, 3) with the dataset's palette; any index
    outside the palette (ignore, 255) gets ``ignore_color``."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    palette[:] = ignore_color
    palette[: len(colors)] = colors
    return palette[to_numpy(mask).astype(np.uint8)]


def as_rgb(image: TensorOrArray) -> np.ndarray:
    """A normalised ``[3, H, W]`` tensor or an (H, W, 3) uint8 array -> uint8 (H, W, 3)."""
    if isinstance(image, torch.Tensor) and image.dtype != torch.uint8:
        return denormalize(image)
    return to_numpy(image)


def overlay(image: TensorOrArray, mask: TensorOrArray, colors: Sequence[Color], alpha: float = 0.5,
            ignore_color: Color = IGNORE_COLOR, visible: Sequence[bool] | None = None) -> np.ndarray:
    """Blend the colourised mask over the image; ignore pixels (and classes whose ``visible``
    entry is False) keep the plain image."""
    mask = to_numpy(mask).astype(np.uint8)
    visible = [True] * len(colors) if visible is None else visible
    return blend(as_rgb(image), colorize(mask, colors, ignore_color), mask, visible, alpha)


def shown_table(visible: Sequence[bool]) -> np.ndarray:
    """(256,) bool lookup table: ``visible[c]`` for each class, False for ignore and the rest."""
    table = np.zeros(256, dtype=bool)
    table[: len(visible)] = visible
    return table


def blend(rgb: np.ndarray, coloured: np.ndarray, labels: np.ndarray, visible: Sequence[bool],
          alpha: float) -> np.ndarray:
    """``coloured`` over ``rgb`` with weight ``alpha`` where ``labels`` is a visible class;
    other pixels (hidden classes, ignore) keep the plain image.  All uint8 (H, W, 3)."""
    out = cv2.addWeighted(rgb, 1.0 - alpha, coloured, alpha, 0.0)
    hidden = ~shown_table(visible)[labels]
    np.copyto(out, rgb, where=hidden[..., None])
    return out


def error_map(prediction: TensorOrArray, mask: TensorOrArray, ignore_index: int = 255,
              colors: dict[str, Color] = ERROR_COLORS) -> np.ndarray:
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
