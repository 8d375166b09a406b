"""Fast pictures for the widgets: numpy and OpenCV only, no matplotlib.

A slider move must redraw in a few milliseconds, so the slow work (loading an item,
resizing it, colourising its mask, running a model) is cached per item, and an update
only blends, puts the panels side by side and encodes.  Encoding: JPEG via
``cv2.imencode`` takes ~5 ms for a 512x1024 photo; PNG takes ~45 ms (photos compress badly),
so the views are JPEG.
"""

import base64
from collections import OrderedDict

import cv2
import numpy as np

from ..viz import IGNORE_COLOR, colorize

GAP = 4            # white pixels between panels
TITLE_HEIGHT = 18  # white strip above each panel with its title


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
