"""Models: ``create_model(name, num_classes, **options)`` from a plain registry.

Every model maps ``[N, C, H, W]`` to logits ``[N, num_classes, H, W]`` at the input size.
A model with an auxiliary head returns ``(logits, aux_logits)`` in training mode only
(``fit`` adds ``aux_weight * loss(aux_logits)``); in eval mode every model returns the
logits alone.  ``create_model(name, num_classes=K)`` gives a small model that trains on a
laptop CPU; options such as ``backbone`` or ``base_channels`` give the paper's configuration.
"""

import inspect
import numbers

from torch import nn

from .deeplab import DeepLabV3, DeepLabV3Plus
from .dilated_unet import DilatedUNet
from .fcn import FCN8s, FCN16s, FCN32s
from .inception_unet import InceptionUNet
from .pspnet import PSPNet
from .sizes import size_error, suggest_size
from .unet import UNet

__all__ = ["MODELS", "check_num_classes", "count_parameters", "create_model", "list_models", "replace_head",
           "size_divisor", "size_error", "suggest_size"]

MODELS = {
    "fcn32s": FCN32s,
    "fcn16s": FCN16s,
    "fcn8s": FCN8s,
    "unet": UNet,
    "inception_unet": InceptionUNet,
    "dilated_unet": DilatedUNet,
    "deeplabv3": DeepLabV3,
    "deeplabv3plus": DeepLabV3Plus,
    "pspnet": PSPNet,
}


def create_model(name: str, num_classes: int, **options) -> nn.Module:
    """Build model ``name``; ``model(x)`` maps ``[N, C, H, W]`` to logits ``[N, num_classes, H, W]``.

    The model remembers how it was built (``model.config``) so a checkpoint can rebuild it.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(sorted(MODELS))}")
    check_num_classes(num_classes)
    model = MODELS[name](num_classes=num_classes, **options)
    model.config = {"name": name, "num_classes": num_classes, **options}
    return model


def check_num_classes(num_classes) -> None:
    """Refuse a class count that is not a positive int (0, -3, 2.0, True), saying what it is."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, the number of classes the model predicts "
                         f"(e.g. train_data.num_classes), got {num_classes!r}")


def size_divisor(name: str, **options) -> int:
    """What model ``name`` built with ``options`` needs its input height and width to be
    multiples of (its ``size_divisor``), from the model's own rule, without building it."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(sorted(MODELS))}")
    model_class = MODELS[name]
    arguments = inspect.signature(model_class).bind_partial(**options)
    arguments.apply_defaults()  # the constructor's defaults: the rule sees what the model would get
    return model_class.input_divisor(**arguments.arguments)


def list_models() -> list[str]:
    return sorted(MODELS)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """How many numbers the model learns (``trainable_only``: those with ``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


from .transfer import replace_head  # noqa: E402  (it builds models with create_model, defined above)
