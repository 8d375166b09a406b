"""Notebook 04's exercise checks: they accept the notebook's solutions, name the known mistakes
of wrong ones, and their references agree with what torch computes."""

import pytest
import torch
from exercise_helpers import diagnosis, solution
from torch import nn

from seglib.exercises import check_receptive_field, check_separable_conv, check_separable_macs
from seglib.models.blocks import SeparableConv
from seglib.models.sizes import receptive_field

NOTEBOOK = "04_dilated_unet.ipynb"


# ------------------------------------------------------------------ the reference against torch


def measured_receptive_field(layers) -> int:
    """The width of the input pixels that the gradient of one output pixel of an actual stack of
    1-D convolutions (all weights 1, no padding) reaches."""
    size = receptive_field(layers) + 64
    stack = nn.Sequential(*[nn.Conv1d(1, 1, k, stride=s, dilation=d, bias=False) for k, d, s in layers])
    for conv in stack:
        nn.init.ones_(conv.weight)
    x = torch.zeros(1, 1, size, requires_grad=True)
    stack(x)[0, 0, 0].backward()
    reached = torch.nonzero(x.grad[0, 0])
    return int(reached.max() - reached.min() + 1)


STACKS = [
    [(3, 1, 1)], [(3, 2, 1)], [(3, 1, 2), (3, 1, 1)], [(3, 1, 1), (3, 1, 1), (2, 1, 2), (3, 1, 1), (3, 1, 1)],
    [(3, 1, 1), (3, 2, 1), (3, 4, 1), (3, 8, 1)], [(3, 3, 2)] * 4, [(4, 2, 2), (1, 1, 1), (5, 3, 1)],
    [(7, 1, 2), (3, 1, 2), (3, 2, 1), (3, 3, 3), (2, 1, 2)],
]


@pytest.mark.parametrize("layers", STACKS)
def test_receptive_field_matches_the_gradient_of_a_torch_stack(layers):
    assert receptive_field(layers) == measured_receptive_field(layers)


def test_receptive_field_of_random_stacks_matches_torch():
    generator = torch.Generator().manual_seed(0)
    for _ in range(10):
        depth = int(torch.randint(1, 5, (1,), generator=generator))
        layers = [tuple(int(torch.randint(low, high, (1,), generator=generator))
                        for low, high in ((1, 6), (1, 4), (1, 3))) for _ in range(depth)]
        assert receptive_field(layers) == measured_receptive_field(layers), layers


def test_receptive_field_of_no_layers_is_one_pixel():
    assert receptive_field([]) == 1


@pytest.mark.parametrize("in_channels, out_channels, kernel_size, dilation", [(4, 8, 3, 2), (8, 16, 5, 3)])
def test_seglib_separable_conv_has_the_counted_weights_and_keeps_the_size(in_channels, out_channels, kernel_size,
                                                                        dilation):
    depthwise, pointwise = list(SeparableConv(in_channels, out_channels, kernel_size, dilation=dilation))[:2]
    assert sum(p.numel() for p in (*depthwise.parameters(), *pointwise.parameters())) == (
        in_channels * kernel_size ** 2 + in_channels * out_channels)
    assert pointwise(depthwise(torch.zeros(1, in_channels, 13, 9))).shape == (1, out_channels, 13, 9)


# ------------------------------------------------------------------ exercise 1: receptive_field


def test_the_notebooks_receptive_field_passes(capsys):
    check_receptive_field(solution(NOTEBOOK, "receptive_field"))
    assert capsys.readouterr().out.endswith("all 9 cases pass\n")


def no_dilation(layers):
    field, jump = 1, 1
    for k, d, s in layers:
        field += (k - 1) * jump
        jump *= s
    return field


def no_stride(layers):
    size = 1
    for kernel, dilation, _ in layers:
        size += (kernel - 1) * dilation
    return size


def last_stride_only(layers):
    field, jump = 1, 1
    for k, d, s in layers:
        field += (k - 1) * d * jump
        jump = s
    return field


