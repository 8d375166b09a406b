"""One optimizer step and what it is made of: the learning-rate schedule, the loss, the optimizer."""

import torch
import torch.nn.functional as F

from ..device import autocast
from ..distributed import all_reduce_sum, world_size
from ..losses import DiceLoss, FocalLoss


def poly_lr(step, total_steps, base_lr, power=0.9, warmup_steps=0):
    """Poly schedule (DeepLab): ``base_lr * (1 - step / total) ** power``, after a linear warm-up."""
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    progress = min(step, total_steps) / max(1, total_steps)
    return base_lr * (1 - progress) ** power


LOSSES = ("cross_entropy", "dice", "focal", "cross_entropy+dice")


def make_loss(loss="cross_entropy", class_weights=None, ignore_index=255):
    """``loss(logits [N, C, H, W], target [N, H, W]) -> scalar``; a callable is returned as is.

    Names: ``"cross_entropy"``, ``"dice"`` (``DiceLoss``), ``"focal"`` (``FocalLoss``, gamma 2)
    and ``"cross_entropy+dice"`` (their sum).  ``class_weights`` weight the cross-entropy and
    focal terms; Dice, which already counts every class equally, does not use them.

    With several processes the cross-entropy is the mean over the valid pixels of all of
    them, exactly as one process with the whole global batch; Dice, focal and callables
    are per-process values that DistributedDataParallel averages."""
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; valid: {', '.join(map(repr, LOSSES))} or a callable")
    weight = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)

    def cross_entropy(logits, target):
        w = None if weight is None else weight.to(logits.device)
        if world_size() == 1:
            return F.cross_entropy(logits.float(), target, weight=w, ignore_index=ignore_index)
        # DDP averages the gradients of the processes: sum here, divide by the valid pixels of
        # all processes, and multiply by their number, so that the average is the global mean
        total = F.cross_entropy(logits.float(), target, weight=w, ignore_index=ignore_index, reduction="sum")
        valid = target != ignore_index
        count = valid.sum().float() if w is None else w[target[valid]].sum()
        return total * world_size() / all_reduce_sum(count)

    dice = DiceLoss(ignore_index)

    def cross_entropy_plus_dice(logits, target):
        return cross_entropy(logits, target) + dice(logits, target)

    if loss == "cross_entropy":
        return cross_entropy
    if loss == "dice":
        return dice
    if loss == "focal":
        return FocalLoss(weight=weight, ignore_index=ignore_index)
    return cross_entropy_plus_dice


def make_optimizer(model, optimizer, lr, weight_decay, momentum, fused=False):
    """AdamW or SGD over ``model``'s parameters; ``fused=True`` takes the one-kernel CUDA version."""
    if fused and any(p.device.type != "cuda" for p in model.parameters()):
        raise ValueError("fused=True needs the model on a CUDA GPU (fused optimizers are CUDA kernels): "
                         "use fused=False, or fit(..., fused='auto') which turns it on for CUDA only")
    extra = {"fused": True} if fused else {}
    if optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, **extra)
    if optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay, **extra)
    raise ValueError(f"unknown optimizer {optimizer!r}; valid: 'adamw', 'sgd'")


def model_loss(loss_fn, out, masks, aux_weight=0.4):
    """The loss of a model's output ``out``: ``loss_fn(logits, masks)``, plus
    ``aux_weight * loss_fn(aux_logits, masks)`` when ``out`` is the pair ``(logits, aux_logits)``
    that a model with an auxiliary head returns in training mode (PSPNet: weight 0.4)."""
    if isinstance(out, (tuple, list)):
        return loss_fn(out[0], masks) + aux_weight * loss_fn(out[1], masks)
    return loss_fn(out, masks)


def train_step(model, images, masks, optimizer, loss_fn, scaler, amp_dtype, grad_clip=None, aux_weight=0.4):
    """Forward, loss, backward, optimizer step; returns the detached loss."""
    with autocast(images.device, amp_dtype):
        out = model(images)  # logits (N, C, H, W), or (logits, aux_logits) in training mode
    loss = model_loss(loss_fn, out, masks, aux_weight)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if grad_clip:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    return loss.detach()
