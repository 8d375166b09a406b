"""DeepLabV3, DeepLabV3+ and PSPNet: torchvision's configuration, output strides, the
stride-4 decoder, the pyramid on the last stage, auxiliary outputs and clear errors.

The ResNet-50 models are built on the meta device (shapes, parameter counts and layers,
without memory or initialisation); the two tests that need their real values are marked slow.
The compact models are real; inputs are tiny."""

from urllib.error import URLError

import pytest
import torch
import torchvision

from seglib.models import count_parameters, create_model
from seglib.models.deeplab import suited_rates, useful_rates
from seglib.models.resnet import AuxHead, build_encoder

MODELS = ("deeplabv3", "deeplabv3plus", "pspnet")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors gain nothing from threads, and on a busy 2-core machine two OpenMP threads
    wait on each other (this file: ~3 s with one thread, over a minute with two under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


V3_RESNET50 = dict(num_classes=21, backbone="resnet50", output_stride=8, aux=False)


def on_meta(name, **options):
    with torch.device("meta"):
        return create_model(name, **options).eval()


@pytest.fixture(scope="module")
def v3_resnet50():
    return on_meta("deeplabv3", **V3_RESNET50)


@pytest.fixture(scope="module")
def v3plus_resnet50():  # output stride 16 by default
    return on_meta("deeplabv3plus", num_classes=21, backbone="resnet50")


@pytest.fixture(scope="module")
def psp_resnet50():  # output stride 8, aux=True by default
    return on_meta("pspnet", num_classes=21, backbone="resnet50")


def randn(model, *shape):
    """A random input on ``model``'s device (the meta device for the ResNet-50 fixtures)."""
    return torch.randn(*shape, device=next(model.parameters()).device)


def capture(module, inputs=True):
    """Register a forward hook that stores ``module``'s first input (or its output) in a list."""
    seen = []
    handle = module.register_forward_hook(lambda m, args, out: seen.append(args[0] if inputs else out))
    return seen, handle


# ---------------------------------------------------------------- torchvision's configuration


def torchvisions_deeplabv3_resnet50():
    return torchvision.models.segmentation.deeplabv3_resnet50(
        weights=None, weights_backbone=None, num_classes=21, aux_loss=False).eval()


def test_deeplabv3_resnet50_has_torchvisions_layers(v3_resnet50):
    with torch.device("meta"):
        reference = torchvisions_deeplabv3_resnet50()
    assert count_parameters(v3_resnet50) == count_parameters(reference) == 39_638_869
    # Same layers in the same order (the slow test below: so the same function)
    ours, theirs = v3_resnet50.state_dict(), reference.state_dict()
    assert [v.shape for v in ours.values()] == [v.shape for v in theirs.values()]


@pytest.mark.slow  # two real ResNet-50 models, a forward each
def test_deeplabv3_resnet50_with_torchvisions_weights_computes_its_function():
    torch.manual_seed(0)
    ours, reference = create_model("deeplabv3", **V3_RESNET50).eval(), torchvisions_deeplabv3_resnet50()
    ours.load_state_dict(dict(zip(ours.state_dict(), reference.state_dict().values())))
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x)["out"])


def test_aux_head_is_torchvisions_fcn_head():
    assert count_parameters(AuxHead(1024, 21)) == 2_365_205


@pytest.mark.parametrize("model_name, count", [("deeplabv3plus", 40_352_181), ("pspnet", 48_957_802)])
def test_resnet50_parameter_counts(model_name, count, v3plus_resnet50, psp_resnet50):
    model = v3plus_resnet50 if model_name == "deeplabv3plus" else psp_resnet50
    assert count_parameters(model) == count


# ---------------------------------------------------------------- output strides and rates


