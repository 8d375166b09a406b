"""Devices: which one to use, where a model is, its eval mode and its mixed precision.

The only place that names devices.  Everything that runs a model borrows these helpers:
``model_device`` (where it is), ``eval_mode`` (a temporary eval mode that gives every
submodule its own mode back) and ``autocast`` (mixed precision, or nothing).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


def select_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` picks cuda, then mps, then cpu; an explicit name is checked to exist."""
    if device in (None, "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but no CUDA GPU is available: use device='auto' or 'cpu'")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("device='mps' was asked for but MPS is not available: use device='auto' or 'cpu'")
    return device


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU for a model with neither)."""
    tensor = next(model.parameters(), None)
    if tensor is None:
        tensor = next(model.buffers(), torch.empty(0))
    return tensor.device


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for a ``with`` block, then give every submodule back its own
    mode.  (``model.train(was_training)`` would not: it would also switch a submodule that was
    deliberately frozen with ``.eval()``, a fine-tuned backbone's BatchNorm say, back to training.)"""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes:
            module.training = training


def autocast(device: torch.device | str, dtype: torch.dtype | None):
    """``torch.autocast`` to ``dtype`` on ``device``'s type; ``dtype=None``: full precision."""
    return torch.autocast(torch.device(device).type, dtype=dtype, enabled=dtype is not None)


def autocast_dtype(device: torch.device, amp: bool | str | None = "auto") -> torch.dtype | None:
    """The autocast dtype for ``device``, or None for full fp32.

    ``amp="auto"``: bf16 on GPUs that support it, else fp16 (with a grad scaler); fp32 on CPU."""
    if amp is False or amp is None:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.bfloat16 if amp is True else None  # CPU: only when asked for explicitly
