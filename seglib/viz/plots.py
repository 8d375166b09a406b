"""Metric charts (matplotlib): per-class IoU, the confusion matrix, training curves."""

from __future__ import annotations  # the hints name matplotlib types, imported only when drawing

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..metrics import ConfusionMatrix
from .masks import TensorOrArray, to_numpy

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..train import History


def plot_class_iou(iou: Sequence[float] | TensorOrArray, classes: Sequence[str], title: str = "per-class IoU",
                   ax: Axes | None = None) -> Figure:
    """Bar chart of per-class IoU, best first, with the mIoU as a dashed line; a class with
    NaN IoU (absent from labels and predictions) is marked "absent", not drawn as 0."""
    import matplotlib.pyplot as plt

    iou = np.asarray(to_numpy(iou), dtype=float)
    order = np.argsort(np.nan_to_num(iou, nan=-1))[::-1]  # NaN last
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    ax.bar(range(len(order)), np.nan_to_num(iou[order]), tick_label=[classes[i] for i in order], color="tab:blue")
    for x in np.flatnonzero(np.isnan(iou[order])):
        ax.text(x, 0.02, "absent", rotation=90, ha="center", va="bottom", fontsize=8, color="tab:gray")
    miou = np.nanmean(iou)
    ax.axhline(miou, color="tab:red", linestyle="--", label=f"mIoU {miou:.2f}")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper right")
    ax.tick_params(axis="x", rotation=45, labelsize=8)
    ax.figure.tight_layout()
    return ax.figure


def confusion_array(confusion: ConfusionMatrix | TensorOrArray, num_classes: int) -> np.ndarray:
    """A ConfusionMatrix or a (C, C) array (rows true, columns predicted) -> float (C, C)."""
    if isinstance(confusion, ConfusionMatrix):
        confusion = confusion.compute()["matrix"]
    matrix = np.asarray(to_numpy(confusion), dtype=np.float64)
    if matrix.shape != (num_classes, num_classes):
        raise ValueError(f"the confusion matrix must be ({num_classes}, {num_classes}) for {num_classes} "
                         f"classes (rows true, columns predicted), got shape {matrix.shape}")
    if (matrix < 0).any():
        raise ValueError("the confusion matrix holds negative counts")
    return matrix


def row_normalized(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its sum: the share of a true class predicted as each class (NaN rows
    for classes absent from the labels)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return matrix / matrix.sum(1, keepdims=True)


def plot_confusion(confusion: ConfusionMatrix | TensorOrArray, classes: Sequence[str], normalize: bool = True,
                   ax: Axes | None = None) -> Figure:
    """Heatmap of a confusion matrix, true class on the rows and predicted on the columns.

    ``confusion``: a ``ConfusionMatrix`` or a (C, C) array of pixel counts.  ``normalize``
    divides each row by its total (recall on the diagonal); a class with no labelled pixels
    leaves its row blank.  Up to 12 classes, the values are written in the cells."""
    import matplotlib.pyplot as plt

    n = len(classes)
    counts = confusion_array(confusion, n)
    values = row_normalized(counts) if normalize else counts  # 0 / 0 -> NaN: a blank row
    if ax is None:
        _, ax = plt.subplots(figsize=(2.5 + 0.45 * n, 1.8 + 0.45 * n))
    shown = ax.imshow(values, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), classes, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("confusion (rows sum to 1)" if normalize else "confusion (pixels)", fontsize=10)
    if n <= 12:
        dark = 0.5 * (1 if normalize else counts.max())
        for (true, predicted), value in np.ndenumerate(values):
            if not np.isnan(value):
                ax.text(predicted, true, f"{value:.2f}" if normalize else f"{value:.3g}", ha="center",
                        va="center", fontsize=7, color="white" if value > dark else "black")
    ax.figure.tight_layout()
    return ax.figure


def plot_history(history: History, ax: Axes | None = None, lr_ax: Axes | None = None) -> Figure:
    """Training loss and validation mIoU / pixel accuracy against the step on ``ax``, and the
    learning rate on ``lr_ax`` (by default a thin panel split off below ``ax``).  Val points
    scored on fewer images than the last (``fit``'s ``eval_items``) are drawn open, and the
    title says so."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, (ax, lr_ax) = plt.subplots(2, 1, sharex=True, figsize=(6, 4), height_ratios=(3, 1))
    elif lr_ax is None:
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        lr_ax = make_axes_locatable(ax).append_axes("bottom", size="30%", pad=0.4, sharex=ax)
    steps = history["step"]
    ax.plot(steps, history["train_loss"], "o-", color="tab:gray", label="train loss")
    ax.set_ylabel("loss")
    ax.tick_params(labelbottom=False)
    right = ax.twinx()
    right.set_axes_locator(ax.get_axes_locator())  # stay on ax when a thin lr panel was split off it
    if history.last.get("miou") is not None:
        right.plot(steps, history["miou"], "o-", color="tab:red", label="val mIoU")
        right.plot(steps, history["pixel_acc"], "o-", color="tab:blue", label="val pixel acc")
        scored = [r for r in history.records if r.get("miou") is not None]
        everything = scored[-1].get("val_items")
        subset = [r for r in scored if r.get("val_items") != everything]
        if subset:  # a cheap curve: the earlier points score fewer val images than the last
            for key, color in (("miou", "tab:red"), ("pixel_acc", "tab:blue")):
                right.plot([r["step"] for r in subset], [r[key] for r in subset], "o", color=color,
                           markerfacecolor="white")
            ax.set_title(f"open points: the first {subset[0]['val_items']} val images; last point: all {everything}",
                         fontsize=8)
    right.set_ylim(0, 1)
    right.set_ylabel("val score")
    lr_ax.plot(steps, history["lr"], ".-", color="tab:green", label="learning rate")
    lr_ax.set_ylabel("lr")
    lr_ax.set_xlabel("step")
    lr_ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    fig = ax.figure
    handles = [line for line in ax.lines + right.lines + lr_ax.lines if not line.get_label().startswith("_")]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