def own_stride_counted(layers):
    field, jump = 1, 1
    for k, d, s in layers:
        jump *= s
        field += (k - 1) * d * jump
    return field


def span_k_times_d(layers):
    field, jump = 1, 1
    for k, d, s in layers:
        span = k * d
        field += (span - 1) * jump
        jump *= s
    return field


def spans_added(layers):
    total, jump = 0, 1
    for k, d, s in layers:
        total += ((k - 1) * d + 1) * jump
        jump *= s
    return total


def starts_at_zero(layers):
    field, jump = 0, 1
    for k, d, s in layers:
        field += (k - 1) * d * jump
        jump *= s
    return field


def dilation_squared(layers):
    field, jump = 1, 1
    for k, d, s in layers:
        field += (k - 1) * d * d * jump
        jump *= s
    return field


@pytest.mark.parametrize("wrong, case, words", [
    (no_dilation, 2, "the dilation is ignored"),
    (no_stride, 4, "the strides are ignored"),
    (last_stride_only, 5, "not the last layer's stride alone"),
    (own_stride_counted, 4, "a layer's own stride does not widen"),
    (span_k_times_d, 2, "not k * d"),
    (spans_added, 3, "the windows of consecutive layers overlap"),
    (starts_at_zero, 1, "start from 1, not 0"),
])
def test_receptive_field_mistakes_are_named(wrong, case, words):
    message = diagnosis(check_receptive_field, wrong)
    assert f"case {case} " in message and words in message, message


def test_an_unknown_receptive_field_mistake_shows_the_smallest_failing_case():
    message = diagnosis(check_receptive_field, dilation_squared)
    assert "case 2 (one 3x3 convolution at dilation 2), the smallest that fails: 9, expected 5" in message, message


def test_an_unwritten_exercise_says_so():
    def stub(layers):
        raise NotImplementedError()

    assert "not written yet" in diagnosis(check_receptive_field, stub)


# ------------------------------------------------------------------ exercise 2: SeparableConv2d


def test_the_notebooks_separable_conv_passes(capsys):
    check_separable_conv(solution(NOTEBOOK, "SeparableConv2d"))
    assert capsys.readouterr().out.endswith("all 6 cases pass\n")


