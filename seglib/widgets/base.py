"""What DatasetBrowser and PredictionExplorer share: the split, sample and alpha controls,
a toggle per class, the legend, the per-item cache, the timed refresh and the still picture."""

import time

import ipywidgets as widgets
import numpy as np

from ..data import SegmentationDataset
from ..viz import IGNORE_COLOR, as_rgb, blend, to_numpy
from . import render
from .markup import hex_color, legend_html
from .render import StillParts


def check_splits(dataset: SegmentationDataset,
                 splits: dict[str, SegmentationDataset] | None) -> dict[str, SegmentationDataset]:
    """``{name: dataset}``: ``splits`` (which must hold ``dataset``, the split shown first),
    or ``dataset`` alone.  Every split must be non-empty and share the dataset's classes."""
    if splits is None:
        splits = {getattr(dataset, "split", None) or "data": dataset}
    if not isinstance(splits, dict) or not splits:
        raise ValueError(f"splits must be None or a non-empty dict name -> dataset, got {splits!r}")
    if not any(d is dataset for d in splits.values()):
        raise ValueError(f"dataset must be one of the splits {list(splits)} (it is the one shown first)")
    for name, split in splits.items():
        if tuple(split.classes) != tuple(dataset.classes):
            raise ValueError(f"split {name!r} has classes {tuple(split.classes)}, but the dataset has "
                             f"{tuple(dataset.classes)}: every split must share the same classes")
        if len(split) == 0:
            raise ValueError(f"split {name!r} is empty")
    return dict(splits)


def class_toggle(name, color) -> widgets.ToggleButton:
    """A button that shows (pressed) or hides a class, with the class colour on its left edge."""
    return widgets.ToggleButton(value=True, description=name, tooltip=f"show or hide {name}",
                                layout=widgets.Layout(width="auto", border_left=f"10px solid {hex_color(color)}"))


class StaticFallback:
    """Displays as the live ``.widget`` plus a JPEG of ``static_view()``: JupyterLab shows the
    widget when its widget manager runs, and the picture where none does (papermill, nbval, GitHub).
    ``static_view()`` is the ``render.still`` of ``still_parts()``: shown at its pixel size, so drawn readable."""

    def still_parts(self) -> StillParts:
        """The panels, titles, legend and notes of the still picture."""
        raise NotImplementedError

    def static_view(self) -> np.ndarray:
        """The still picture (uint8 RGB) displayed where widgets do not run."""
        return render.still(*self.still_parts())

    def _repr_mimebundle_(self, **kwargs):
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = f"{type(self).__name__} (a live widget; a still picture where widgets do not run)"
        bundle["image/jpeg"] = render.static_jpeg(self.static_view())
        return bundle


