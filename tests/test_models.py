"""One contract for every registered model, checked on a tiny input (torchvision's style:
one parametrized test over every builder)."""

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import seglib
from seglib.models import MODELS, count_parameters, create_model, list_models

NAMES = list_models()
SIZE = (64, 96)


def test_registry_names_are_the_public_ones():
    assert set(NAMES) == {"fcn32s", "fcn16s", "fcn8s", "unet", "inception_unet", "dilated_unet", "deeplabv3",
                          "deeplabv3plus", "pspnet"}
    with pytest.raises(ValueError, match="unknown model 'segnet'; valid names: deeplabv3, deeplabv3plus"):
        create_model("segnet", num_classes=3)


@pytest.mark.parametrize("bad", [0, -3, 2.0, True, "9", None])
@pytest.mark.parametrize("name", ["unet", "fcn8s"])
def test_a_class_count_that_is_not_a_positive_int_is_refused(name, bad):
    with pytest.raises(ValueError, match=f"num_classes must be a positive int, .* got {re.escape(repr(bad))}$"):
        create_model(name, num_classes=bad)


def test_a_numpy_class_count_is_accepted():
    assert create_model("unet", num_classes=np.int64(2)).config["num_classes"] == 2


@pytest.mark.parametrize("name", NAMES)
def test_model_contract(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=5)
    assert isinstance(model.size_divisor, int) and all(s % model.size_divisor == 0 for s in SIZE)
    assert model.config == {"name": name, "num_classes": 5}
    x = torch.randn(2, 3, *SIZE)
    out = model.train()(x)
    logits, aux = out if isinstance(out, tuple) else (out, None)
    assert logits.shape == (2, 5, *SIZE)
    assert (aux is not None) == (name == "pspnet")  # on by default for PSPNet only, as in the papers
    target = torch.randint(0, 5, (2, *SIZE))
    loss = F.cross_entropy(logits, target) + (0 if aux is None else 0.4 * F.cross_entropy(aux, target))
    loss.backward()
    unused = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not unused, f"{name}: parameters without gradient in training mode: {unused[:5]}"
    with torch.no_grad():
        assert model.eval()(x).shape == (2, 5, *SIZE)  # eval: the logits alone


@pytest.mark.parametrize("name", NAMES)
def test_default_models_are_small_cpu_models(name):
    model = create_model(name, num_classes=9)
    assert count_parameters(model) < 5_000_000, "the no-option default must train on a laptop CPU"


@pytest.mark.parametrize("name, aux", [("pspnet", True), ("deeplabv3", True), ("deeplabv3", False)])
def test_fit_trains_models_with_and_without_aux_heads(name, aux, stripes):
    """fit takes the (logits, aux_logits) pair: the aux loss is what trains the aux head (a
    parameter that no loss reaches keeps no gradient, and AdamW leaves it as it was)."""
    torch.manual_seed(0)
    model = create_model(name, num_classes=3, aux=aux)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    data = stripes(length=8, image_size=(32, 32))
    history = seglib.fit(model, data, data, steps=2, batch_size=4, progress=False, device="cpu")
    assert history["step"] == [2] and math.isfinite(history.last["train_loss"]) and 0 <= history.last["miou"] <= 1
    unchanged = [n for n, p in model.named_parameters() if torch.equal(p.detach().cpu(), before[n])]
    assert not unchanged, f"parameters fit did not train: {unchanged[:5]}"
    assert any(n.startswith("aux_classifier.") for n in before) == aux


def test_every_registered_model_accepts_one_input_channel():
    for name, cls in MODELS.items():
        model = create_model(name, num_classes=2, in_channels=1).eval()
        with torch.no_grad():
            assert model(torch.randn(1, 1, *SIZE)).shape == (1, 2, *SIZE), name
