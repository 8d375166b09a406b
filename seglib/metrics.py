"""Segmentation metrics from one confusion matrix.

Conventions (several of the projects this course draws on got them wrong):

* Rows are the true class, columns the predicted class: ``mat[t, p]`` counts pixels
  of class ``t`` predicted as ``p``.
* Pixels whose label is ``ignore_index`` (255, "void") are not counted (``update`` bins
  them in an extra row and drops it), whatever their prediction; any other label outside
  ``0..num_classes-1`` is an error, not silently ignored, and so is a prediction outside
  ``0..num_classes-1`` at a counted pixel.
* IoU of class c = TP / (TP + FP + FN).  A class with zero union (absent from both
  the labels and the predictions) has IoU **NaN**, not 1.0 and not 0.0, and mIoU is
  the mean over the classes whose IoU is not NaN.
* A class that is absent from the labels but predicted somewhere has IoU 0.
* Accumulate over the whole split, then compute: the IoU of the summed matrix, not
  the mean of per-image IoUs.  Call ``reset()`` before each evaluation.
"""

import torch

from .distributed import all_reduce_sum

__all__ = ["ConfusionMatrix", "image_metrics"]


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
        ignored = target == self.ignore_index
        # No boolean indexing (it copies the kept pixels): ignored pixels get an extra row n.
        rows = torch.where(ignored, n, target)
        if target.numel() and self._may_be_out_of_range(rows, pred, target):
            pred = self._checked_predictions(pred, target, ignored)
        index = rows.mul_(n).add_(pred)  # n * row + pred, in place: rows is our own tensor
        counts = torch.bincount(index.reshape(-1), minlength=(n + 1) * n).reshape(n + 1, n)
        counts = counts[:n]  # drop the row of the ignored pixels
        self.mat = counts if self.mat is None else self.mat + counts.to(self.mat.device)

    def _may_be_out_of_range(self, rows: torch.Tensor, pred: torch.Tensor, target: torch.Tensor) -> bool:
        """A cheap test over whole tensors (min/max, one device sync): False when every row is in
        ``0..n`` (n: ignored), no real label is n and every prediction is in ``0..n-1``."""
        n = self.num_classes
        row_min, row_max = rows.aminmax()
        pred_min, pred_max = pred.aminmax()
        suspect = (row_min < 0) | (row_max > n) | (pred_min < 0) | (pred_max >= n)
        if self.ignore_index != n:  # a label equal to n would hide in the ignored row
            suspect |= (target == n).any()
        return bool(suspect)

    def _checked_predictions(self, pred: torch.Tensor, target: torch.Tensor, ignored: torch.Tensor):
        """The slow path, once something may be out of range: raise for a bad label or for a bad
        prediction at a counted pixel; else return ``pred`` with its ignored pixels set to 0
        (a bad prediction at an ignored pixel is not counted, so not an error)."""
        n = self.num_classes
        kept_target, kept_pred = target[~ignored], pred[~ignored]
        bad_labels = (kept_target < 0) | (kept_target >= n)
        if bad_labels.any():
            bad = kept_target[bad_labels].unique()[:5].tolist()
            raise ValueError(
                f"labels {bad} are outside 0..{n - 1} and are not ignore_index={self.ignore_index}: "
                "check the dataset's label map or num_classes")
        if ((kept_pred < 0) | (kept_pred >= n)).any():
            raise ValueError(f"predictions must lie in 0..{n - 1}")
        return pred.masked_fill(ignored, 0)

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


def image_metrics(pred, target, num_classes: int, ignore_index: int = 255) -> dict:
    """``ConfusionMatrix.compute()`` of one image: ``pred`` and ``target`` are (H, W) label
    maps (tensors or arrays), e.g. for the pixel accuracy or per-class IoU shown with it."""
    cm = ConfusionMatrix(num_classes, ignore_index)
    cm.update(torch.as_tensor(pred)[None], torch.as_tensor(target)[None])
    return cm.compute()
