"""FCN-32s/16s/8s, the VGG encoders they share with U-Net, and UNet(backbone="vgg16")."""

from urllib.error import URLError

import pytest
import torch
import torchvision
from torch import nn

from seglib.models import count_parameters, create_model
from seglib.models.blocks import BilinearUpsample, bilinear_kernel
from seglib.models.fcn import FCN, FCNHead
from seglib.models.vgg import vgg16_encoder

VGG16_FEATURES = 14_714_688
PAPER_COUNTS = {"fcn32s": 136_152_917, "fcn16s": 134_815_994, "fcn8s": 134_489_759}  # 21 classes
UPSAMPLING_KERNELS = {"fcn32s": [64], "fcn16s": [4, 32], "fcn8s": [4, 4, 16]}


@pytest.fixture
def recorded_vgg16(monkeypatch):
    """Wrap torchvision's vgg16 builder so a test can see the model it built."""
    built, builder = [], torchvision.models.vgg16

    def vgg16(**options):
        built.append(builder(**options))
        return built[-1]

    vgg16.__name__ = "vgg16"
    monkeypatch.setattr(torchvision.models, "vgg16", vgg16)
    return built


@pytest.mark.parametrize("name", PAPER_COUNTS)
def test_paper_configuration_has_the_paper_parameter_count(name):
    with torch.device("meta"):  # shapes without memory or initialisation: instant
        model = create_model(name, num_classes=21, backbone="vgg16")
    assert count_parameters(model) == PAPER_COUNTS[name]
    assert count_parameters(model.encoder) == VGG16_FEATURES
    assert count_parameters(model.head[0]) == 512 * 7 * 7 * 4096 + 4096  # fc6 as a 7x7 conv


@pytest.mark.parametrize("name", PAPER_COUNTS)
@pytest.mark.parametrize("in_channels", [3, 1])
def test_small_default_maps_to_input_size(name, in_channels):
    model = create_model(name, num_classes=9, in_channels=in_channels)
    assert model.size_divisor == 32
    assert count_parameters(model) < 3_000_000
    assert model(torch.randn(2, in_channels, 64, 96)).shape == (2, 9, 64, 96)
    assert model(torch.randn(1, in_channels, 100, 70)).shape == (1, 9, 100, 70)  # interpolated to size


def test_small_default_gets_gradients_everywhere():
    model = create_model("fcn8s", num_classes=4)
    nn.functional.cross_entropy(model(torch.randn(2, 3, 32, 64)), torch.randint(0, 4, (2, 32, 64))).backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("name", PAPER_COUNTS)
def test_upsampling_is_initialised_bilinear(name):
    model = create_model(name, num_classes=5)
    ups = [m for m in model.modules() if isinstance(m, BilinearUpsample)]
    assert [m.kernel_size[0] for m in ups] == UPSAMPLING_KERNELS[name]
    for up in ups:
        assert up.bias is None and up.weight.requires_grad
        assert torch.equal(up.weight, bilinear_kernel(5, up.kernel_size[0]))
        factor = up.stride[0]
        out = up(torch.ones(1, 5, 4, 4))
        assert out.shape == (1, 5, 4 * factor, 4 * factor)
        inner = out[..., factor:-factor, factor:-factor]  # away from the zero padding
        assert torch.allclose(inner, torch.ones_like(inner))
    frozen = FCN(5, stride=8, learn_upsampling=False)
    assert not any(m.weight.requires_grad for m in frozen.modules() if isinstance(m, BilinearUpsample))


def upsampling_flags(model) -> dict[str, bool]:
    """``requires_grad`` of each upsampling layer's weight, by layer name."""
    return {name: m.weight.requires_grad for name, m in model.named_modules() if isinstance(m, BilinearUpsample)}


@pytest.mark.parametrize("name, flags", [
    ("fcn32s", {"upscore": False}),
    ("fcn16s", {"upscore2": True, "upscore": False}),
    ("fcn8s", {"upscore2": True, "upscore_pool4": True, "upscore": False}),
])
def test_learn_final_upsampling_false_freezes_only_upscore(name, flags):
    assert upsampling_flags(create_model(name, num_classes=5, learn_final_upsampling=False)) == flags
    assert upsampling_flags(create_model(name, num_classes=5)) == dict.fromkeys(flags, True)  # the default
    torch.manual_seed(0)
    default = create_model(name, num_classes=5).state_dict()
    torch.manual_seed(0)
    paper = create_model(name, num_classes=5, learn_final_upsampling=False).state_dict()
    assert default.keys() == paper.keys() and all(torch.equal(default[k], paper[k]) for k in default)  # same weights
    frozen = create_model(name, num_classes=5, learn_upsampling=False, learn_final_upsampling=True)
    assert upsampling_flags(frozen) == dict.fromkeys(flags, False)  # learn_upsampling=False freezes them all


