"""Transfer learning: replace_head keeps what a model learnt and gives it new class layers;
ImageNet weights load from torch's cache without a download."""

import pytest
import torch
import torchvision
from torch import nn

from seglib.models import MODELS, create_model, replace_head, size_divisor


def input_for(name):
    d = max(size_divisor(name), 16)
    return torch.randn(1, 3, 2 * d, 2 * d)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_replace_head_keeps_every_tensor_but_the_class_layers(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=9)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    new = replace_head(model, 11)
    assert new.config["num_classes"] == 11 and new.new_layers
    new_state = new.state_dict()
    for key, tensor in before.items():
        if key in new.new_layers:
            assert 11 in new_state[key].shape or new_state[key].shape[0] == 11, key
        else:
            assert torch.equal(new_state[key], tensor), f"{key} was not kept"
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())  # the old model is untouched
    new.eval()
    with torch.no_grad():
        assert new(input_for(name)).shape[1] == 11


def test_replace_head_finds_fcns_score_and_upsampling_layers_and_the_aux_classifier():
    fcn = replace_head(create_model("fcn8s", num_classes=9), 11).new_layers
    assert {"score_pool4.weight", "score_pool3.weight", "upscore.weight", "upscore2.weight"} <= set(fcn)
    assert all(name.split(".")[0] in ("head", "score_pool4", "score_pool3", "upscore", "upscore2", "upscore_pool4")
               for name in fcn)
    deeplab = replace_head(create_model("deeplabv3plus", num_classes=9, aux=True), 11).new_layers
    assert deeplab == ["aux_classifier.2.bias", "aux_classifier.2.weight",
                       "classifier.classifier.bias", "classifier.classifier.weight"]


def test_replace_head_keeps_the_features_and_the_training_options():
    torch.manual_seed(0)
    model = create_model("fcn8s", num_classes=9, learn_upsampling=False).eval()
    new = replace_head(model, 5).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(new.encoder(x)[-1], model.encoder(x)[-1])
    assert not new.upscore.weight.requires_grad  # learn_upsampling=False still holds


def test_replace_head_needs_a_model_from_create_model():
    with pytest.raises(ValueError, match="built by seglib.create_model"):
        replace_head(nn.Conv2d(3, 9, 1), 11)
    with pytest.raises(ValueError, match="positive int"):
        replace_head(create_model("unet", num_classes=9), 0)


def test_pretrained_weights_load_from_torchs_cache_without_a_download(tmp_path, monkeypatch):
    """pretrained=True reads torchvision's file from $TORCH_HOME/hub/checkpoints when it is
    there (how an offline machine uses a copied file); here a state dict written locally."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    weights = torchvision.models.ResNet50_Weights.IMAGENET1K_V1
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.manual_seed(1)
    saved = torchvision.models.resnet50().state_dict()
    torch.save(saved, checkpoints / weights.url.rsplit("/", 1)[-1])
    model = create_model("deeplabv3plus", num_classes=11, backbone="resnet50", pretrained=True)
    loaded = model.state_dict()
    assert torch.equal(loaded["backbone.layer4.2.conv3.weight"], saved["layer4.2.conv3.weight"])
    assert torch.equal(loaded["backbone.conv1.weight"], saved["conv1.weight"])
