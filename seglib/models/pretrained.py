"""torchvision backbones, with their ImageNet weights on request.

``pretrained=True`` asks torchvision for its ImageNet weights, which it downloads once into
torch's cache (``~/.cache/torch/hub/checkpoints``); a machine without internet gets a clear
error saying what to do instead.
"""

from urllib.error import URLError


def torchvision_model(builder, weights, pretrained=False, **options):
    """``builder(weights=weights if pretrained else None, **options)``, e.g.
    ``torchvision_model(torchvision.models.vgg16, "IMAGENET1K_V1", pretrained=True)``."""
    if not pretrained:
        return builder(weights=None, **options)
    try:
        return builder(weights=weights, **options)
    except (URLError, OSError, RuntimeError) as error:
        raise RuntimeError(
            f"could not load torchvision's pretrained weights {builder.__name__}(weights={weights!r}): {error}. "
            "This machine may be offline: copy the weight file into torch's cache "
            "(~/.cache/torch/hub/checkpoints, or $TORCH_HOME/hub/checkpoints) from a machine that can "
            "download it, or pass pretrained=False to train from scratch") from error
