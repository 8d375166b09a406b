"""Image grids (matplotlib): samples, label files, predictions, error maps, the class legend."""

from __future__ import annotations  # the hints name matplotlib types, imported only when drawing

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from torch import nn

from ..data import FileDataset, SegmentationDataset
from ..metrics import image_metrics
from .masks import ERROR_COLORS, IGNORE_COLOR, Color, TensorOrArray, as_rgb, colorize, error_map, overlay

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch


def legend_handles(classes: Sequence[str], colors: Sequence[Color]) -> list[Patch]:
    """One coloured patch per class, for ``fig.legend(handles=...)``."""
    from matplotlib.patches import Patch

    return [Patch(color=np.array(c) / 255, label=name) for name, c in zip(classes, colors)]


def class_handles(classes: Sequence[str], colors: Sequence[Color]) -> list[Patch]:
    """The classes' patches plus the void (ignored) colour."""
    return legend_handles(classes, colors) + legend_handles(["void (ignored)"], [IGNORE_COLOR])


def image_grid(rows: Sequence[Sequence[tuple[np.ndarray, str]]], handles: list[Patch], width: float = 2.6,
               ncol: int = 8, title: str | None = None) -> Figure:
    """A figure with one row of axes per list of ``(image, title)`` panels, ``handles`` as a
    legend below and ``title`` (if any) above."""
    import matplotlib.pyplot as plt

    columns = max(len(panels) for panels in rows)
    height = width * 0.8 * len(rows) + 0.6 + (0.4 if title is not None else 0)
    fig, axes = plt.subplots(len(rows), columns, figsize=(width * columns, height), squeeze=False)
    for row_axes, panels in zip(axes, rows):
        for ax, (panel, panel_title) in zip(row_axes, panels):
            ax.imshow(panel, interpolation="nearest")
            ax.set_title(panel_title, fontsize=8)
            ax.set(xticks=[], yticks=[])  # no ticks, but a frame: white error-map pixels stay visible
        for ax in row_axes[len(panels):]:
            ax.axis("off")
    if title is not None:
        fig.suptitle(title)
    ncol = min(ncol, len(handles))
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=7, frameon=False)
    legend_rows = -(-len(handles) // ncol)
    fig.tight_layout(rect=(0, min(0.4, (0.2 * legend_rows + 0.1) / height), 1, 1))
    return fig


def show_legend(classes: Sequence[str], colors: Sequence[Color], ncols: int = 4) -> Figure:
    """A figure holding only the class colour legend (plus void / ignored)."""
    import matplotlib.pyplot as plt

    handles = class_handles(classes, colors)
    ncols = min(ncols, len(handles))
    fig = plt.figure(figsize=(1.9 * ncols, 0.3 * -(-len(handles) // ncols) + 0.2))
    fig.legend(handles=handles, loc="center", ncol=ncols, fontsize=9, frameon=False)
    return fig


def show_samples(dataset: SegmentationDataset, indices: Sequence[int] = (0, 1, 2), alpha: float = 0.5,
                 predictions: Sequence[TensorOrArray] | None = None, width: float = 3.2) -> Figure:
    """A row per item: image, ground truth, overlay (and ``predictions[row]`` when given)."""
    rows = []
    for row, index in enumerate(indices):
        image, mask = dataset[index]
        panels = [(as_rgb(image), "image"), (colorize(mask, dataset.colors), "ground truth"),
                  (overlay(image, mask, dataset.colors, alpha), f"overlay (alpha {alpha})")]
        if predictions is not None:
            panels.append((colorize(predictions[row], dataset.colors), "prediction"))
        rows.append([(panel, f"#{index} {title}") for panel, title in panels])
    return image_grid(rows, class_handles(dataset.classes, dataset.colors), width)


def show_predictions(dataset: SegmentationDataset, models: dict[str, nn.Module], indices: Sequence[int] = (0, 1, 2),
                     width: float = 2.6) -> Figure:
    """A row per item: image, ground truth, then each model's prediction (``models`` maps a
    name to a trained model) with its pixel accuracy on that image."""
    from ..inference import predict

    rows = []
    for index in indices:
        image, mask = dataset[index]
        panels = [(as_rgb(image), f"#{index} image"), (colorize(mask, dataset.colors), "ground truth")]
        for name, model in models.items():
            pred = predict(model, image)
            accuracy = image_metrics(pred, mask, dataset.num_classes, dataset.ignore_index)["pixel_acc"]
            panels.append((colorize(pred, dataset.colors), f"{name} ({accuracy:.0%} px)"))
        rows.append(panels)
    return image_grid(rows, class_handles(dataset.classes, dataset.colors), width)


def error_row(dataset: SegmentationDataset, index: int, model_or_prediction: nn.Module | TensorOrArray,
              heading: str) -> list[tuple[np.ndarray, str]]:
    """The panels of ``dataset[index]``: image (titled ``heading``) | ground truth | prediction
    (``model_or_prediction``'s, or that label map) | error map (``error_map``: wrong pixels red,
    ignored ones grey) titled with the image's pixel accuracy."""
    from ..inference import predict

    image, mask = dataset[index]
    if isinstance(model_or_prediction, nn.Module):
        prediction = predict(model_or_prediction, image)
    else:
        prediction = model_or_prediction
    accuracy = image_metrics(prediction, mask, dataset.num_classes, dataset.ignore_index)["pixel_acc"]
    return [(as_rgb(image), heading), (colorize(mask, dataset.colors), "ground truth"),
            (colorize(prediction, dataset.colors), "prediction"),
            (error_map(prediction, mask, dataset.ignore_index), f"errors ({accuracy:.0%} px right)")]


def error_grid(dataset: SegmentationDataset, rows: Sequence[Sequence[tuple[np.ndarray, str]]],
               width: float, title: str | None = None) -> Figure:
    """``image_grid`` of ``error_row`` rows, with the classes and the error colours as the legend."""
    errors = legend_handles(["error: wrong", "error: ignored"], [ERROR_COLORS["wrong"], ERROR_COLORS["ignore"]])
    return image_grid(rows, class_handles(dataset.classes, dataset.colors) + errors, width, title=title)


def show_errors(dataset: SegmentationDataset, model_or_predictions: nn.Module | Sequence[TensorOrArray],
                indices: Sequence[int] = (0, 1, 2), width: float = 2.6) -> Figure:
    """A row per item: image | ground truth | prediction | error map (``error_map``: wrong
    pixels red, ignored ones grey), titled with the image's pixel accuracy.

    ``model_or_predictions``: a trained model, or one predicted (H, W) mask per index."""
    given_model = isinstance(model_or_predictions, nn.Module)
    rows = [error_row(dataset, index, model_or_predictions if given_model else model_or_predictions[row],
                      f"#{index} image") for row, index in enumerate(indices)]
    return error_grid(dataset, rows, width)


def show_worst(dataset: SegmentationDataset, model: nn.Module, count: int = 3, title: str | None = None,
               width: float = 2.6, **evaluate_options) -> Figure:
    """``show_errors`` of the ``count`` images with the lowest mIoU of their own (``worst_images``,
    worst first), each row headed with its index and that mIoU; ``evaluate_options`` go to
    ``evaluate`` (the rows show the dataset's items as ``predict`` labels them)."""
    from ..inference import worst_images

    name = getattr(dataset, "split", None) or "item"
    rows = [error_row(dataset, index, model, f"{name} #{index}: image mIoU {miou:.2f}")
            for index, miou in worst_images(model, dataset, count, **evaluate_options)]
    return error_grid(dataset, rows, width, title)


def show_label_file(dataset: FileDataset, index: int = 0, width: float = 3.6) -> Figure:
    """A real dataset's item as stored and as decoded: the image, the label file's content
    (index values, or colours), and the class mask, with the label map as the legend."""
    import matplotlib.pyplot as plt
    from PIL import Image

    image_path, label_path = dataset.files[index]
    image, mask = dataset.load_native(index)
    with Image.open(label_path) as stored:
        mode, raw = stored.mode, np.asarray(stored)
    fig, axes = plt.subplots(1, 3, figsize=(3 * width, width * image.shape[0] / image.shape[1] + 1.6))
    axes[0].imshow(image)
    axes[0].set_title(image_path.name, fontsize=8)
    if raw.ndim == 2:  # indices (grey, palette or 16-bit): show the numbers, not a palette
        shown = axes[1].imshow(raw, cmap="viridis", interpolation="nearest")
        fig.colorbar(shown, ax=axes[1], fraction=0.03)
        what = f"{label_path.name}\n{mode} image, values {int(raw.min())}..{int(raw.max())}"
    else:
        axes[1].imshow(raw, interpolation="nearest")
        what = f"{label_path.name}\n{mode} colours"
    axes[1].set_title(what, fontsize=8)
    axes[2].imshow(colorize(mask, dataset.colors), interpolation="nearest")
    axes[2].set_title("decoded classes (black: ignore)", fontsize=8)
    for ax in axes:
        ax.axis("off")
    names = [f"{i} {name}" for i, name in enumerate(dataset.classes)]
    fig.legend(handles=legend_handles(names, dataset.colors), loc="lower center", ncol=min(8, len(names)),
               fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.06 + 0.03 * (len(names) // 8), 1, 1))
    return fig
