"""Segmentation metrics from one confusion matrix.

Conventions (several of the projects this course draws on got them wrong):

* Rows are the true class, columns the predicted class: ``mat[t, p]`` counts pixels
  of class ``t`` predicted as ``p``.
* Pixels whose label is ``ignore_index`` (255, "void") are dropped before counting;
  any other label outside ``0..num_classes-1`` is an error, not silently ignored.
* IoU of class c = TP / (TP + FP + FN).  A class with zero union (absent from both
  the labels and the predictions) has IoU **NaN**, not 1.0 and not 0.0, and mIoU is
  the mean over the classes whose IoU is not NaN.
* A class that is absent from the labels but predicted somewhere has IoU 0.
* Accumulate over the whole split, then compute: the IoU of the summed matrix, not
  the mean of per-image IoUs.  Call ``reset()`` before each evaluation.
"""

import torch

from .distributed import all_reduce_sum

__all__ = ["ConfusionMatrix"]


def as_label_maps(pred: torch.Tensor, target: torch.Tensor):
    """``(pred, target)`` as int64 ``[N, H, W]`` on the target's device; logits are argmaxed."""
    if pred.dim() == target.dim() + 1:
        pred = pred.argmax(dim=1)  # logits (N, C, H, W) -> indices (N, H, W)
    if pred.shape != target.shape:
        raise ValueError(f"pred shape {tuple(pred.shape)} does not match target shape {tuple(target.shape)}")
    return pred.to(device=target.device, dtype=torch.int64), target.to(torch.int64)


class ConfusionMatrix:
    """Accumulates a ``num_classes x num_classes`` confusion matrix on the inputs' device.

    >>> cm = ConfusionMatrix(3)
    >>> cm.update(torch.tensor([[0, 1, 2]]), torch.tensor([[0, 1, 1]]))
    >>> round(cm.compute()["miou"], 3)
    0.5
    """

    def __init__(self, num_classes: int, ignore_index: int = 255):
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.mat = None  # created on the device of the first update

    def reset(self):
        """Forget everything counted so far."""
        self.mat = None

    @torch.no_grad()
    def update(self, pred: torch.Tensor, target: torch.Tensor):
        """Count one batch. ``pred`` is ``[N, H, W]`` class indices or ``[N, C, H, W]`` logits;
        ``target`` is ``[N, H, W]`` labels."""
        pred, target = as_label_maps(pred, target)
        n = self.num_classes
        keep = target != self.ignore_index
        target, pred = target[keep], pred[keep]
        if target.numel() and (target.min() < 0 or target.max() >= n):
            bad = target[(target < 0) | (target >= n)].unique()[:5].tolist()
            raise ValueError(
                f"labels {bad} are outside 0..{n - 1} and are not ignore_index={self.ignore_index}: "
                "check the dataset's label map or num_classes")
        if pred.numel() and (pred.min() < 0 or pred.max() >= n):
            raise ValueError(f"predictions must lie in 0..{n - 1}")
        counts = torch.bincount(n * target + pred, minlength=n * n).reshape(n, n)
        self.mat = counts if self.mat is None else self.mat + counts.to(self.mat.device)

    def all_reduce(self, device="cpu"):
        """Sum the matrices of all processes (each counted its share of the split) on ``device``
        (a GPU for NCCL), so that every process computes the same metrics.  One process: no change."""
        n = self.num_classes
        mat = torch.zeros(n, n, dtype=torch.int64, device=device) if self.mat is None else self.mat.to(device)
        self.mat = all_reduce_sum(mat)

    def compute(self) -> dict:
        """Return ``iou`` (per class, NaN for zero union), ``miou``, ``pixel_acc``,
        ``mean_acc`` (mean recall over classes present in the labels), ``fwiou`` and ``matrix``."""
        n = self.num_classes
        mat = torch.zeros(n, n, dtype=torch.int64) if self.mat is None else self.mat
        mat = mat.double()
        tp = mat.diag()
        true_count = mat.sum(1)   # pixels of each true class
        pred_count = mat.sum(0)   # pixels predicted as each class
        union = true_count + pred_count - tp
        iou = tp / union  # 0/0 -> NaN for classes absent from labels and predictions
        recall = tp / true_count  # NaN for classes absent from the labels
        total = mat.sum()
        freq = true_count / total
        present = true_count > 0
        return {
            "iou": iou.cpu(),
            "miou": float(iou.nanmean()),
            "pixel_acc": float(tp.sum() / total),
            "mean_acc": float(recall.nanmean()),
            "fwiou": float((freq[present] * iou[present]).sum()) if total > 0 else float("nan"),
            "matrix": mat.long().cpu(),
        }
