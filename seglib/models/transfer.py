"""Transfer learning: move a trained model to a dataset with other classes.

``replace_head(model, num_classes)`` keeps everything the model learnt that does not depend on
the number of classes (the encoder, the decoder, ASPP, ...) and gives it new class layers: the
final classifier, the auxiliary head's classifier, and in FCN the score and upsampling layers.
Which tensors those are is not written down per model: they are the ones whose shape changes
with the number of classes, found by building the same model for two class counts.
"""

import torch
from torch import nn

from . import check_num_classes, create_model


def class_dependent(config: dict, num_classes: int) -> set[str]:
    """The names of the state tensors of the model ``config`` describes whose shape depends on
    the number of classes (compared at ``num_classes`` and ``num_classes + 1``)."""
    options = {k: v for k, v in config.items() if k not in ("name", "num_classes", "pretrained")}
    one = create_model(config["name"], num_classes=num_classes, **options).state_dict()
    other = create_model(config["name"], num_classes=num_classes + 1, **options).state_dict()
    return {name for name, tensor in one.items() if tensor.shape != other[name].shape}


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """A copy of ``model`` (built by ``create_model``) that predicts ``num_classes`` classes.

    Every learnt tensor that does not depend on the number of classes is copied; the class
    layers are new, initialised as ``create_model`` initialises them (from torch's current
    random state: seed first for a repeatable run).  The copy is on ``model``'s device, in
    training mode; ``copy.new_layers`` lists the names of the new tensors.  ``model`` is
    left as it was."""
    config = getattr(model, "config", None)
    if not config:
        raise ValueError("replace_head needs a model built by seglib.create_model (it reads model.config "
                         "to rebuild the model for the new classes)")
    check_num_classes(num_classes)
    options = {k: v for k, v in config.items() if k not in ("name", "num_classes", "pretrained")}
    new_names = class_dependent(config, num_classes)
    new = create_model(config["name"], num_classes=num_classes, **options)
    kept = {name: tensor for name, tensor in model.state_dict().items() if name not in new_names}
    missing, unexpected = new.load_state_dict(kept, strict=False)
    assert set(missing) == new_names and not unexpected, (missing, unexpected)
    parameter = next(model.parameters(), None)
    new.to(parameter.device if parameter is not None else torch.device("cpu"))
    new.new_layers = sorted(new_names)
    return new