class SegmentationViewer(StaticFallback):
    """Base of the dataset and prediction widgets: subclasses lay out ``.widget``, implement
    ``panels(alpha)`` (the pictures of the current controls and their titles) and call ``start()``.
    The live view shows the panels side by side at the chosen alpha; the still picture shows
    them with the labels opaque, the class legend and ``notes()`` below."""

    def __init__(self, dataset: SegmentationDataset, splits: dict[str, SegmentationDataset] | None = None,
                 alpha: float = 0.5, panel_width: int = 512, cache_size: int = 64):
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
        self.datasets = check_splits(dataset, splits)
        self.classes, self.colors, self.ignore_index = tuple(dataset.classes), dataset.colors, dataset.ignore_index
        self.panel_width = panel_width
        self.palette = render.make_palette(self.colors, IGNORE_COLOR)
        first = next(name for name, d in self.datasets.items() if d is dataset)
        self.split = widgets.Dropdown(options=list(self.datasets), value=first, description="split",
                                      disabled=len(self.datasets) == 1)
        self.index = widgets.IntSlider(value=0, min=0, max=len(dataset) - 1, description="sample")
        self.alpha = widgets.FloatSlider(value=alpha, min=0.0, max=1.0, step=0.05, description="alpha")
        self.class_toggles = [class_toggle(name, color) for name, color in zip(self.classes, self.colors)]
        self.toggle_row = widgets.HBox(self.class_toggles, layout=widgets.Layout(flex_flow="row wrap"))
        self.legend = widgets.HTML(legend_html(self.classes, self.colors, IGNORE_COLOR))
        self.image = widgets.Image(format="jpeg", layout=widgets.Layout(max_width="100%"))
        self.items = render.LRUCache(cache_size)
        self.update_seconds = None
        self._view = None
        self._paused = False

    @property
    def dataset(self):
        """The dataset of the chosen split."""
        return self.datasets[self.split.value]

    def controls(self) -> list:
        """The controls that redraw the view when they change (the split does more)."""
        return [self.index, self.alpha] + self.class_toggles

    def start(self):
        """Redraw whenever a control changes, and draw the first view now."""
        self.split.observe(self.on_split, "value")
        for control in self.controls():
            control.observe(self.refresh, "value")
        self.refresh()

    def on_split(self, change):
        self._paused = True  # changing the slider's range may move its value: redraw once
        try:
            self.index.max = len(self.dataset) - 1
        finally:
            self._paused = False
        self.refresh()

    def refresh(self, change=None):
        """Render, encode and show the current view; ``update_seconds`` says how long it took."""
        if self._paused:
            return
        start = time.perf_counter()
        view = self.render()
        self.image.value = render.encode(view, "jpeg")
        self._view = view
        self.update_seconds = time.perf_counter() - start

    def render(self) -> np.ndarray:
        """The live view: the panels at the chosen alpha, side by side."""
        return render.side_by_side(*self.panels(self.alpha.value))

    def panels(self, alpha: float) -> tuple[list[np.ndarray], list[str]]:
        """The current item's pictures (uint8 RGB), labels laid over the image at ``alpha``, and their titles."""
        raise NotImplementedError

    def notes(self) -> list[str]:
        """Lines of text under the still picture."""
        return []

    def legend_items(self) -> list[tuple[str, tuple[int, int, int]]]:
        """``(name, colour)`` of every class and of void, for the still picture's legend."""
        return list(zip(self.classes, self.colors)) + [("void (ignored)", IGNORE_COLOR)]

    def view(self) -> np.ndarray:
        """The uint8 RGB (H, W, 3) picture shown now (before JPEG encoding)."""
        return self._view

    def visible(self) -> list[bool]:
        return [toggle.value for toggle in self.class_toggles]

    def labels(self, mask) -> np.ndarray:
        """A label map as uint8 with every ignored pixel at 255 (the palette's void entry)."""
        mask = to_numpy(mask)
        labels = mask.astype(np.uint8)
        labels[mask == self.ignore_index] = 255
        return labels

    def item(self) -> dict:
        """The current item at display size, cached: ``rgb``, ``labels``, ``coloured`` (the
        palette colour of each label) and ``mask`` (uint8 labels at the dataset's resolution)."""
        split, index = self.split.value, self.index.value

        def load():
            image, mask = self.datasets[split][index]
            rgb, mask = as_rgb(image), self.labels(mask)
            size = render.display_size(*mask.shape, self.panel_width)
            labels = render.resize_labels(mask, size)
            return {"rgb": render.resize_image(rgb, size), "labels": labels,
                    "coloured": self.palette[labels], "mask": mask}

        return self.items.get((split, index), load)

    def overlay(self, rgb, labels, coloured, alpha) -> np.ndarray:
        """Class colours over the image at ``alpha``; hidden classes show the plain image."""
        return blend(rgb, coloured, labels, self.visible(), alpha)

    def still_parts(self) -> StillParts:
        """The panels with opaque labels, the class legend and the notes."""
        return StillParts(*self.panels(alpha=1.0), self.legend_items(), self.notes())
