"""Reading image and label files, with errors that name the file.

Images are read with OpenCV (fast PNG and JPEG decoding) and returned as RGB.  Label
images hold class indices: 8-bit grey PNGs, palette PNGs (PASCAL VOC: the indices, not the
colours, are the labels) or 16-bit PNGs; Pillow reads all three as the stored indices.
Colour-coded labels are read as RGB and decoded with ``seglib.data.labels.decode_colors``.
"""

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError


class CorruptFileError(ValueError):
    """An image or label file that cannot be decoded."""


def read_rgb(path, kind="image") -> np.ndarray:
    """An RGB file (an image, or a colour-coded label: ``kind`` names it in errors) -> uint8 (H, W, 3)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{kind} file not found: {path}")
    rgb = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if rgb is None:
        raise CorruptFileError(f"cannot decode {kind} {path}: the file is corrupt or not an image; "
                               "delete it and download the dataset again")
    return cv2.cvtColor(rgb, cv2.COLOR_BGR2RGB)


def read_image(path) -> np.ndarray:
    """An RGB image file -> uint8 array (H, W, 3)."""
    return read_rgb(path, "image")


def read_index_label(path) -> np.ndarray:
    """A label image of class indices (grey, palette or 16-bit PNG) -> array (H, W).

    Colour label images are refused: their colours need a colour table, not this function."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"label file not found: {path}")
    try:
        with Image.open(path) as label:
            mode = label.mode
            array = np.asarray(label)
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise CorruptFileError(f"cannot decode label {path} ({error}): the file is corrupt; "
                               "delete it and download the dataset again") from error
    if mode not in ("L", "P", "I;16", "I"):
        raise ValueError(f"label {path} is a {mode} image, not an image of class indices "
                         "(grey, palette or 16-bit PNG); colour labels need a colour table")
    return array


def read_color_label(path) -> np.ndarray:
    """A colour-coded label image -> uint8 RGB array (H, W, 3)."""
    return read_rgb(path, "label")


def check_same_size(image, label, image_path, label_path):
    """Raise if an image and its label differ in height or width, naming both files."""
    if image.shape[:2] != label.shape[:2]:
        raise ValueError(f"image and label sizes differ: {image_path} is {image.shape[1]}x{image.shape[0]}, "
                         f"{label_path} is {label.shape[1]}x{label.shape[0]} (width x height)")
