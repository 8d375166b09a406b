"""Fast pictures for the widgets: numpy and OpenCV only, no matplotlib.

A slider move must redraw in a few milliseconds, so the slow work (loading an item,
resizing it, colourising its mask, running a model) is cached per item, and an update
only blends, puts the panels side by side and encodes.  Encoding: JPEG via
``cv2.imencode`` takes ~5 ms for a 512x1024 photo; PNG takes ~45 ms (photos compress badly),
so the views are JPEG.

``still`` draws the picture a notebook keeps where no widget manager runs: it is shown at its
pixel size, so its panels are scaled to a readable width and its text drawn after scaling,
wrapped to fit, with the legend and any notes (scores) below.
"""

import base64
from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np

from ..viz import IGNORE_COLOR, colorize

GAP = 4            # white pixels between panels
TITLE_HEIGHT = 18  # white strip above each panel with its title

FONT = cv2.FONT_HERSHEY_SIMPLEX
STILL_MIN_WIDTH, STILL_MAX_WIDTH = 960, 1200  # a still's width in pixels (as the notebook shows it)
STILL_FONT_SCALE = 0.6  # about 16 px tall capitals
STILL_LINE = 24         # pixels per line of text in a still
STILL_MARGIN = 6        # white pixels left of each line, and kept free at its right


class LRUCache:
    """A dict that keeps its ``maxsize`` most recently used entries."""

    def __init__(self, maxsize: int = 64):
        self.maxsize, self.entries = maxsize, OrderedDict()

    def get(self, key, make):
        """The entry for ``key``, made by ``make()`` the first time."""
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key]
        value = self.entries[key] = make()
        if len(self.entries) > self.maxsize:
            self.entries.popitem(last=False)
        return value

    def __len__(self):
        return len(self.entries)


def display_size(height, width, max_width=None) -> tuple[int, int]:
    """``(h, w)`` scaled down (never up) so that ``w <= max_width``."""
    if max_width is None or width <= max_width:
        return height, width
    return max(1, round(height * max_width / width)), max_width


def resize_image(rgb, size) -> np.ndarray:
    """uint8 (H, W, 3) -> (h, w, 3), area-averaged (the right filter for shrinking photos)."""
    return rgb if rgb.shape[:2] == tuple(size) else cv2.resize(rgb, size[::-1], interpolation=cv2.INTER_AREA)


def resize_labels(labels, size) -> np.ndarray:
    """uint8 label map (H, W) -> (h, w) by nearest neighbour, so labels are never mixed."""
    return labels if labels.shape == tuple(size) else cv2.resize(labels, size[::-1], interpolation=cv2.INTER_NEAREST)


def make_palette(colors, ignore_color=IGNORE_COLOR) -> np.ndarray:
    """(256, 3) uint8 lookup table label -> colour (``seglib.viz.colorize`` of every label), so a
    label map colourises as ``palette[labels]``."""
    return colorize(np.arange(256, dtype=np.uint8), colors, ignore_color)


