"""Checkpoints: written atomically (``seglib.atomic``: temporary file, then rename) and read
back with ``torch.load(..., weights_only=True)``, which cannot run code hidden in the file."""

from pathlib import Path

import torch
from torch import nn

from .atomic import atomic_write


def save_checkpoint(path: str | Path, model: nn.Module, **state) -> None:
    """Save ``model``'s weights, its build config and any extra ``state`` to ``path`` atomically."""
    payload = {"model": model.state_dict(), "config": getattr(model, "config", None), **state}
    atomic_write(path, lambda f: torch.save(payload, f))


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint saved by ``save_checkpoint`` (tensors and plain Python values only)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}: train with fit(..., checkpoint='{path}') first")
    return torch.load(path, map_location=map_location, weights_only=True)


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Rebuild the model saved in checkpoint ``path`` (via ``create_model``) in eval mode."""
    from .models import create_model

    ckpt = load_checkpoint(path, map_location)
    config = ckpt.get("config")
    if not config:
        raise ValueError(f"{path} has no model config: build the model yourself and call "
                         "model.load_state_dict(load_checkpoint(path)['model'])")
    config = dict(config)
    model = create_model(config.pop("name"), **config)
    model.load_state_dict(ckpt["model"])
    return model.eval()
