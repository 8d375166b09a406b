"""Label maps: from what a file stores to the class indices a model trains on.

Two kinds of label files exist.  *Index* labels store a number per pixel; a lookup table
(``lut[stored] = class``, 255 for ignore, -1 for "not a valid value") maps them.  *Colour*
labels store an RGB colour per pixel; ``decode_colors`` matches each colour exactly to a
colour table (or, on request, to the nearest colour in it).
"""

from pathlib import Path

import numpy as np

from .base import IGNORE_INDEX

INVALID = -1


def make_lut(mapping: dict, size: int = 256) -> np.ndarray:
    """An int16 lookup table: ``lut[stored] = mapping[stored]``, INVALID (-1) elsewhere."""
    lut = np.full(size, INVALID, dtype=np.int16)
    for stored, target in mapping.items():
        lut[stored] = target
    return lut


def apply_lut(raw: np.ndarray, lut: np.ndarray, path="label", valid="") -> np.ndarray:
    """Map stored values to class indices (uint8); raise naming ``path`` and the bad values."""
    if raw.max(initial=0) >= len(lut):
        bad = np.unique(raw[raw >= len(lut)])
        raise ValueError(f"{path}: label values {bad[:10].tolist()} are outside the class set {valid}".rstrip())
    mapped = lut[raw]
    if mapped.min(initial=0) < 0:
        bad = np.unique(raw[mapped < 0])
        raise ValueError(f"{path}: label values {bad[:10].tolist()} are outside the class set {valid}".rstrip())
    return mapped.astype(np.uint8)


def pack_rgb(rgb) -> np.ndarray:
    """RGB triples (..., 3) -> one int32 per colour, 0xRRGGBB."""
    rgb = np.asarray(rgb, dtype=np.int32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def decode_colors(label_rgb: np.ndarray, colors, classes=None, nearest=False, path="label") -> np.ndarray:
    """Colour label (H, W, 3) -> class indices (H, W) uint8, class ``k`` being ``colors[k]``.

    ``classes[k]`` (optional) is the index written for colour k (255 for ignore); by default k.
    A colour that is not in the table raises an error naming the file and the colour, unless
    ``nearest=True``, which takes the closest table colour (squared RGB distance)."""
    table = pack_rgb(colors)
    classes = np.arange(len(table)) if classes is None else np.asarray(classes)
    order = np.argsort(table)
    keys, values = table[order], classes[order].astype(np.uint8)
    packed = pack_rgb(label_rgb)
    where = np.minimum(np.searchsorted(keys, packed), len(keys) - 1)
    unknown = keys[where] != packed
    if unknown.any():
        strange, counts = np.unique(packed[unknown], return_counts=True)
        if not nearest:
            listed = ", ".join(f"{tuple(int(v) for v in unpack_rgb(c))} ({n} px)"
                               for c, n in list(zip(strange, counts))[:5])
            raise ValueError(f"{path}: {len(strange)} colour(s) not in the colour table, e.g. {listed}; "
                             "fix the label file or colour table, or pass nearest_color=True "
                             "to map each unknown colour to the closest known one")
        distance = ((unpack_rgb(strange)[:, None, :] - unpack_rgb(keys)[None, :, :]) ** 2).sum(-1)
        fixed = np.argmin(distance, axis=1)
        where[unknown] = fixed[np.searchsorted(strange, packed[unknown])]
    return values[where]


def unpack_rgb(packed) -> np.ndarray:
    """0xRRGGBB ints -> RGB triples (..., 3), int32."""
    packed = np.asarray(packed, dtype=np.int32)
    return np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], axis=-1)


def read_color_table(path) -> tuple[tuple[str, ...], tuple[tuple[int, int, int], ...]]:
    """CamVid's ``label_colors.txt``: one ``R G B<tab>Name`` line per class (some copies use
    two tabs or spaces) -> (names, colours) in file order."""
    names, colors = [], []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            rgb = tuple(int(v) for v in parts[:3])
        except ValueError:
            rgb = ()
        if len(parts) < 4 or len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
            raise ValueError(f"{path}, line {number}: expected 'R G B<tab>Name', got {line!r}")
        colors.append(rgb)
        names.append(" ".join(parts[3:]))
    return tuple(names), tuple(colors)


def read_codes(path) -> tuple[str, ...]:
    """fastai's ``codes.txt``: the class names, one per line, in index order."""
    return tuple(line.strip() for line in Path(path).read_text().splitlines() if line.strip())


def voc_colormap(n: int = 256) -> tuple[tuple[int, int, int], ...]:
    """The PASCAL VOC colour of each index: the bits of the index, three at a time, go to
    red, green and blue from each channel's most significant bit down."""
    colors = []
    for index in range(n):
        r = g = b = 0
        value = index
        for shift in range(7, -1, -1):
            r |= (value & 1) << shift
            g |= ((value >> 1) & 1) << shift
            b |= ((value >> 2) & 1) << shift
            value >>= 3
        colors.append((r, g, b))
    return tuple(colors)


__all__ = ["IGNORE_INDEX", "INVALID", "make_lut", "apply_lut", "decode_colors", "read_color_table",
           "read_codes", "voc_colormap", "pack_rgb", "unpack_rgb"]
