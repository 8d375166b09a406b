"""Inference and evaluation: ``predict`` one image of any size, ``evaluate`` a split,
``worst_images`` its images with the lowest mIoU."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from .boundary import BoundaryIoU
from .data.base import to_model_input
from .device import autocast, autocast_dtype, eval_mode, model_device
from .distributed import rank, world_size
from .metrics import ConfusionMatrix, image_metrics

ImageInput = np.ndarray | torch.Tensor  # or anything np.asarray turns into an (H, W, 3) array (a PIL image)


def as_batch(image: ImageInput) -> torch.Tensor:
    """Any image -> normalised float ``[N, 3, H, W]``.

    Accepts uint8 (H, W, 3) arrays or PIL images, uint8 ``[3, H, W]`` / ``[N, 3, H, W]``
    tensors, or float tensors that are already normalised (as datasets return them)."""
    if not isinstance(image, torch.Tensor):
        array = np.asarray(image)
        if array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) RGB image, got an array of shape {array.shape}")
        image = torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)
    batch = image if image.dim() == 4 else image.unsqueeze(0)
    if batch.dim() != 4 or batch.shape[1] != 3:
        raise ValueError(f"expected a [3, H, W] or [N, 3, H, W] image tensor, got {tuple(image.shape)}")
    if batch.dtype == torch.uint8:
        batch = torch.stack([to_model_input(x) for x in batch])
    return batch.float()


def logits_of(model, x):
    """The main logits of a model (drops an auxiliary output if there is one)."""
    out = model(x)
    return out[0] if isinstance(out, (tuple, list)) else out


@torch.no_grad()
def predict(model: nn.Module, image: ImageInput, size: tuple[int, int] | None = None,
            device: str | torch.device | None = None) -> torch.Tensor:
    """Label map of ``image`` at the image's own resolution: int64 ``[H, W]`` (``[N, H, W]`` for a batch).

    ``size=(h, w)`` runs the model at that size (the training resolution, say) and
    upsamples the logits; otherwise the image is padded to a multiple of the model's
    ``size_divisor`` and the padding cropped off the result."""
    batch = as_batch(image)
    device = model_device(model) if device is None else torch.device(device)
    batch = batch.to(device)
    height, width = batch.shape[-2:]
    if size is not None and tuple(size) == (height, width):
        size = None  # already at that size: no resampling
    if size is not None:
        x = F.interpolate(batch, size=tuple(size), mode="bilinear", align_corners=False, antialias=True)
    else:
        divisor = getattr(model, "size_divisor", 1)
        pad_h, pad_w = -height % divisor, -width % divisor
        x = F.pad(batch, (0, pad_w, 0, pad_h))  # zeros = the mean colour after normalisation
    with eval_mode(model), autocast(device, autocast_dtype(device)):
        logits = logits_of(model, x).float()
    if size is not None:
        logits = F.interpolate(logits, size=(height, width), mode="bilinear", align_corners=False)
    labels = logits[..., :height, :width].argmax(1).cpu()
    return labels if image_is_batch(image) else labels[0]


def photo_size(height: int, width: int, trained_size: tuple[int, int], divisor: int = 1) -> tuple[int, int]:
    """The size to run a model trained at ``trained_size`` on a ``height`` x ``width`` photo:
    the photo's aspect ratio with about the trained pixel count (so that a street photo is seen
    near the scale the model learnt), each side a multiple of ``divisor``."""
    scale = (trained_size[0] * trained_size[1] / (height * width)) ** 0.5
    return tuple(max(divisor, round(side * scale / divisor) * divisor) for side in (height, width))


def image_is_batch(image):
    return isinstance(image, torch.Tensor) and image.dim() == 4


def prediction_size(dataset: Dataset, size: tuple[int, int] | str | None) -> tuple[int, int] | None:
    """The size ``evaluate(..., native_resolution=True)`` runs the model at: ``size="train"``
    means the dataset's ``image_size`` (the size the model learnt at), or the image's own size
    for a dataset without one; ``"native"`` (or None) the image's own size; a tuple itself."""
    if size == "train":
        return getattr(dataset, "image_size", None)
    if size == "native" or size is None:
        return None
    if isinstance(size, str):
        raise ValueError(f"size={size!r}: use 'train', 'native' or (height, width)")
    return tuple(size)


