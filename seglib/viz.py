"""Pictures of masks, predictions and metrics (matplotlib, imported when used).

``colorize`` and ``overlay`` are plain numpy and fast; the ``plot_*`` and ``show_*``
functions draw a matplotlib figure and return it.
"""

import numpy as np
import torch

from .data.base import denormalize

IGNORE_COLOR = (0, 0, 0)
# error maps: right pixels white, wrong ones red, ignored ones grey
ERROR_COLORS = {"right": (255, 255, 255), "wrong": (220, 20, 60), "ignore": (150, 150, 150)}


def to_numpy(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def colorize(mask, colors, ignore_color=IGNORE_COLOR) -> np.ndarray:
    """Class-index mask (H, W) -> uint8 RGB (H, W, 3) with the dataset's palette; any index
    outside the palette (ignore, 255) gets ``ignore_color``."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    palette[:] = ignore_color
    palette[: len(colors)] = colors
    return palette[to_numpy(mask).astype(np.uint8)]


def as_rgb(image) -> np.ndarray:
    """A normalised ``[3, H, W]`` tensor or an (H, W, 3) uint8 array -> uint8 (H, W, 3)."""
    if isinstance(image, torch.Tensor) and image.dtype != torch.uint8:
        return denormalize(image)
    return to_numpy(image)


def overlay(image, mask, colors, alpha=0.5, ignore_color=IGNORE_COLOR) -> np.ndarray:
    """Blend the colourised mask over the image; ignore pixels keep the plain image."""
    rgb = as_rgb(image).astype(np.float32)
    mask = to_numpy(mask)
    coloured = colorize(mask, colors, ignore_color).astype(np.float32)
    known = (mask < len(colors))[..., None]
    blended = np.where(known, (1 - alpha) * rgb + alpha * coloured, rgb)
    return (blended + 0.5).astype(np.uint8)


def error_map(prediction, mask, ignore_index=255, colors=ERROR_COLORS) -> np.ndarray:
    """uint8 RGB (H, W, 3): wrong pixels (prediction != mask) in ``colors["wrong"]``, right ones
    in ``colors["right"]``, pixels whose label is ``ignore_index`` in ``colors["ignore"]``."""
    prediction, mask = to_numpy(prediction), to_numpy(mask)
    if prediction.shape != mask.shape:
        raise ValueError(f"prediction {prediction.shape} and mask {mask.shape} must have the same (H, W) shape")
    out = np.empty(mask.shape + (3,), dtype=np.uint8)
    out[:] = colors["right"]
    out[prediction != mask] = colors["wrong"]
    out[mask == ignore_index] = colors["ignore"]
    return out


def legend_handles(classes, colors):
    from matplotlib.patches import Patch

    return [Patch(color=np.array(c) / 255, label=name) for name, c in zip(classes, colors)]


def show_samples(dataset, indices=(0, 1, 2), alpha=0.5, predictions=None, width=3.2):
    """A row per item: image, ground truth, overlay (and prediction when given), plus a legend."""
    import matplotlib.pyplot as plt

    columns = 3 + (predictions is not None)
    fig, axes = plt.subplots(len(indices), columns, figsize=(width * columns, width * 0.8 * len(indices)),
                             squeeze=False)
    for row, index in enumerate(indices):
        image, mask = dataset[index]
        panels = [as_rgb(image), colorize(mask, dataset.colors), overlay(image, mask, dataset.colors, alpha)]
        titles = ["image", "ground truth", f"overlay (alpha {alpha})"]
        if predictions is not None:
            panels.append(colorize(predictions[row], dataset.colors))
            titles.append("prediction")
        for ax, panel, title in zip(axes[row], panels, titles):
            ax.imshow(panel, interpolation="nearest")
            ax.set_title(f"#{index} {title}", fontsize=9)
            ax.axis("off")
    fig.legend(handles=legend_handles(dataset.classes, dataset.colors) +
               legend_handles(["void (ignored)"], [IGNORE_COLOR]),
               loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def show_label_file(dataset, index=0, width=3.6):
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


def show_predictions(dataset, models: dict, indices=(0, 1, 2), width=2.6):
    """A row per item: image, ground truth, then each model's prediction (``models`` maps a
    name to a trained model) with its pixel accuracy on that image."""
    import matplotlib.pyplot as plt

    from .inference import predict

    columns = 2 + len(models)
    fig, axes = plt.subplots(len(indices), columns, figsize=(width * columns, width * 0.8 * len(indices) + 0.6),
                             squeeze=False)
    for row, index in enumerate(indices):
        image, mask = dataset[index]
        panels = [(as_rgb(image), f"#{index} image"), (colorize(mask, dataset.colors), "ground truth")]
        valid = mask != dataset.ignore_index
        for name, model in models.items():
            pred = predict(model, image)
            accuracy = float((pred == mask)[valid].float().mean()) if valid.any() else float("nan")
            panels.append((colorize(pred, dataset.colors), f"{name} ({accuracy:.0%} px)"))
        for ax, (panel, title) in zip(axes[row], panels):
            ax.imshow(panel, interpolation="nearest")
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    fig.legend(handles=legend_handles(dataset.classes, dataset.colors), loc="lower center",
               ncol=min(9, len(dataset.classes)), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def plot_class_iou(iou, classes, title="per-class IoU", ax=None):
    """Bar chart of per-class IoU, sorted, with the mIoU as a dashed line."""
    import matplotlib.pyplot as plt

    iou = np.asarray(to_numpy(iou), dtype=float)
    order = np.argsort(np.nan_to_num(iou, nan=-1))[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    ax.bar([classes[i] for i in order], np.nan_to_num(iou[order]), color="tab:blue")
    miou = np.nanmean(iou)
    ax.axhline(miou, color="tab:red", linestyle="--", label=f"mIoU {miou:.2f}")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper right")
    ax.tick_params(axis="x", rotation=45, labelsize=8)
    ax.figure.tight_layout()
    return ax.figure


def plot_history(history, ax=None):
    """Training loss and validation mIoU / pixel accuracy against the step."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    steps = history["step"]
    ax.plot(steps, history["train_loss"], "o-", color="tab:gray", label="train loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    right = ax.twinx()
    if history.last.get("miou") is not None:
        right.plot(steps, history["miou"], "o-", color="tab:red", label="val mIoU")
        right.plot(steps, history["pixel_acc"], "o-", color="tab:blue", label="val pixel acc")
    right.set_ylim(0, 1)
    ax.figure.legend(loc="lower center", ncol=3, fontsize=8, frameon=False)
    ax.figure.tight_layout(rect=(0, 0.1, 1, 1))
    return ax.figure