def titled(panel, title) -> np.ndarray:
    """The panel with a white strip above it holding ``title``."""
    strip = np.full((TITLE_HEIGHT, panel.shape[1], 3), 255, dtype=np.uint8)
    cv2.putText(strip, title, (2, TITLE_HEIGHT - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([strip, panel])


def side_by_side(panels, titles=None) -> np.ndarray:
    """Panels (uint8 (H_i, W_i, 3)) in one row, ``GAP`` white pixels apart, each with its
    title above it when ``titles`` is given; shorter panels are padded with white below."""
    if titles is not None:
        panels = [titled(p, t) for p, t in zip(panels, titles)]
    height = max(p.shape[0] for p in panels)
    width = sum(p.shape[1] for p in panels) + GAP * (len(panels) - 1)
    out = np.full((height, width, 3), 255, dtype=np.uint8)
    left = 0
    for panel in panels:
        out[: panel.shape[0], left: left + panel.shape[1]] = panel
        left += panel.shape[1] + GAP
    return out


def text_width(text: str, scale: float = STILL_FONT_SCALE) -> int:
    """Pixels ``text`` takes in ``FONT`` at ``scale``."""
    return cv2.getTextSize(text, FONT, scale, 1)[0][0]


def wrap(text: str, width: int, separator: str = " ", scale: float = STILL_FONT_SCALE) -> list[str]:
    """``text`` in lines of at most ``width`` pixels, no character left out: broken after a
    ``separator`` (``", "``, say: its comma stays at the line's end), then at spaces, and inside
    a word only where that word alone is wider."""
    end = separator.rstrip()  # what a line broken after a separator keeps of it
    lines = []
    for chunk in text.split(separator) if separator != " " else text.split():
        if lines and text_width(lines[-1] + separator + chunk + end, scale) <= width:
            lines[-1] += separator + chunk
            continue
        if lines:
            lines[-1] += end
        if separator != " " and text_width(chunk + end, scale) > width:
            lines += wrap(chunk, width - text_width(end, scale), " ", scale)
            continue
        while text_width(chunk, scale) > width and len(chunk) > 1:
            cut = len(chunk) - 1
            while cut > 1 and text_width(chunk[:cut], scale) > width:
                cut -= 1
            lines.append(chunk[:cut])
            chunk = chunk[cut:]
        lines.append(chunk)
    return lines or [""]


def text_strip(lines: list[str], width: int, height: int | None = None) -> np.ndarray:
    """A white ``width``-pixel strip with ``lines`` of text, one per ``STILL_LINE`` pixels
    (``height``: pad it to that many pixels)."""
    strip = np.full((height or STILL_LINE * len(lines), width, 3), 255, dtype=np.uint8)
    for row, line in enumerate(lines):
        baseline = STILL_LINE * row + STILL_LINE - 7
        cv2.putText(strip, line, (STILL_MARGIN, baseline), FONT, STILL_FONT_SCALE, (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def legend_strip(items, width: int) -> np.ndarray:
    """``(name, colour)`` items as swatches with names, flowing over as many lines as needed."""
    swatch, spacing = STILL_LINE - 10, 18
    places, left, row = [], STILL_MARGIN, 0
    for name, color in items:
        item_width = swatch + 5 + text_width(name)
        if left > STILL_MARGIN and left + item_width > width - STILL_MARGIN:
            left, row = STILL_MARGIN, row + 1
        places.append((name, color, left, row))
        left += item_width + spacing
    strip = text_strip([""] * (row + 1), width)
    for name, color, left, row in places:
        top = STILL_LINE * row + 5
        cv2.rectangle(strip, (left, top), (left + swatch, top + swatch), tuple(int(v) for v in color), -1)
        cv2.rectangle(strip, (left, top), (left + swatch, top + swatch), (128, 128, 128), 1)
        cv2.putText(strip, name, (left + swatch + 5, top + swatch - 1), FONT, STILL_FONT_SCALE, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return strip


def rescale(picture: np.ndarray, height: int, width: int) -> np.ndarray:
    """``picture`` at ``height`` x ``width``: nearest-neighbour when enlarging, so label colours
    and error pixels stay exact; area-averaged when shrinking."""
    if picture.shape[:2] == (height, width):
        return picture
    enlarging = height * width > picture.shape[0] * picture.shape[1]
    return cv2.resize(picture, (width, height), interpolation=cv2.INTER_NEAREST if enlarging else cv2.INTER_AREA)


def fit_row(panels, min_width: int = STILL_MIN_WIDTH, max_width: int = STILL_MAX_WIDTH) -> list[np.ndarray]:
    """The panels ``rescale``-d together (their sizes kept in proportion) so that their row,
    ``GAP`` apart, is between ``min_width`` and ``max_width`` pixels wide."""
    gaps = GAP * (len(panels) - 1)
    natural = sum(p.shape[1] for p in panels)
    scale = (min(max(natural + gaps, min_width), max_width) - gaps) / natural
    edges = np.round(np.cumsum([0] + [p.shape[1] for p in panels]) * scale).astype(int)  # rounded widths add up
    return [rescale(p, max(1, round(p.shape[0] * scale)), max(1, int(right - left)))
            for p, left, right in zip(panels, edges, edges[1:])]


class StillParts(NamedTuple):
    """What a widget's still picture shows: ``still(*parts)``."""

    panels: list[np.ndarray]  # uint8 RGB pictures, in a row
    titles: list[str]  # one per panel
    legend: Sequence[tuple[str, Sequence[int]]] = ()  # (name, RGB colour) swatches below the row
    notes: Sequence[str] = ()  # lines of text at the bottom


def still(panels, titles, legend=(), notes=(), min_width: int = STILL_MIN_WIDTH,
          max_width: int = STILL_MAX_WIDTH) -> np.ndarray:
    """A still picture of a row of panels, readable at its pixel size: ``fit_row`` of the panels,
    each ``titles[i]`` wrapped to its panel's width above it, then ``legend`` (``(name, colour)``
    swatches) and ``notes`` (lines of text, wrapped after commas) below.  uint8 RGB (H, W, 3)."""
    panels = fit_row(panels, min_width, max_width)
    wrapped = [wrap(title, p.shape[1] - 2 * STILL_MARGIN) for p, title in zip(panels, titles)]
    strip_height = STILL_LINE * max(len(lines) for lines in wrapped) + 2
    row = side_by_side([np.vstack([text_strip(lines, p.shape[1], strip_height), p])
                        for p, lines in zip(panels, wrapped)])
    width = row.shape[1]
    parts = [row]
    if legend:
        parts.append(legend_strip(legend, width))
    lines = [line for note in notes for line in wrap(note, width - 2 * STILL_MARGIN, ", ")]
    if lines:
        parts.append(text_strip(lines, width))
    return np.vstack(parts)


def encode(rgb, format="jpeg", quality=85) -> bytes:
    """uint8 RGB (H, W, 3) -> JPEG or PNG bytes."""
    bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
    if format == "jpeg":
        ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    elif format == "png":
        ok, buffer = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    else:
        raise ValueError(f"format must be 'jpeg' or 'png', got {format!r}")
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {rgb.shape} image as {format}")
    return buffer.tobytes()


def decode(data) -> np.ndarray:
    """PNG or JPEG bytes -> uint8 RGB (H, W, 3)."""
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def static_jpeg(rgb, max_width=1200, max_bytes=150_000) -> str:
    """A modest base64 JPEG of ``rgb`` for notebooks saved without the live widget:
    at most ``max_width`` wide, quality lowered until it fits in ``max_bytes``."""
    rgb = resize_image(rgb, display_size(*rgb.shape[:2], max_width))
    for quality in (80, 65, 50, 35):
        data = encode(rgb, "jpeg", quality)
        if len(data) <= max_bytes:
            break
    return base64.b64encode(data).decode("ascii")