class NoGroups(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, padding=dilation * (kernel_size - 1) // 2,
                                   dilation=dilation, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class UnscaledPadding(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, padding=kernel_size // 2,
                                   dilation=dilation, groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class PaddingIsDilation(nn.Sequential):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__(nn.Conv2d(in_channels, in_channels, kernel_size, padding=dilation, dilation=dilation,
                                   groups=in_channels, bias=False),
                         nn.Conv2d(in_channels, out_channels, 1, bias=False))


class DepthwiseOnly(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, in_channels, kernel_size, padding=dilation * (kernel_size - 1) // 2,
                              dilation=dilation, groups=in_channels, bias=False)

    def forward(self, x):
        return self.conv(x)


class WithBiases(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, padding=dilation * (kernel_size - 1) // 2,
                                   dilation=dilation, groups=in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class Standard(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=dilation * (kernel_size - 1) // 2,
                              dilation=dilation, bias=False)

    def forward(self, x):
        return self.conv(x)


class Unpadded(nn.Sequential):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__(nn.Conv2d(in_channels, in_channels, kernel_size, dilation=dilation, groups=in_channels,
                                   bias=False),
                         nn.Conv2d(in_channels, out_channels, 1, bias=False))


class NotDilated(nn.Sequential):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__(nn.Conv2d(in_channels, in_channels, kernel_size, padding=dilation * (kernel_size - 1) // 2,
                                   groups=in_channels, bias=False),
                         nn.Conv2d(in_channels, out_channels, 1, bias=False))


class PointwiseFirst(nn.Sequential):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__(nn.Conv2d(in_channels, out_channels, 1, bias=False),
                         nn.Conv2d(out_channels, out_channels, kernel_size, padding=dilation * (kernel_size - 1) // 2,
                                   dilation=dilation, groups=out_channels, bias=False))


class ChannelMultiplier(nn.Sequential):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__(nn.Conv2d(in_channels, out_channels, kernel_size, padding=dilation * (kernel_size - 1) // 2,
                                   dilation=dilation, groups=in_channels, bias=False))


class PointwiseIs3x3(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, padding=dilation * (kernel_size - 1) // 2,
                                   dilation=dilation, groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


@pytest.mark.parametrize("wrong, case, words", [
    (NoGroups, 1, "the depthwise convolution is a full convolution"),
    (Standard, 1, "that is a standard convolution"),
    (UnscaledPadding, 2, "the padding is not scaled by the dilation"),
    (PaddingIsDilation, 4, "padding = dilation keeps the size only for 3x3 kernels"),
    (DepthwiseOnly, 1, "the 1x1 pointwise convolution is missing"),
    (WithBiases, 1, "the convolutions have biases"),
    (Unpadded, 1, "no padding, so the output shrinks"),
    (NotDilated, 2, "the dilation is not passed to the depthwise convolution"),
    (PointwiseFirst, 1, "the order is reversed"),
    (ChannelMultiplier, 1, "the 1x1 pointwise convolution is missing"),
])
def test_separable_conv_mistakes_are_named(wrong, case, words):
    message = diagnosis(check_separable_conv, wrong)
    assert f"case {case} " in message and words in message, message


def test_an_unknown_separable_conv_mistake_shows_the_smallest_failing_case():
    message = diagnosis(check_separable_conv, PointwiseIs3x3)
    assert "case 1 (4 -> 8 channels, 3x3, 8x8 input), the smallest that fails: parameters: 324, expected 68" in message


# ------------------------------------------------------------------ exercise 3: separable_macs


def test_the_notebooks_separable_macs_passes(capsys):
    check_separable_macs(solution(NOTEBOOK, "separable_macs"))
    assert capsys.readouterr().out.endswith("all 5 cases pass\n")


def as_standard(in_channels, out_channels, kernel_size, height, width):
    return in_channels * out_channels * kernel_size * kernel_size * height * width


def pointwise_only(in_channels, out_channels, kernel_size, height, width):
    return in_channels * out_channels * height * width


def depthwise_only(in_channels, out_channels, kernel_size, height, width):
    return kernel_size ** 2 * in_channels * height * width


def per_pixel(in_channels, out_channels, kernel_size, height, width):
    return kernel_size ** 2 * in_channels + in_channels * out_channels


def depthwise_as_full(in_channels, out_channels, kernel_size, height, width):
    return (kernel_size ** 2 * in_channels * in_channels + in_channels * out_channels) * height * width


def as_flops(in_channels, out_channels, kernel_size, height, width):
    return 2 * (kernel_size ** 2 * in_channels + in_channels * out_channels) * height * width


def channels_forgotten(in_channels, out_channels, kernel_size, height, width):
    return (kernel_size ** 2 + out_channels) * height * width


@pytest.mark.parametrize("wrong, words", [
    (as_standard, "that is a standard convolution's count"),
    (pointwise_only, "the depthwise convolution is missing"),
    (depthwise_only, "the pointwise convolution is missing"),
    (per_pixel, "that is per output pixel"),
    (depthwise_as_full, "the depthwise convolution is counted as a full one"),
    (as_flops, "that counts FLOPs"),
])
def test_separable_macs_mistakes_are_named(wrong, words):
    message = diagnosis(check_separable_macs, wrong)
    assert "case 1 " in message and words in message, message


def test_an_unknown_separable_macs_mistake_shows_the_smallest_failing_case():
    message = diagnosis(check_separable_macs, channels_forgotten)
    assert "case 1 (4 -> 8 channels, 3x3, 8x8 image), the smallest that fails: 1088, expected 4352" in message
