"""Models: ``create_model(name, num_classes, **options)`` from a plain registry."""

from torch import nn

from .unet import UNet

MODELS = {
    "unet": UNet,
}


def create_model(name: str, num_classes: int, **options) -> nn.Module:
    """Build model ``name``; ``model(x)`` maps ``[N, C, H, W]`` to logits ``[N, num_classes, H, W]``.

    The model remembers how it was built (``model.config``) so a checkpoint can rebuild it.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(sorted(MODELS))}")
    model = MODELS[name](num_classes=num_classes, **options)
    model.config = {"name": name, "num_classes": num_classes, **options}
    return model


def list_models() -> list[str]:
    return sorted(MODELS)


def count_parameters(model: nn.Module, trainable_only=False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
