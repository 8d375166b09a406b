"""Device selection, mixed-precision choice and seeding: the only place that names devices."""

import random

import numpy as np
import torch


def select_device(device="auto") -> torch.device:
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


def autocast_dtype(device: torch.device, amp="auto"):
    """The autocast dtype for ``device``, or None for full fp32.

    ``amp="auto"``: bf16 on GPUs that support it, else fp16 (with a grad scaler); fp32 on CPU."""
    if amp is False or amp is None:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.bfloat16 if amp is True else None  # CPU: only when asked for explicitly


def seed_everything(seed: int):
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
