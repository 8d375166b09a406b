"""``DatasetBrowser``: look through a dataset's images with their labels laid over them."""

import ipywidgets as widgets

from ..data import SegmentationDataset
from .base import SegmentationViewer


class DatasetBrowser(SegmentationViewer):
    """The image and its ground truth over it, side by side.

    Controls: ``.split`` (when ``splits={"train": train, "val": val}`` is given), ``.index``,
    ``.alpha`` and ``.class_toggles`` (one per class, True = shown; a hidden class shows the
    plain image).  Images wider than ``panel_width`` are shown scaled down.

    >>> DatasetBrowser(val, splits={"train": train, "val": val})  # doctest: +SKIP
    """

    def __init__(self, dataset: SegmentationDataset, splits: dict[str, SegmentationDataset] | None = None,
                 alpha: float = 0.5, panel_width: int = 512, cache_size: int = 64):
        super().__init__(dataset, splits, alpha, panel_width, cache_size)
        self.widget = widgets.VBox([widgets.HBox([self.split, self.index, self.alpha]),
                                    self.toggle_row, self.legend, self.image])
        self.start()

    def panels(self, alpha):
        item = self.item()
        overlay = self.overlay(item["rgb"], item["labels"], item["coloured"], alpha)
        label_title = "ground truth" if alpha == 1 else f"ground truth, alpha {alpha:.2f}"
        return [item["rgb"], overlay], [f"{self.split.value} #{self.index.value}", label_title]