@pytest.mark.parametrize("output_stride", [8, 16])
def test_compact_encoder_output_stride(output_stride):
    encoder = build_encoder("compact", output_stride, base_channels=8)
    features = encoder(torch.randn(1, 3, 64, 96))
    assert features["low_level"].shape == (1, encoder.channels["low_level"], 16, 24)
    assert features["aux"].shape == (1, encoder.channels["aux"], 64 // output_stride, 96 // output_stride)
    assert features["out"].shape == (1, encoder.channels["out"], 64 // output_stride, 96 // output_stride)
    assert encoder.layer4[-1].conv2[0].dilation == (32 // output_stride,) * 2  # strides became dilation


@pytest.mark.parametrize("fixture, output_stride", [("v3_resnet50", 8), ("v3plus_resnet50", 16)])
def test_resnet50_encoder_output_stride(fixture, output_stride, request):
    encoder = request.getfixturevalue(fixture).backbone
    assert encoder.channels == {"low_level": 256, "aux": 1024, "out": 2048}
    with torch.no_grad():
        features = encoder(randn(encoder, 1, 3, 32, 32))
    assert features["low_level"].shape == (1, 256, 8, 8)
    assert features["out"].shape == (1, 2048, 32 // output_stride, 32 // output_stride)


def aspp_dilations(aspp):
    return [branch[0].dilation[0] for branch in aspp.branches[1:-1]]  # the 3x3 atrous branches


@pytest.mark.parametrize("output_stride, rates", [(8, [12, 24, 36]), (16, [6, 12, 18])])
def test_aspp_rates_follow_output_stride(output_stride, rates):
    model = create_model("deeplabv3", num_classes=3, output_stride=output_stride)
    assert aspp_dilations(model.classifier[0]) == rates
    assert model.size_divisor == output_stride
    plus = create_model("deeplabv3plus", num_classes=3, output_stride=output_stride)
    assert aspp_dilations(plus.classifier.aspp) == rates
    explicit = create_model("deeplabv3", num_classes=3, output_stride=output_stride, rates=(2, 4, 6))
    assert aspp_dilations(explicit.classifier[0]) == [2, 4, 6]


def test_resnet50_rates(v3_resnet50, v3plus_resnet50):
    assert aspp_dilations(v3_resnet50.classifier[0]) == [12, 24, 36]
    assert aspp_dilations(v3plus_resnet50.classifier.aspp) == [6, 12, 18]


@pytest.mark.parametrize("image_size, output_stride, rates", [
    ((513, 513), 16, (6, 12, 18)),  # the paper's crops: a 33x33 map
    ((513, 513), 8, (12, 24, 35)),  # a 65x65 map: the paper doubles to (12, 24, 36)
    ((96, 128), 16, (1, 2, 3)),  # a 6x8 map
    ((96, 128), 8, (2, 4, 7)),  # a 12x16 map
    ((100, 130), 16, (1, 3, 4)),  # a 7x9 map: the encoder rounds up
])
def test_suited_rates_scale_the_paper_s_rates_to_the_feature_map(image_size, output_stride, rates):
    assert suited_rates(image_size, output_stride) == rates
    encoder = build_encoder("compact", output_stride, base_channels=4).eval()
    with torch.no_grad():
        feature_size = tuple(encoder(torch.zeros(1, 3, *image_size))["out"].shape[-2:])
    side = min(feature_size)  # the map the encoder really produces
    assert rates == tuple(max(1, round(r * side / 33)) for r in (6, 12, 18))
    assert useful_rates(rates, feature_size) == rates  # every suited rate sees past its centre tap
    model = create_model("deeplabv3", num_classes=3, output_stride=output_stride, rates=rates, base_channels=4)
    assert aspp_dilations(model.classifier[0]) == list(rates)  # how to use them


# ---------------------------------------------------------------- what each head reads


@pytest.mark.parametrize("fixture", ["v3plus_resnet50", None])
def test_deeplabv3plus_decodes_stride_4_features(fixture, request):
    model = request.getfixturevalue(fixture) if fixture else create_model("deeplabv3plus", num_classes=5).eval()
    decoder = model.classifier
    low_level, h1 = capture(decoder.project)
    fused, h2 = capture(decoder.fuse)
    with torch.no_grad():
        logits = model(randn(model, 1, 3, 32, 48))
    h1.remove(), h2.remove()
    assert low_level[0].shape == (1, model.backbone.channels["low_level"], 8, 12)  # layer1, stride 4
    assert fused[0].shape[-2:] == (8, 12)  # ASPP output (stride 16) upsampled 4x and concatenated
    assert fused[0].shape[1] == decoder.aspp.project[0][0].out_channels + decoder.project[0].out_channels
    assert logits.shape == (1, 21 if fixture else 5, 32, 48)


@pytest.mark.parametrize("backbone", [pytest.param("resnet50", marks=pytest.mark.slow), "compact"])
def test_pspnet_pyramid_on_layer4_and_aux_on_layer3(backbone):
    """SMP's PSPNet pools layer2 and leaves layers 3-4 without gradient; ours pools layer4
    and every parameter learns from main + 0.4 aux loss (real gradients: a real ResNet-50)."""
    torch.manual_seed(0)
    model = create_model("pspnet", num_classes=21 if backbone == "resnet50" else 5, backbone=backbone)
    pyramid = model.classifier[0]
    assert [stage[0].output_size for stage in pyramid.stages] == [1, 2, 3, 6]
    layer3, h1 = capture(model.backbone.layer3, inputs=False)
    layer4, h2 = capture(model.backbone.layer4, inputs=False)
    pyramid_in, h3 = capture(pyramid)
    aux_in, h4 = capture(model.aux_classifier)
    try:
        assert_every_parameter_learns(model, torch.randn(2, 3, 48, 48))
    finally:
        model.zero_grad(set_to_none=True)
        for h in (h1, h2, h3, h4):
            h.remove()
    assert pyramid_in[0] is layer4[0] and aux_in[0] is layer3[0]
    assert layer4[0].shape[-2:] == (6, 6)  # output stride 8
    assert layer3[0].shape[1] == model.backbone.channels["aux"]


# ---------------------------------------------------------------- training outputs and gradients


@pytest.mark.parametrize("name, options, has_aux", [
    ("deeplabv3", {}, False), ("deeplabv3", {"aux": True}, True), ("deeplabv3plus", {}, False),
    ("deeplabv3plus", {"aux": True}, True), ("pspnet", {}, True), ("pspnet", {"aux": False}, False)])
def test_aux_output_in_training_only(name, options, has_aux):
    model = create_model(name, num_classes=4, **options)
    x = torch.randn(2, 3, 48, 64)
    out = model.train()(x)
    if has_aux:
        assert isinstance(out, tuple) and [o.shape for o in out] == [(2, 4, 48, 64)] * 2
    else:
        assert out.shape == (2, 4, 48, 64)
    with torch.no_grad():
        assert model.eval()(x).shape == (2, 4, 48, 64)


def assert_every_parameter_learns(model, x):
    model.train().zero_grad(set_to_none=True)
    out = model(x)
    target = torch.randint(0, out[0].shape[1] if isinstance(out, tuple) else out.shape[1], (x.shape[0], *x.shape[2:]))
    loss_fn = torch.nn.functional.cross_entropy
    loss = loss_fn(out[0], target) + 0.4 * loss_fn(out[1], target) if isinstance(out, tuple) else loss_fn(out, target)
    loss.backward()
    model.eval()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing, f"parameters without gradient: {missing[:5]} ({len(missing)} in all)"


def gradient_reach(loss, model):
    """The names of the parameters that ``loss`` gives a non-zero gradient."""
    named = [(n, p) for n, p in model.named_parameters()]
    grads = torch.autograd.grad(loss, [p for _, p in named], retain_graph=True, allow_unused=True)
    return {n for (n, _), g in zip(named, grads) if g is not None and g.any()}


@pytest.mark.parametrize("name", MODELS)
def test_aux_head_on_layer3_learns_from_the_aux_loss_only_when_aux_is_on(name):
    """With aux on, the aux loss alone trains the aux head and reaches the backbone up to
    layer3, never layer4 or the main head; the main loss trains everything else.  With aux
    off there is no aux head, and the main loss alone trains every parameter."""
    torch.manual_seed(0)
    x, target = torch.randn(2, 3, 64, 64), torch.randint(0, 3, (2, 64, 64))
    ce = torch.nn.functional.cross_entropy
    on = create_model(name, num_classes=3, aux=True).train()
    logits, aux_logits = on(x)
    by_main, by_aux = gradient_reach(ce(logits, target), on), gradient_reach(ce(aux_logits, target), on)
    names = {n for n, _ in on.named_parameters()}
    aux_head = {n for n in names if n.startswith("aux_classifier.")}
    up_to_layer3 = {n for n in names if n.startswith("backbone.") and not n.startswith("backbone.layer4.")}
    assert aux_head and up_to_layer3
    assert by_aux == aux_head | up_to_layer3
    assert not by_main & aux_head and by_main == names - aux_head

    torch.manual_seed(0)
    off = create_model(name, num_classes=3, aux=False).train()
    assert off.aux_classifier is None and {n for n, _ in off.named_parameters()} == names - aux_head
    out = off(x)
    assert isinstance(out, torch.Tensor)
    assert gradient_reach(ce(out, target), off) == names - aux_head


def test_every_parameter_of_deeplabv3plus_with_aux_gets_a_gradient():
    torch.manual_seed(0)  # PSPNet's: in the pyramid test above
    assert_every_parameter_learns(create_model("deeplabv3plus", num_classes=3, aux=True), torch.randn(2, 3, 64, 64))


# ---------------------------------------------------------------- sizes, channels, errors


@pytest.mark.parametrize("name", MODELS)
def test_any_input_size_and_channels(name):
    model = create_model(name, num_classes=3, in_channels=1, base_channels=8).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, 50, 70)).shape == (1, 3, 50, 70)


def test_resnet_encoder_other_input_channels():
    with torch.device("meta"):
        encoder = build_encoder("resnet50", output_stride=16, in_channels=4)
    assert encoder.conv1.in_channels == 4


def test_pretrained_offline_is_a_clear_error(monkeypatch):
    def resnet50(weights=None, **options):
        raise URLError("no network")

    monkeypatch.setattr(torchvision.models, "resnet50", resnet50)
    with pytest.raises(RuntimeError, match="pretrained=False"):
        create_model("deeplabv3", num_classes=21, backbone="resnet50", pretrained=True)
    with pytest.raises(ValueError, match="no pretrained weights"):
        create_model("pspnet", num_classes=21, pretrained=True)  # the compact backbone


@pytest.mark.parametrize("name", MODELS)
def test_bad_options_are_clear_errors(name):
    with pytest.raises(ValueError, match="output_stride must be 8 or 16, got 32"):
        create_model(name, num_classes=3, output_stride=32)
    with pytest.raises(ValueError, match="valid backbones: compact, resnet50, resnet101"):
        create_model(name, num_classes=3, backbone="resnet18")
