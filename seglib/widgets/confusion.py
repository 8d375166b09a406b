"""``ConfusionExplorer``: which classes a model mixes up, and where in the images."""

import html
import io
import math
import time
from collections.abc import Sequence

import cv2
import ipywidgets as widgets
import numpy as np
import torch
from torch import nn

from ..data import SegmentationDataset
from ..inference import predict
from ..metrics import ConfusionMatrix
from ..viz import as_rgb, confusion_array, plot_confusion, row_normalized, to_numpy
from . import render
from .base import StaticFallback
from .markup import confusions_html, confusions_text
from .render import StillParts

STILL_DPI = 150  # at least, for the heatmap of the still picture (which scales it to fit beside the example)


def heatmap_inches(num_classes) -> tuple[float, float]:
    """The heatmap figure's (width, height) in inches."""
    side = 2.5 + 0.45 * num_classes
    return side, side - 0.7


def heatmap_png(matrix, classes, dpi: int = 100) -> bytes:
    """``seglib.viz.plot_confusion`` (rows normalised) saved once as PNG."""
    from matplotlib.figure import Figure

    ax = Figure(figsize=heatmap_inches(len(classes)), dpi=dpi).subplots()
    buffer = io.BytesIO()
    plot_confusion(matrix, classes, normalize=True, ax=ax).savefig(buffer, format="png")
    return buffer.getvalue()


