"""The U-Net variants: U-Net without its skips (the ablation), Inception-UNet (skips added, or
concatenated) and the dilated depthwise-separable U-Net (skips concatenated), at their small
defaults and at the source configurations."""

from fractions import Fraction

import pytest
import torch
from torch import nn

from seglib.costs import count_macs
from seglib.models import blocks, count_parameters, create_model
from seglib.models.inception_unet import SOURCE_FILTERS

INCEPTION_SOURCE = dict(num_classes=34, filters=SOURCE_FILTERS, bottleneck=256)
DILATED_SOURCE = dict(num_classes=20, base_channels=36)


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    """Tiny inputs: with two OpenMP threads on a busy 2-core machine every small op waits for a
    descheduled thread (this file takes ~1 s with one thread, ~30 s with two under load)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name, options, size", [
    ("inception_unet", {"num_classes": 5}, (64, 96)),
    ("inception_unet", INCEPTION_SOURCE, (32, 64)),
    ("inception_unet", {**INCEPTION_SOURCE, "branches": 2}, (32, 32)),
    ("dilated_unet", {"num_classes": 5}, (48, 64)),
    ("dilated_unet", DILATED_SOURCE, (32, 48)),
])
def test_output_is_logits_at_the_input_size(name, options, size):
    model = create_model(name, **options).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, *size))
    assert out.shape == (2, options["num_classes"], *size)


def test_dilated_source_configuration_matches_the_reference_count_and_cost():
    model = create_model("dilated_unet", **DILATED_SOURCE)
    assert count_parameters(model) == 864_383
    assert abs(count_parameters(model) / 887_840 - 1) < 0.05  # the original's count
    macs = count_macs(model, (64, 64)) * 16  # every layer's cost is proportional to H * W
    assert abs(macs / 1.24e9 - 1) < 0.02  # "1.24 GMACs for a 256x256 input"


@pytest.mark.parametrize("branches, reference, ours", [(4, 13.6e6, 13_517_178), (2, 10.4e6, 11_309_762)])
def test_inception_source_configuration_parameter_count(branches, reference, ours):
    model = create_model("inception_unet", **INCEPTION_SOURCE, branches=branches)
    assert count_parameters(model) == ours  # the decoder documented in InceptionUNet's docstring
    assert abs(ours / reference - 1) < 0.10  # the coursework only reports rounded totals
    stacks = [m for m in model.modules() if isinstance(m, blocks.InceptionStack)]
    assert {len(stack.heads) + 1 for stack in stacks} == {branches}


def test_default_models_are_much_smaller_than_the_source_ones():
    assert count_parameters(create_model("inception_unet", num_classes=34)) < 1_000_000
    assert count_parameters(create_model("dilated_unet", num_classes=20)) < 200_000


def record_inputs_and_outputs(modules):
    """Forward hooks that store ``seen[module] = (first input, output)``."""
    seen = {}

    def hook(module, inputs, output):
        seen[module] = (inputs[0].detach(), output.detach())
    for module in modules:
        module.register_forward_hook(hook)
    return seen


def test_inception_unet_adds_its_skips():
    torch.manual_seed(0)
    model = create_model("inception_unet", num_classes=3, filters=(4, 6, 8), bottleneck=10).eval()
    seen = record_inputs_and_outputs([*model.encoder, *model.project, *model.merge])
    with torch.no_grad():
        model(torch.randn(1, 3, 16, 24))
    skips = [seen[level][1] for level in reversed(model.encoder)]
    for project, merge, skip in zip(model.project, model.merge, skips):
        merged_input = seen[merge][0]
        assert merged_input.shape[1] == skip.shape[1]  # same width as the skip: added, not concatenated
        torch.testing.assert_close(merged_input, seen[project][1] + skip)
    assert [seen[m][0].shape[1] for m in model.merge] == [8, 6, 4]


def test_dilated_unet_concatenates_its_skips():
    torch.manual_seed(0)
    model = create_model("dilated_unet", **DILATED_SOURCE).eval()
    ups = [block[0] for block in model.decoder] + [model.last_up]
    seen = record_inputs_and_outputs([*model.encoder, *ups])
    with torch.no_grad():
        model(torch.randn(1, 3, 32, 32))
    assert [seen[block][1].shape[1] for block in model.encoder] == [36, 108, 324, 972]
    assert [seen[up][0].shape[1] for up in ups] == [972, 324 + 324, 108 + 108, 36 + 36]
    assert [seen[up][1].shape[1] for up in ups] == [324, 108, 36, 12]
    skips = [seen[block][1] for block in model.encoder[-2::-1]]  # 324, 108, 36 channels
    for up, skip in zip(ups[1:], skips):
        assert torch.equal(seen[up][0][:, skip.shape[1]:], skip)  # the second half is the skip itself


@pytest.mark.parametrize("name, divisor, size", [("inception_unet", 32, (48, 64)), ("dilated_unet", 16, (40, 48))])
def test_sizes_that_are_not_multiples_of_the_divisor_are_a_clear_error(name, divisor, size):
    model = create_model(name, num_classes=3)
    assert model.size_divisor == divisor
    with pytest.raises(ValueError, match=f"{size[0]}x{size[1]} does not suit .*multiples of {divisor}"):
        model(torch.zeros(1, 3, *size))


@pytest.mark.parametrize("widths", [{"base_channels": 10}, {"head_channels": 8}])
def test_dilated_unet_widths_are_multiples_of_three(widths):
    with pytest.raises(ValueError, match="multiples of 3"):
        create_model("dilated_unet", num_classes=3, **widths)


def seen_window(module, channels, at):
    """Rows and columns of the input that output pixel ``at`` depends on, and how many input
    pixels it reads: the gradient of that output pixel w.r.t. the input is non-zero exactly there."""
    x = torch.randn(1, channels, 24, 24, requires_grad=True)
    module.eval()(x)[0, :, at, at].sum().backward()
    used = x.grad[0].abs().sum(0) > 0
    rows, cols = used.any(1).nonzero().flatten(), used.any(0).nonzero().flatten()
    return (rows.min().item(), rows.max().item()), (cols.min().item(), cols.max().item()), used.sum().item()


@pytest.mark.parametrize("branch, window, taps", [(0, 7, 9), (1, 7, 16), (2, 4, 16)])
def test_receptive_field_of_each_dilated_branch(branch, window, taps):
    torch.manual_seed(0)
    block = blocks.DilatedSeparableBlock(2, 3)
    kernel, dilation, padding = blocks.DILATED_BRANCHES[branch]
    with torch.no_grad():  # all-positive weights: no gradient can cancel out
        for conv in (block.branches[branch][0], block.branches[branch][1]):
            conv.weight.fill_(1.0)
    at = 5
    rows, cols, used = seen_window(block.branches[branch], 2, at)
    first = 2 * at - padding  # stride 2: output pixel i starts reading at 2i - padding
    assert rows == cols == (first, first + window - 1)  # a window x window square ...
    assert window == dilation * (kernel - 1) + 1 and used == taps == kernel**2  # ... of which k*k are read


def test_dilated_block_sees_the_union_of_its_branches():
    torch.manual_seed(0)
    rows, cols, _ = seen_window(blocks.DilatedSeparableBlock(2, 3), 2, at=5)
    assert rows == cols == (7, 13)  # 7x7 around 2i = 10


def conv_macs(conv: nn.Conv2d, out_size):
    """Multiply-adds of a convolution from its shapes: every output value costs
    ``in_channels / groups * kernel area`` multiplications."""
    kh, kw = conv.kernel_size
    return conv.out_channels * out_size[0] * out_size[1] * (conv.in_channels // conv.groups) * kh * kw


@pytest.mark.parametrize("in_channels, out_channels, dilation", [(64, 64, 1), (32, 256, 1), (16, 8, 3)])
def test_separable_conv_costs_one_over_c_out_plus_one_over_k_squared(in_channels, out_channels, dilation):
    size, k = (20, 28), 3
    separable = blocks.SeparableConv(in_channels, out_channels, k, dilation=dilation)
    standard = nn.Conv2d(in_channels, out_channels, k, padding=dilation, dilation=dilation, bias=False)
    depthwise, pointwise = separable[0], separable[1]
    ratio = Fraction(conv_macs(depthwise, size) + conv_macs(pointwise, size), conv_macs(standard, size))
    assert ratio == Fraction(1, out_channels) + Fraction(1, k * k)
    assert ratio > Fraction(1, k * k)  # never more than 9x cheaper, let alone "100 times"
    measured = Fraction(count_macs(separable, size, in_channels), count_macs(standard, size, in_channels))
    assert measured == ratio  # the FLOP counter agrees with the shapes


# ---------------------------------------------------------------- U-Net without skips (the ablation)


@pytest.mark.parametrize("options", [{}, {"base_channels": 4, "depth": 3, "batch_norm": False}])
def test_unet_without_skips_keeps_the_shapes_and_loses_only_the_merges_extra_inputs(options):
    with_skips = create_model("unet", num_classes=5, **options)
    without = create_model("unet", num_classes=5, skips=False, **options).eval()
    with torch.no_grad():
        assert without(torch.randn(2, 3, 32, 48)).shape == (2, 5, 32, 48)
    base, depth = options.get("base_channels", 16), options.get("depth", 5)
    merge_widths = [base * 2**i for i in range(depth - 1)]  # one decoder level per skip
    extra_inputs = sum(width * width * 3 * 3 for width in merge_widths)  # first 3x3 conv: width more inputs
    assert count_parameters(with_skips) - count_parameters(without) == extra_inputs
    shapes = {name: t.shape for name, t in with_skips.state_dict().items()}
    ablated = {name: t.shape for name, t in without.state_dict().items()}
    assert shapes.keys() == ablated.keys()
    assert {name for name in shapes if shapes[name] != ablated[name]} == {
        f"merge.{i}.0.0.weight" for i in range(depth - 1)}  # only the merges' first convolutions differ


@pytest.mark.parametrize("skips", [True, False])
def test_unet_merges_read_the_skip_only_with_skips(skips):
    torch.manual_seed(0)
    model = create_model("unet", num_classes=3, base_channels=4, depth=3, skips=skips).eval()
    seen = record_inputs_and_outputs([*model.down, *model.up, *model.merge])
    with torch.no_grad():
        model(torch.randn(1, 3, 16, 24))
    encoder_maps = [seen[block][1] for block in model.down[-2::-1]]  # the skips, deepest first: 8, 4 channels
    for up, merge, skip in zip(model.up, model.merge, encoder_maps):
        width = up.out_channels
        merged_input = seen[merge][0]
        assert merge[0][0].in_channels == merged_input.shape[1] == (2 * width if skips else width)
        if skips:
            assert torch.equal(merged_input, torch.cat([skip, seen[up][1]], dim=1))
        else:
            assert torch.equal(merged_input, seen[up][1])  # the upsampled features alone


# ---------------------------------------------------------------- Inception-UNet: skips added or concatenated


@pytest.mark.parametrize("skip_mode", ["add", "concat"])
def test_inception_unet_output_shape_in_both_skip_modes(skip_mode):
    model = create_model("inception_unet", num_classes=5, skip_mode=skip_mode).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 64)).shape == (2, 5, 32, 64)


@pytest.mark.parametrize("branches", [4, 2])
def test_inception_unet_add_is_the_model_without_the_option(branches):
    torch.manual_seed(0)
    plain = create_model("inception_unet", num_classes=5, branches=branches).eval()
    torch.manual_seed(0)
    added = create_model("inception_unet", num_classes=5, branches=branches, skip_mode="add").eval()
    before, after = plain.state_dict(), added.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(plain(x), added(x))


@pytest.mark.parametrize("branches", [4, 2])
def test_inception_unet_concat_costs_the_merges_wider_first_convolutions(branches):
    filters, bottleneck = (8, 8, 16, 16, 32), 64
    added = create_model("inception_unet", num_classes=5, filters=filters, bottleneck=bottleneck, branches=branches)
    concatenated = create_model("inception_unet", num_classes=5, filters=filters, bottleneck=bottleneck,
                                branches=branches, skip_mode="concat")
    # each merge's 5x5 and first 3x3 convolution (no bias: batch norm follows) read `width` more channels
    extra = sum(width * width * (5 * 5 + 3 * 3) for width in filters)
    assert count_parameters(concatenated) - count_parameters(added) == extra == 56_576


def test_inception_unet_concat_concatenates_its_skips():
    torch.manual_seed(0)
    model = create_model("inception_unet", num_classes=3, filters=(4, 6, 8), bottleneck=10,
                         skip_mode="concat").eval()
    seen = record_inputs_and_outputs([*model.encoder, *model.project, *model.merge])
    with torch.no_grad():
        model(torch.randn(1, 3, 16, 24))
    skips = [seen[level][1] for level in reversed(model.encoder)]
    for project, merge, skip in zip(model.project, model.merge, skips):
        assert torch.equal(seen[merge][0], torch.cat([skip, seen[project][1]], dim=1))
    assert [seen[m][0].shape[1] for m in model.merge] == [16, 12, 8]


def test_inception_unet_unknown_skip_mode_names_the_valid_ones():
    with pytest.raises(ValueError, match="unknown skip_mode 'sum'; valid modes: 'add', 'concat'"):
        create_model("inception_unet", num_classes=3, skip_mode="sum")
