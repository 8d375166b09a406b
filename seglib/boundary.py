"""Boundary IoU: the IoU of the thin bands along the contours of each class.

Cheng et al., "Boundary IoU: Improving Object-Centric Image Segmentation Evaluation",
CVPR 2021.  Plain IoU is dominated by the interior of large regions, so a prediction with
sloppy edges still scores high; Boundary IoU only looks near the contours.

For a binary mask M, the boundary band ``M_d`` is the set of pixels of M within distance d
of a pixel outside M: ``M_d = M - erode(M, d)``.  Per class c, with G the target mask and P
the predicted one: ``IoU_c = |G_d & P_d| / |G_d | P_d|``.

Conventions (as ``ConfusionMatrix``, see ``seglib.metrics``):

* Distance is Chebyshev: erosion uses a (2d+1) x (2d+1) square, which equals the paper's
  code (a 3x3 erosion repeated d times).
* The image edge is not a contour: the masks are padded with their own edge values
  before eroding.  (The paper's code pads with zeros, so a region cut by the image edge
  gets a band along it.)
* Void pixels (``ignore_index``) belong to no class in the target *and* the prediction, so
  what the model predicts there has no effect and they are in no band.
* d defaults to 2 % of the image diagonal, rounded, at least 1 pixel (the paper's
  ``dilation_ratio=0.02``); ``dilation=`` gives it in pixels.
* Intersections and unions are summed over the whole split, then divided; a class with
  zero union has IoU NaN and is left out of the mean.
"""

import math

import torch
import torch.nn.functional as F

from .metrics import as_label_maps

__all__ = ["BoundaryIoU", "boundary_band", "erode"]


def erode(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Binary erosion of ``mask`` (bool ``[N, H, W]``) by a ``(2r+1) x (2r+1)`` square.

    A pixel stays when every pixel within Chebyshev distance ``radius`` is in the mask;
    pixels beyond the image edge repeat the edge (so the edge erodes nothing)."""
    outside = (~mask).float().unsqueeze(1)                                  # (N, 1, H, W)
    outside = F.pad(outside, (radius,) * 4, mode="replicate")               # (N, 1, H + 2r, W + 2r)
    size = 2 * radius + 1
    outside = F.max_pool2d(outside, (size, 1), stride=1)                    # the square max is
    outside = F.max_pool2d(outside, (1, size), stride=1)                    # a column then a row max
    return outside.squeeze(1) == 0                                          # (N, H, W)


def boundary_band(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """The pixels of ``mask`` (bool ``[N, H, W]``) within distance ``radius`` of its contour."""
    return mask & ~erode(mask, radius)


class BoundaryIoU:
    """Accumulates per-class boundary intersections and unions on the inputs' device.

    >>> metric = BoundaryIoU(2, dilation=1)
    >>> target = torch.zeros(1, 6, 6, dtype=torch.int64)
    >>> target[:, :, 3:] = 1
    >>> metric.update(target, target)
    >>> metric.compute()["miou"]
    1.0
    """

    def __init__(self, num_classes: int, ignore_index: int = 255, dilation: int | None = None,
                 dilation_ratio: float = 0.02):
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.dilation, self.dilation_ratio = dilation, dilation_ratio
        self.reset()

    def reset(self):
        """Forget everything counted so far."""
        self.intersection = self.union = None  # (C,) counts, created on the first update's device

    def radius(self, height: int, width: int) -> int:
        """The band width d in pixels for an image of this size."""
        if self.dilation is not None:
            return self.dilation
        return max(1, round(self.dilation_ratio * math.hypot(height, width)))

    @torch.no_grad()
    def update(self, pred: torch.Tensor, target: torch.Tensor):
        """Count one batch. ``pred`` is ``[N, H, W]`` class indices or ``[N, C, H, W]`` logits;
        ``target`` is ``[N, H, W]`` labels."""
        pred, target = as_label_maps(pred, target)
        valid = target != self.ignore_index
        n = self.num_classes
        if ((target[valid] < 0) | (target[valid] >= n)).any() or ((pred < 0) | (pred >= n)).any():
            raise ValueError(f"labels and predictions must lie in 0..{n - 1} (or be ignore_index={self.ignore_index})")
        classes = torch.arange(n, device=target.device).view(1, n, 1, 1)
        radius = self.radius(*target.shape[-2:])
        target_masks = (target.unsqueeze(1) == classes).flatten(0, 1)           # (N * C, H, W)
        pred_masks = ((pred.unsqueeze(1) == classes) & valid.unsqueeze(1)).flatten(0, 1)
        target_band = boundary_band(target_masks, radius).unflatten(0, (-1, n))  # (N, C, H, W)
        pred_band = boundary_band(pred_masks, radius).unflatten(0, (-1, n))
        intersection = (target_band & pred_band).sum(dim=(0, 2, 3))             # (C,)
        union = (target_band | pred_band).sum(dim=(0, 2, 3))
        if self.intersection is None:
            self.intersection, self.union = intersection, union
        else:
            self.intersection += intersection.to(self.intersection.device)
            self.union += union.to(self.union.device)

    def compute(self) -> dict:
        """Return ``iou`` (per class, NaN for zero union) and ``miou`` (mean over the others)."""
        if self.intersection is None:
            iou = torch.full((self.num_classes,), float("nan"), dtype=torch.float64)
        else:
            iou = (self.intersection.double() / self.union.double()).cpu()  # 0/0 -> NaN
        return {"iou": iou, "miou": float(iou.nanmean())}