def highlight(rgb, where, color) -> np.ndarray:
    """The image in dimmed grey with the pixels ``where`` painted in ``color``."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) // 2
    out = np.repeat(grey[..., None], 3, axis=2)
    out[where] = color
    return out


class ConfusionExplorer(StaticFallback):
    """The row-normalised confusion matrix, and for the class chosen in ``.true_class``: what its
    pixels were predicted as, and (given a dataset and a model or per-item predictions) the
    image among the first ``search_items`` with the most pixels of it predicted as its top
    confusion, those pixels painted in the predicted class's colour.

    ``confusion``: a ConfusionMatrix or a (C, C) array, rows true, columns predicted.
    ``predictions[i]`` (optional, instead of ``model``) is the label map predicted for ``dataset[i]``.
    """

    def __init__(self, confusion: ConfusionMatrix | np.ndarray | torch.Tensor, classes: Sequence[str],
                 dataset: SegmentationDataset | None = None, model: nn.Module | None = None,
                 predictions: Sequence[np.ndarray | torch.Tensor] | None = None,
                 colors: Sequence[tuple[int, int, int]] | None = None, top: int = 5, search_items: int = 20,
                 panel_width: int = 512):
        self.classes = tuple(classes)
        self.matrix = confusion_array(confusion, len(self.classes))
        if dataset is not None and tuple(dataset.classes) != self.classes:
            raise ValueError(f"the dataset's classes {tuple(dataset.classes)} differ from classes {self.classes}")
        if model is not None and predictions is not None:
            raise ValueError("give a model or predictions, not both")
        if (model is not None or predictions is not None) and dataset is None:
            raise ValueError("example pixels need the dataset the model or predictions belong to")
        if colors is None:
            colors = dataset.colors if dataset is not None else default_colors(len(self.classes))
        self.colors = tuple(tuple(int(v) for v in c) for c in colors)
        self.dataset, self.model, self.given_predictions = dataset, model, predictions
        self.has_predictions = model is not None or predictions is not None
        self.top, self.search_items, self.panel_width = top, search_items, panel_width
        self.rates = row_normalized(self.matrix)
        self.heatmap = widgets.Image(value=heatmap_png(self.matrix, self.classes), format="png")
        self.true_class = widgets.Dropdown(options=self.classes, value=self.classes[0], description="true class")
        self.details = widgets.HTML()
        self.image = widgets.Image(format="jpeg", layout=widgets.Layout(max_width="100%"))
        self.caption = widgets.HTML()
        self.predicted, self.examples = {}, {}
        self.widget = widgets.VBox([self.true_class, widgets.HBox([
            self.heatmap, widgets.VBox([self.details, self.caption, self.image])])])
        self.update_seconds, self._view, self._still_heatmap = None, None, None
        self.true_class.observe(self.refresh, "value")
        self.refresh()

    def confusions(self, t) -> list[tuple[int, float]]:
        """The classes most often predicted for true class ``t`` (itself left out), with their shares."""
        shares = self.rates[t]
        order = [p for p in np.argsort(-np.nan_to_num(shares), kind="stable") if p != t and shares[p] > 0]
        return [(int(p), float(shares[p])) for p in order[: self.top]]

    def labels_and_prediction(self, index):
        """int64 label map and prediction of ``dataset[index]``, cached."""
        if index not in self.predicted:
            image, mask = self.dataset[index]
            if self.given_predictions is not None:
                prediction = self.given_predictions[index]
            else:
                prediction = predict(self.model, image)
            self.predicted[index] = (to_numpy(mask).astype(np.int64), to_numpy(prediction).astype(np.int64))
        return self.predicted[index]

    def searched_items(self) -> int:
        """How many items, from the first, are searched for examples."""
        count = min(self.search_items, len(self.dataset))
        return count if self.given_predictions is None else min(count, len(self.given_predictions))

    def example(self, t, p):
        """``(index, picture, count)`` for the searched item with the most pixels of class ``t``
        predicted as ``p``, or None if no item has any (cached per pair)."""
        if (t, p) not in self.examples:
            counts = {}
            for index in range(self.searched_items()):
                mask, prediction = self.labels_and_prediction(index)
                counts[index] = int(((mask == t) & (prediction == p)).sum())
            index = max(counts, key=counts.get)
            self.examples[t, p] = None
            if counts[index] > 0:
                mask, prediction = self.labels_and_prediction(index)
                rgb = highlight(as_rgb(self.dataset[index][0]), (mask == t) & (prediction == p), self.colors[p])
                size = render.display_size(*rgb.shape[:2], self.panel_width)
                self.examples[t, p] = (index, render.resize_image(rgb, size), counts[index])
        return self.examples[t, p]

    def chosen(self) -> tuple[int, list[tuple[int, float]], tuple | None]:
        """The chosen true class, its top confusions and the ``example`` of the first (or None)."""
        t = self.classes.index(self.true_class.value)
        confusions = self.confusions(t)
        found = self.example(t, confusions[0][0]) if confusions and self.has_predictions else None
        return t, confusions, found

    def refresh(self, change=None):
        """Show the chosen true class's confusions and, where there is one, its example."""
        start = time.perf_counter()
        t, confusions, found = self.chosen()
        self.details.value = confusions_html(
            self.classes[t], [self.classes[p] for p, _ in confusions], [s for _, s in confusions],
            float(self.rates[t, t]), dict(zip(self.classes, self.colors)))
        if found is not None:
            self.show_example(t, confusions[0][0], found)
        else:
            self.show_nothing()
        self.update_seconds = time.perf_counter() - start

    def show_example(self, t, p, found):
        index, picture, count = found
        true_name, predicted_name = html.escape(self.classes[t]), html.escape(self.classes[p])
        self.caption.value = (f"Item #{index}: {count} pixels of <b>{true_name}</b> predicted as "
                              f"<b>{predicted_name}</b> (painted in its colour)")
        self._view = picture
        self.image.value = render.encode(picture, "jpeg")
        self.image.layout.display = None

    def show_nothing(self):
        self._view, self.image.value, self.caption.value = None, b"", ""
        self.image.layout.display = "none"

    def view(self):
        """The example picture shown now (uint8 RGB), or None when there is none."""
        return self._view

    def still_parts(self) -> StillParts:
        """The heatmap and, when there is one, the example picture (three quarters of the
        heatmap's height), with the chosen class's top confusions below."""
        if self._still_heatmap is None:  # alone, at least the still's width: never enlarged
            dpi = max(STILL_DPI, math.ceil(render.STILL_MIN_WIDTH / heatmap_inches(len(self.classes))[0]))
            self._still_heatmap = render.decode(heatmap_png(self.matrix, self.classes, dpi))
        t, confusions, found = self.chosen()
        panels, titles = [self._still_heatmap], ["confusion matrix (rows: true class)"]
        if found is not None:
            index, picture, count = found
            height = round(self._still_heatmap.shape[0] * 3 / 4)
            panels.append(render.rescale(picture, height, round(picture.shape[1] * height / picture.shape[0])))
            titles.append(f"#{index}: {count} pixels of {self.classes[t]} predicted as "
                          f"{self.classes[confusions[0][0]]} (painted in its colour)")
        names = [self.classes[p] for p, _ in confusions]
        notes = [confusions_text(self.classes[t], names, [s for _, s in confusions], float(self.rates[t, t]))]
        return StillParts(panels, titles, list(zip(self.classes, self.colors)), notes)


def default_colors(n) -> list:
    """``n`` distinct colours for classes that come without a palette (hues around the circle)."""
    hsv = np.stack([np.arange(n) * 180 // max(n, 1), np.full(n, 200), np.full(n, 230)], axis=1).astype(np.uint8)
    return cv2.cvtColor(hsv[None], cv2.COLOR_HSV2RGB)[0].tolist()
