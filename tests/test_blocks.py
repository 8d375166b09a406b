"""The building blocks: shapes, the bilinear kernel, ASPP and pyramid pooling wiring."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from seglib.models import blocks


def test_conv_bn_relu_keeps_the_size_for_any_kernel_and_dilation():
    x = torch.randn(2, 4, 10, 14)
    for kernel, dilation in ((3, 1), (3, 4), (5, 1), ((3, 1), 1), ((1, 3), 2)):
        assert blocks.ConvBNReLU(4, 6, kernel, dilation)(x).shape == (2, 6, 10, 14)
    no_bn = blocks.ConvBNReLU(4, 6, batch_norm=False)
    assert no_bn[0].bias is not None and len(no_bn) == 2


def test_separable_conv_is_depthwise_then_pointwise():
    conv = blocks.SeparableConv(8, 16)
    depthwise, pointwise = conv[0], conv[1]
    assert depthwise.groups == 8 and depthwise.weight.shape == (8, 1, 3, 3)
    assert pointwise.weight.shape == (16, 8, 1, 1)
    assert conv(torch.randn(1, 8, 9, 11)).shape == (1, 16, 9, 11)


def test_dilated_block_halves_the_size_and_concatenates_three_branches():
    block = blocks.DilatedSeparableBlock(6, 5)
    assert block(torch.randn(1, 6, 16, 24)).shape == (1, 15, 8, 12)
    assert [b[0].dilation for b in block.branches] == [(3, 3), (2, 2), (1, 1)]
    up = blocks.SeparableUpBlock(15, 4)
    assert up(torch.randn(1, 15, 8, 12)).shape == (1, 12, 16, 24)


@pytest.mark.parametrize("branches", [2, 4])
def test_inception_stack_concatenates_its_branches(branches):
    stack = blocks.InceptionStack(5, 7, branches=branches)
    assert stack.out_channels == branches * 7
    assert stack(torch.randn(2, 5, 12, 16)).shape == (2, branches * 7, 12, 16)
    assert blocks.Reduction(stack.out_channels, 7)(stack(torch.randn(1, 5, 8, 8))).shape == (1, 7, 8, 8)
    with pytest.raises(ValueError, match="branches"):
        blocks.InceptionStack(5, 7, branches=3)


def test_aspp_branches_rates_and_image_pooling():
    aspp = blocks.ASPP(8, rates=(6, 12, 18), out_channels=16).eval()
    atrous = [m for m in aspp.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert [m.dilation[0] for m in atrous] == [6, 12, 18]
    assert isinstance(aspp.branches[-1], blocks.ImagePooling)
    x = torch.randn(2, 8, 12, 16)
    assert aspp(x).shape == (2, 16, 12, 16)
    pooled = aspp.branches[-1](x)
    assert torch.allclose(pooled, pooled[..., :1, :1].expand_as(pooled))  # one value per image and channel


def test_pyramid_pooling_bins_and_channels():
    ppm = blocks.PyramidPooling(8, bins=(1, 2, 3, 6)).eval()
    assert [stage[0].output_size for stage in ppm.stages] == [1, 2, 3, 6]
    x = torch.randn(1, 8, 12, 18)
    out = ppm(x)
    assert out.shape == (1, 16, 12, 18) and ppm.out_channels == 16
    assert torch.equal(out[:, :8], x)  # the input passes through, pooled context is appended


@pytest.mark.parametrize("factor", [2, 4, 8])
def test_bilinear_upsample_equals_bilinear_interpolation(factor):
    torch.manual_seed(0)
    image = torch.rand(1, 3, 9, 13)
    up = blocks.BilinearUpsample(3, factor)
    assert up.bias is None and up(image).shape == (1, 3, 9 * factor, 13 * factor)
    reference = F.interpolate(image, scale_factor=factor, mode="bilinear", align_corners=False)
    inner = slice(factor, -factor)  # the transposed conv pads with zeros at the border
    torch.testing.assert_close(up(image)[..., inner, inner], reference[..., inner, inner])
    kernel = blocks.bilinear_kernel(3, 2 * factor)
    assert kernel[0, 1].abs().sum() == 0  # channel 0 never feeds channel 1


def test_bilinear_kernel_values_for_factor_two():
    kernel = blocks.bilinear_kernel(1, 4)[0, 0]
    ramp = torch.tensor([0.25, 0.75, 0.75, 0.25])
    torch.testing.assert_close(kernel, ramp[:, None] * ramp[None, :])


def test_resize_to_and_divisibility_error():
    x = torch.randn(1, 2, 5, 7)
    assert blocks.resize_to(x, (5, 7)) is x and blocks.resize_to(x, (10, 14)).shape == (1, 2, 10, 14)
    with pytest.raises(ValueError, match=r"30x32 does not suit UNet: .* multiples of 16.*seglib.predict"):
        blocks.check_divisible(torch.zeros(1, 3, 30, 32), 16, "UNet")