def test_the_paper_s_fixed_final_upsampling_stays_bilinear_after_a_step():
    """The paper's FCN-8s: one SGD step moves the learnt 2x upsamplings, not the final x8."""
    torch.manual_seed(0)
    model = create_model("fcn8s", num_classes=4, learn_final_upsampling=False)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = nn.functional.cross_entropy(model(torch.randn(2, 3, 32, 32)), torch.randint(0, 4, (2, 32, 32)))
    loss.backward()
    optimizer.step()
    assert model.upscore.weight.grad is None
    assert torch.equal(model.upscore.weight, bilinear_kernel(4, 16))
    assert not torch.equal(model.upscore2.weight, before["upscore2.weight"])
    assert not torch.equal(model.upscore_pool4.weight, before["upscore_pool4.weight"])


def test_fcn32s_has_the_most_parameters_through_its_final_upsampling():
    models = {name: create_model(name, num_classes=7) for name in ("fcn32s", "fcn16s", "fcn8s")}
    counts = {name: count_parameters(model) for name, model in models.items()}
    assert counts == {"fcn32s": 1_980_151, "fcn16s": 1_831_310, "fcn8s": 1_794_917}
    assert [model.upscore.weight.numel() for model in models.values()] == [7 * 7 * 64 * 64, 7 * 7 * 32 * 32,
                                                                            7 * 7 * 16 * 16]
    without_upscore = {name: counts[name] - model.upscore.weight.numel() for name, model in models.items()}
    assert without_upscore["fcn32s"] < without_upscore["fcn16s"] < without_upscore["fcn8s"]  # the skips add a little


def test_paper_configuration_forward_shape():
    with torch.device("meta"):  # shapes flow through the layers without computing anything
        model = create_model("fcn8s", num_classes=21, backbone="vgg16").eval()
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 21, 64, 64)
        assert model(torch.randn(1, 3, 96, 64)).shape == (1, 21, 96, 64)
    assert [m.kernel_size[0] for m in model.modules() if isinstance(m, BilinearUpsample)] == [4, 4, 16]


@pytest.mark.slow  # 135 M parameters initialised for real: about 8 s on a 2-core CPU
def test_paper_configuration_forward():
    torch.manual_seed(0)
    model = create_model("fcn8s", num_classes=21, backbone="vgg16").eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64))
    assert out.shape == (1, 21, 64, 64) and torch.isfinite(out).all()
    assert torch.equal(model.upscore.weight, bilinear_kernel(21, 16))


def test_fc6_fc7_take_the_vgg_classifier_weights():
    """FCN's convolutionalisation, checked on a narrow head: on a 7x7 map the 7x7 fc6 conv
    computes what VGG's first Linear layer computes on the flattened map."""
    torch.manual_seed(0)
    head = FCNHead(8, num_classes=3, width=16)
    classifier = nn.Sequential(nn.Linear(8 * 7 * 7, 16), nn.ReLU(), nn.Dropout(), nn.Linear(16, 16))
    head.load_vgg_classifier(classifier)
    x = torch.randn(2, 8, 7, 7)
    fc6 = head[0][0](x)[:, :, 3, 3]  # the centre position sees the whole map
    assert torch.allclose(fc6, classifier[0](x.flatten(1)), atol=1e-5)
    assert torch.equal(head[2][0].weight[:, :, 0, 0], classifier[3].weight)


@pytest.mark.parametrize("name", ["fcn8s", "unet"])
def test_pretrained_offline_gives_a_clear_error(monkeypatch, name):
    def offline(**options):
        raise URLError("no network")

    offline.__name__ = "vgg16"
    monkeypatch.setattr(torchvision.models, "vgg16", offline)
    with pytest.raises(RuntimeError, match="pretrained weights vgg16.*offline"):
        create_model(name, num_classes=3, backbone="vgg16", pretrained=True)


@pytest.mark.parametrize("name", ["fcn32s", "unet"])
def test_unknown_backbone_lists_the_valid_ones(name):
    with pytest.raises(ValueError, match="unknown backbone 'resnet50'.*'vgg16'"):
        create_model(name, num_classes=3, backbone="resnet50")
    with pytest.raises(ValueError, match="pretrained=True needs a backbone"):
        create_model(name, num_classes=3, pretrained=True)


def test_fcn_rejects_other_strides():
    with pytest.raises(ValueError, match="stride must be 8, 16 or 32"):
        FCN(3, stride=4)


def test_unet_vgg16_encoder_is_torchvisions_vgg16(recorded_vgg16):
    with torch.device("meta"):  # torchvision's builder too: 138 M parameters without memory
        model = create_model("unet", num_classes=4, backbone="vgg16").eval()
        assert model(torch.randn(1, 3, 64, 32)).shape == (1, 4, 64, 32)
    (vgg,) = recorded_vgg16
    assert [len(stage) for stage in model.down] == [4, 4, 6, 6, 6]  # conv + ReLU pairs: 2, 2, 3, 3, 3
    assert all(a is b for a, b in zip(model.down.parameters(), vgg.features.parameters(), strict=True))  # same tensors
    assert count_parameters(model.down) == VGG16_FEATURES
    assert model.size_divisor == 16

    # in_channels=1: a grey image gets the response of the same image repeated as RGB (the
    # first convolution, the only one this reads, with real weights)
    vgg.features[0] = nn.Conv2d(3, 64, 3, padding=1)
    grey = vgg16_encoder(vgg, in_channels=1).stages[0][0]
    x = torch.randn(1, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(grey(x), vgg.features[0](x.expand(1, 3, 8, 8)), atol=1e-5)
