"""``PhotoPredictor``: upload a photo of your own and see what a trained model makes of it."""

import html
import time

import cv2
import ipywidgets as widgets
import numpy as np
from torch import nn

from ..data import SegmentationDataset
from ..inference import photo_size, predict
from ..models import size_divisor
from ..viz import IGNORE_COLOR, blend
from . import render
from .base import StaticFallback
from .markup import swatch
from .render import StillParts

MAX_SIDE = 1024  # larger photos are shrunk first: a 12-megapixel photo's logits alone would take 0.5 GB


def shrink(rgb: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    """``rgb`` scaled down (never up) so that its longer side is at most ``max_side``."""
    scale = max_side / max(rgb.shape[:2])
    if scale >= 1:
        return rgb
    size = (max(1, round(rgb.shape[0] * scale)), max(1, round(rgb.shape[1] * scale)))
    return render.resize_image(rgb, size)


def read_photo(data: bytes, name: str = "the file") -> np.ndarray:
    """PNG / JPEG / BMP / WebP bytes -> uint8 RGB (H, W, 3); a ValueError that says what to do."""
    array = np.frombuffer(data, dtype=np.uint8)
    bgr = cv2.imdecode(array, cv2.IMREAD_COLOR) if array.size else None
    if bgr is None:
        raise ValueError(f"could not read {name} as an image: upload a PNG or JPEG photo")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def class_shares(labels: np.ndarray, num_classes: int, min_share: float = 0.005) -> list[tuple[int, float]]:
    """``(class, share of the pixels)`` of the classes predicted, most pixels first, down to ``min_share``."""
    shares = np.bincount(labels.ravel(), minlength=num_classes)[:num_classes] / labels.size
    return [(int(c), float(shares[c])) for c in np.argsort(-shares, kind="stable") if shares[c] >= min_share]


def class_shares_html(labels: np.ndarray, classes, colors, min_share: float = 0.005) -> str:
    """The legend of the classes predicted, most pixels first, each with its share of the photo."""
    items = [f'<span style="margin-right:12px">{swatch(colors[c])}{html.escape(classes[c])} {share:.0%}</span>'
             for c, share in class_shares(labels, len(classes), min_share)]
    return f'<div style="line-height:1.8"><b>predicted:</b> {"".join(items)}</div>'


class PhotoPredictor(StaticFallback):
    """Upload a photo (``.upload``, a ``FileUpload``): the model labels it and shows the photo
    and its prediction side by side, with the classes it found and their share of the photo.

    The model runs at ``photo_size``: the photo's aspect ratio with the pixel count of the
    dataset's ``image_size`` (the scale the model learnt); the labels are upsampled to the
    photo.  ``example``: the picture shown before any upload (default: the dataset's first
    image at its file's size), also the still image where widgets do not run.

    >>> PhotoPredictor(model, val)  # doctest: +SKIP
    """

    def __init__(self, model: nn.Module, dataset: SegmentationDataset, example: np.ndarray | None = None,
                 alpha: float = 0.6, panel_width: int = 480):
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if dataset.image_size is None:
            raise ValueError("the dataset needs an image_size (the size the model was trained at)")
        self.model, self.classes, self.colors = model, tuple(dataset.classes), dataset.colors
        self.image_size, self.panel_width = dataset.image_size, panel_width
        self.divisor = getattr(model, "size_divisor", None) or size_divisor(model.config["name"])
        self.palette = render.make_palette(self.colors, IGNORE_COLOR)
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="your photo")
        self.alpha = widgets.FloatSlider(value=alpha, min=0.0, max=1.0, step=0.05, description="alpha")
        self.status, self.legend = widgets.HTML(), widgets.HTML()
        self.image = widgets.Image(format="jpeg", layout=widgets.Layout(max_width="100%"))
        self.widget = widgets.VBox([widgets.HBox([self.upload, self.alpha]), self.status, self.image, self.legend])
        self.photo = self.labels = self._view = None
        self.upload.observe(self.on_upload, "value")
        self.alpha.observe(self.refresh, "value")
        if example is None:
            example = getattr(dataset, "load_native", dataset.load)(0)[0]
        where = " ".join(filter(None, (getattr(dataset, "name", ""), getattr(dataset, "split", ""))))
        self.show_photo(example, f"example: {where} image 0".replace("  ", " "))

    def show_photo(self, rgb: np.ndarray, name: str) -> None:
        """Label ``rgb`` (uint8 (H, W, 3)) with the model and show it."""
        start = time.perf_counter()
        photo = shrink(np.ascontiguousarray(rgb[..., :3]))
        size = photo_size(*photo.shape[:2], self.image_size, self.divisor)
        labels = predict(self.model, photo, size=size).numpy().astype(np.uint8)
        self.photo, self.labels = photo, labels
        seconds = time.perf_counter() - start
        self.status.value = (f"{html.escape(name)}: {photo.shape[1]}x{photo.shape[0]} pixels, "
                             f"labelled at {size[1]}x{size[0]} in {seconds:.2f} s")
        self.legend.value = class_shares_html(labels, self.classes, self.colors)
        self.refresh()

    def on_upload(self, change) -> None:
        if not change["new"]:
            return
        upload = change["new"][0]
        try:
            self.show_photo(read_photo(bytes(upload["content"]), upload["name"]), upload["name"])
        except ValueError as error:
            self.status.value = f'<span style="color:#b00">{html.escape(str(error))}</span>'

    def panels(self, alpha: float) -> tuple[list[np.ndarray], list[str]]:
        """The photo and its labels over it at ``alpha``, at display size, and their titles."""
        size = render.display_size(*self.photo.shape[:2], self.panel_width)
        rgb, labels = render.resize_image(self.photo, size), render.resize_labels(self.labels, size)
        overlay = blend(rgb, self.palette[labels], labels, [True] * len(self.classes), alpha)
        return [rgb, overlay], ["your photo", "what the model sees in it"]

    def refresh(self, change=None) -> None:
        self._view = render.side_by_side(*self.panels(self.alpha.value))
        self.image.value = render.encode(self._view, "jpeg")

    def view(self) -> np.ndarray:
        """The uint8 RGB picture shown now."""
        return self._view

    def still_parts(self) -> StillParts:
        """The photo, its labels opaque, and the classes found with their shares."""
        found = class_shares(self.labels, len(self.classes))
        legend = [(f"{self.classes[c]} {share:.0%}", self.colors[c]) for c, share in found]
        return StillParts(*self.panels(alpha=1.0), legend, ["The classes the model found, with their share of it."])
