"""Losses beyond cross-entropy: soft Dice and focal loss.

Both take ``(logits [N, C, H, W], target [N, H, W] int64)`` and return a scalar, computed in
float32 even when the logits are bf16 / fp16 (mixed precision).  Pixels labelled
``ignore_index`` (255, "void") have no effect on the loss or its gradient.  Like
``F.cross_entropy``, both return NaN for a batch with no valid pixel at all.

* Dice (Milletari et al., V-Net, 2016; multi-class form: Sudre et al., 2017) scores the
  overlap of each class as a whole, so a small class counts as much as a large one.
* Focal loss (Lin et al., RetinaNet, ICCV 2017) scales each pixel's cross-entropy by
  ``(1 - p_t) ** gamma``, shrinking the weight of pixels that are already right.
"""

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DiceLoss", "FocalLoss"]


class DiceLoss(nn.Module):
    """Soft multi-class Dice loss: ``1 - mean_c (2 |P_c G_c| + s) / (|P_c| + |G_c| + s)``.

    ``P_c`` are the softmax probabilities of class c, ``G_c`` its one-hot target; the sums run
    over the whole batch (N, H, W) and over valid pixels only.  The mean runs over the
    classes present in the batch, in the target or in the prediction (argmax): a class absent
    from both would score a meaningless Dice near 1 and dilute the loss (the metrics' NaN
    convention), while a class predicted but absent still counts, with a Dice near 0.
    ``smooth`` (s) keeps the ratio finite and is negligible against batch pixel counts.
    """

    def __init__(self, ignore_index: int = 255, smooth: float = 1.0):
        super().__init__()
        self.ignore_index, self.smooth = ignore_index, smooth

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        num_classes = logits.shape[1]
        valid = (target != self.ignore_index).unsqueeze(1)                    # (N, 1, H, W)
        probs = logits.float().softmax(dim=1) * valid                         # (N, C, H, W), 0 at void
        labels = target.masked_fill(~valid[:, 0], 0)                          # (N, H, W), void -> any class
        one_hot = F.one_hot(labels, num_classes).permute(0, 3, 1, 2) * valid  # (N, C, H, W)
        intersection = (probs * one_hot).sum(dim=(0, 2, 3))                   # (C,)
        cardinality = probs.sum(dim=(0, 2, 3)) + one_hot.sum(dim=(0, 2, 3))   # (C,)
        dice = (2 * intersection + self.smooth) / (cardinality + self.smooth)
        predicted = F.one_hot(probs.argmax(dim=1), num_classes).permute(0, 3, 1, 2) * valid
        present = (one_hot + predicted).sum(dim=(0, 2, 3)) > 0                # (C,)
        return 1 - dice[present].mean()


class FocalLoss(nn.Module):
    """Focal loss: the mean over valid pixels of ``(1 - p_t) ** gamma * CE``.

    ``p_t`` is the softmax probability of the true class.  ``weight`` (C,): optional class
    weights, the paper's alpha; with weights the mean is weighted (divided by the sum of the
    valid pixels' weights) as ``F.cross_entropy`` does, so ``gamma=0`` gives exactly
    ``F.cross_entropy(logits, target, weight, ignore_index=...)``.
    """

    def __init__(self, gamma: float = 2.0, weight: Sequence[float] | torch.Tensor | None = None,
                 ignore_index: int = 255):
        super().__init__()
        self.gamma, self.ignore_index = gamma, ignore_index
        self.weight = None if weight is None else torch.as_tensor(weight, dtype=torch.float32)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ce = F.cross_entropy(logits.float(), target, ignore_index=self.ignore_index,
                             reduction="none")  # (N, H, W): -log p_t, 0 at void
        p_true = torch.exp(-ce)
        valid = target != self.ignore_index
        pixel_weight = valid.float()
        if self.weight is not None:
            pixel_weight = pixel_weight * self.weight.to(logits.device)[target.masked_fill(~valid, 0)]
        focal = (1 - p_true) ** self.gamma * ce
        return (pixel_weight * focal).sum() / pixel_weight.sum()