@torch.no_grad()  # no autograd graph: scoring needs no gradients, and builds none
def evaluate(model: nn.Module, dataset: Dataset, batch_size: int = 16, device: str | torch.device | None = None,
             native_resolution: bool = False, size: tuple[int, int] | str | None = "train",
             num_workers: int = 0, per_image: bool = False, limit: int | None = None) -> dict:
    """Score ``model`` on ``dataset`` with a ConfusionMatrix; returns its ``compute()`` dict.

    ``native_resolution=True`` scores against the labels at their original size
    (``dataset.load_native`` where the dataset has it, else ``dataset.load``), as the field
    scores real data.  Each image is predicted at ``size`` and its logits upsampled to the
    label's size: by default (``"train"``) at the dataset's ``image_size``, the scale the model
    learnt at; ``size="native"`` feeds the full-size image to the model instead (padded to its
    size divisor), which shows a model trained on smaller images everything larger than it
    learnt; ``size=(h, w)`` picks any size.  Without ``native_resolution`` the items are scored
    at the dataset's size and ``size`` is not used.

    ``per_image=True`` adds ``"image_miou"``: each image's own mIoU (over the classes in its
    labels or its prediction), in the dataset's order, to find the worst images (one process).
    ``limit=n`` scores only the first ``n`` items (a cheaper estimate, e.g. for training curves).

    With several processes (torchrun), every one of them must call it: each scores every
    ``world_size``-th item, the confusion matrices are summed, and every process returns
    the metrics of the whole split."""
    device = model_device(model) if device is None else torch.device(device)
    cm = ConfusionMatrix(dataset.num_classes, dataset.ignore_index)
    count = len(dataset) if limit is None else min(len(dataset), limit)
    my_share = range(rank(), count, world_size())  # all of it in one process
    if per_image and world_size() > 1:
        raise ValueError("per_image=True scores in one process only")
    image_miou = []

    def score(pred, mask):
        cm.update(pred, mask)
        if per_image:
            image_miou.extend(image_metrics(p.cpu(), m.cpu(), dataset.num_classes, dataset.ignore_index)["miou"]
                              for p, m in zip(pred.reshape(-1, *pred.shape[-2:]), mask.reshape(-1, *mask.shape[-2:])))

    def result():
        cm.all_reduce(device)
        return {**cm.compute(), **({"image_miou": np.array(image_miou)} if per_image else {})}

    if native_resolution:
        load = getattr(dataset, "load_native", dataset.load)
        size = prediction_size(dataset, size)
        for index in my_share:
            image, mask = load(index)
            score(predict(model, image, size=size, device=device), torch.from_numpy(mask).to(torch.int64))
        return result()
    if len(my_share) < len(dataset):
        dataset = torch.utils.data.Subset(dataset, my_share)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=num_workers,
                                         pin_memory=device.type == "cuda")
    with eval_mode(model), autocast(device, autocast_dtype(device)):
        for images, masks in loader:
            images = images.to(device, non_blocking=True)
            score(logits_of(model, images).argmax(1), masks.to(device, non_blocking=True))
    return result()


def worst_images(model: nn.Module, dataset: Dataset, count: int = 3, **evaluate_options) -> list[tuple[int, float]]:
    """``[(index, image mIoU), ...]`` of the ``count`` images with the lowest mIoU of their own,
    worst first (ties by index; every image when the dataset has fewer), from
    ``evaluate(model, dataset, per_image=True, **evaluate_options)``.  An image with nothing
    to score (every pixel void) has a NaN mIoU and comes last."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive int (how many images to return), got {count!r}")
    image_miou = evaluate(model, dataset, per_image=True, **evaluate_options)["image_miou"]
    order = np.lexsort((np.arange(len(image_miou)), image_miou))  # by mIoU (NaN last), then by index
    return [(int(index), float(image_miou[index])) for index in order[:count]]


@torch.no_grad()
def boundary_miou(model: nn.Module, dataset: Dataset, batch_size: int = 16, device: str | torch.device | None = None,
                  **boundary_options) -> float:
    """The mean Boundary IoU (``seglib.BoundaryIoU``: the IoU of the bands along each class's
    contours) of ``model``'s predictions over ``dataset``, at the dataset's size, in one process.
    ``boundary_options`` go to ``BoundaryIoU`` (e.g. ``dilation=2`` pixels)."""
    device = model_device(model) if device is None else torch.device(device)
    metric = BoundaryIoU(dataset.num_classes, dataset.ignore_index, **boundary_options)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size)
    with eval_mode(model), autocast(device, autocast_dtype(device)):
        for images, masks in loader:
            metric.update(logits_of(model, images.to(device)).argmax(1).cpu(), masks)
    return metric.compute()["miou"]
