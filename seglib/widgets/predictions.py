"""``PredictionExplorer``: a model's prediction and its mistakes, image by image."""

import ipywidgets as widgets
from torch import nn

from ..data import SegmentationDataset
from ..inference import predict
from ..metrics import image_metrics
from ..viz import ERROR_COLORS, error_map
from . import render
from .base import SegmentationViewer
from .markup import iou_table_html, iou_text

NO_COMPARISON = "none"


def check_models(models: dict[str, nn.Module]) -> dict[str, nn.Module]:
    if not isinstance(models, dict) or not models:
        raise ValueError(f"models must be a non-empty dict name -> model, got {models!r}")
    for name, model in models.items():
        if not isinstance(name, str) or name == NO_COMPARISON:
            raise ValueError(f"model names must be strings other than {NO_COMPARISON!r}, got {name!r}")
        if not isinstance(model, nn.Module):
            raise ValueError(f"models[{name!r}] must be a torch.nn.Module, got {type(model).__name__}")
    return dict(models)


class PredictionExplorer(SegmentationViewer):
    """Image | ground truth | prediction | error map, side by side, and the image's IoU per class.

    ``models`` maps a name to a trained model: ``.model`` picks the one shown, ``.compare``
    ("none" or a second name) adds that model's prediction, error map and IoU column.
    The controls of ``DatasetBrowser`` (split, index, alpha, class toggles) apply to every
    panel.  Predictions are cached per (model, split, index).
    """

    def __init__(self, dataset: SegmentationDataset, models: dict[str, nn.Module],
                 splits: dict[str, SegmentationDataset] | None = None, alpha: float = 0.5, panel_width: int = 512,
                 cache_size: int = 64):
        self.models = check_models(models)
        super().__init__(dataset, splits, alpha, panel_width, cache_size)
        names = list(self.models)
        self.model = widgets.Dropdown(options=names, value=names[0], description="model")
        self.compare = widgets.Dropdown(options=[NO_COMPARISON] + names, value=NO_COMPARISON,
                                        description="compare")
        self.iou_table = widgets.HTML()
        self.predictions = render.LRUCache(cache_size)
        self.widget = widgets.VBox([widgets.HBox([self.split, self.index, self.alpha]),
                                    widgets.HBox([self.model, self.compare]),
                                    self.toggle_row, self.legend, self.image, self.iou_table])
        self.start()

    def controls(self):
        return super().controls() + [self.model, self.compare]

    def shown_models(self) -> list[str]:
        compare = self.compare.value
        return [self.model.value] + ([compare] if compare not in (NO_COMPARISON, self.model.value) else [])

    def prediction(self, name) -> dict:
        """Model ``name`` on the current item, cached: display-size ``labels``, ``coloured``
        and ``errors`` (the error map), and ``iou`` per class at the dataset's resolution."""
        split, index = self.split.value, self.index.value
        item = self.item()

        def run():
            image, mask = self.datasets[split][index]
            prediction = predict(self.models[name], image)  # no_grad, eval mode, the model's device
            labels = render.resize_labels(self.labels(prediction), item["labels"].shape)
            return {"labels": labels, "coloured": self.palette[labels],
                    "errors": error_map(labels, item["labels"], ignore_index=255),
                    "iou": image_metrics(prediction, mask, len(self.classes), self.ignore_index)["iou"].tolist()}

        return self.predictions.get((name, split, index), run)

    def ious(self) -> dict[str, list[float]]:
        """The IoU per class on the current image of each model shown."""
        return {name: self.prediction(name)["iou"] for name in self.shown_models()}

    def render(self):
        self.iou_table.value = iou_table_html(self.classes, self.colors, self.ious())
        return super().render()

    def panels(self, alpha):
        item = self.item()
        panels = [item["rgb"], self.overlay(item["rgb"], item["labels"], item["coloured"], alpha)]
        titles = [f"{self.split.value} #{self.index.value}", "ground truth"]
        for name in self.shown_models():
            result = self.prediction(name)
            panels += [self.overlay(item["rgb"], result["labels"], result["coloured"], alpha), result["errors"]]
            titles += [f"{name} prediction", f"{name} errors (red)"]
        return panels, titles

    def notes(self):
        return [iou_text(name, self.classes, iou) for name, iou in self.ious().items()]

    def legend_items(self):
        return super().legend_items() + [("error: wrong", ERROR_COLORS["wrong"]),
                                         ("error: void", ERROR_COLORS["ignore"])]
