"""Checks for notebook 04's exercises: the receptive field of a stack, a depthwise-separable
convolution as a module, and its multiply-adds.

The references are seglib's own: ``models.sizes.receptive_field``, the two convolutions of
``models.blocks.SeparableConv`` and ``count_macs`` on that block.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..costs import count_macs
from ..models.blocks import SeparableConv
from ..models.sizes import receptive_field
from .checking import Case, Mistake, module_facts, run_check

__all__ = ["check_receptive_field", "check_separable_conv", "check_separable_macs"]


# ------------------------------------------------------------------ the receptive field


def field_with(span: Callable[[int, int], int] = lambda k, d: (k - 1) * d, start: int = 1,
               jump_of: Callable[[int, int], int] = lambda jump, s: jump * s, stride_first: bool = False):
    """A receptive-field rule: ``start``, plus ``span(k, d) * jump`` per layer, the jump
    updated by ``jump_of`` after the layer (before it with ``stride_first``)."""
    def wrong(layers):
        field, jump = start, 1
        for k, d, s in layers:
            if stride_first:
                jump = jump_of(jump, s)
            field += span(k, d) * jump
            if not stride_first:
                jump = jump_of(jump, s)
        return field
    return wrong


FIELD_MISTAKES = [
    Mistake("start from 1, not 0: with no layers, or 1x1 kernels only, an output pixel sees its one input pixel",
            produces=field_with(start=0)),
    Mistake("the dilation is ignored: a kernel of size k at dilation d spans (k - 1) * d + 1 input pixels, "
            "so each layer adds (k - 1) * d steps", produces=field_with(span=lambda k, d: k - 1)),
    Mistake("the strides are ignored: after a layer of stride s, neighbouring pixels of its output lie s times "
            "further apart in the input, so each layer's (k - 1) * d steps count jump input pixels each, jump "
            "being the product of the strides of the layers before it",
            produces=field_with(jump_of=lambda jump, s: 1)),
    Mistake("the jump is the product of the strides of ALL the layers before this one, not the last layer's "
            "stride alone", produces=field_with(jump_of=lambda jump, s: s)),
    Mistake("a layer's own stride does not widen its own window: multiply its (k - 1) * d steps by the "
            "product of the strides of the layers BEFORE it, then update the jump",
            produces=field_with(stride_first=True)),
    Mistake("a kernel of size k at dilation d spans (k - 1) * d + 1 pixels, not k * d (the gaps lie only "
            "between its taps)", produces=field_with(span=lambda k, d: k * d - 1)),
    Mistake("the windows of consecutive layers overlap: start from 1 (a pixel sees itself) and add "
            "(k - 1) * d * jump per layer, not the whole span (k - 1) * d + 1",
            produces=field_with(span=lambda k, d: (k - 1) * d + 1, start=0)),
    Mistake("a kernel of size k at dilation d spans (k - 1) * d + 1 pixels, not k * d (the gaps lie only "
            "between its taps)", produces=field_with(span=lambda k, d: k * d, start=0)),
]


def check_receptive_field(receptive_field_function: Callable) -> None:
    """``receptive_field(layers)``: the width in input pixels that one output pixel of a stack of
    layers ``(kernel_size, dilation, stride)`` (first layer first) sees."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    vgg_block = [(3, 1, 1), (3, 1, 1), (2, 1, 2), (3, 1, 1), (3, 1, 1)]
    cases = [
        Case("one 3x3 convolution", ([(3, 1, 1)],)),
        Case("one 3x3 convolution at dilation 2", ([(3, 2, 1)],)),
        Case("two 3x3 convolutions", ([(3, 1, 1), (3, 1, 1)],)),
        Case("a 3x3 convolution of stride 2, then a 3x3", ([(3, 1, 2), (3, 1, 1)],)),
        Case("two 3x3, a 2x2 pooling, two 3x3 (VGG)", (vgg_block,)),
        Case("3x3 at dilations 1, 2, 4, 8 (Yu & Koltun)", ([(3, 1, 1), (3, 2, 1), (3, 4, 1), (3, 8, 1)],)),
        Case("four dilation-3 branches of stride 2 (the dilated U-Net's encoder)", ([(3, 3, 2)] * 4,)),
        Case("4x4 at dilation 2 and stride 2, a 1x1, a 5x5 at dilation 3", ([(4, 2, 2), (1, 1, 1), (5, 3, 1)],)),
        Case("no layers: a pixel sees itself", ([],)),
    ]
    run_check("receptive_field", receptive_field_function, receptive_field, cases, FIELD_MISTAKES)


# ------------------------------------------------------------------ the separable convolution


def separable_reference(in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1) -> nn.Module:
    """seglib's ``SeparableConv`` without its batch norm and activation: the two convolutions."""
    return nn.Sequential(*list(SeparableConv(in_channels, out_channels, kernel_size, dilation=dilation))[:2])


def facts_of(build: Callable[..., nn.Module]):
    """The student's function of a module check: build the module from a case's arguments and
    return its output shape and parameter count on a seeded random input of ``input_shape``."""
    def facts(in_channels, out_channels, kernel_size, input_shape, dilation=1):
        torch.manual_seed(0)
        module = build(in_channels, out_channels, kernel_size, dilation=dilation)
        x = torch.randn(input_shape, generator=torch.Generator().manual_seed(0))
        return module_facts(module, x)
    return facts


def two_convs(depthwise_groups: bool = True, padding: Callable[[int, int], int] | None = None,
              dilate: bool = True, pointwise: bool = True):
    """A depthwise-then-pointwise module with one thing changed: groups, padding, dilation or
    the pointwise convolution left out."""
    def build(in_channels, out_channels, kernel_size, dilation=1):
        pad = padding(kernel_size, dilation) if padding else dilation * (kernel_size - 1) // 2
        layers = [nn.Conv2d(in_channels, in_channels, kernel_size, padding=pad, dilation=dilation if dilate else 1,
                            groups=in_channels if depthwise_groups else 1, bias=False)]
        if pointwise:
            layers.append(nn.Conv2d(in_channels, out_channels, 1, bias=False))
        return nn.Sequential(*layers)
    return facts_of(build)


def standard_conv(in_channels, out_channels, kernel_size, dilation=1):
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=dilation * (kernel_size - 1) // 2,
                     dilation=dilation, bias=False)


def same_shape(got, expected) -> bool:
    return got["output shape"] == expected["output shape"]


def has_biases(got, expected, case: Case) -> bool:
    in_channels, out_channels = case.args[:2]
    extra = got["parameters"] - expected["parameters"]
    return same_shape(got, expected) and extra in (in_channels, out_channels, in_channels + out_channels)


def no_pointwise(got, expected, case: Case) -> bool:
    """A depthwise convolution alone, straight to ``out_channels`` (a channel multiplier)."""
    out_channels, kernel_size = case.args[1:3]
    return same_shape(got, expected) and got["parameters"] == out_channels * kernel_size ** 2


def pointwise_first(got, expected, case: Case) -> bool:
    in_channels, out_channels, kernel_size = case.args[:3]
    reversed_count = in_channels * out_channels + out_channels * kernel_size ** 2
    return same_shape(got, expected) and got["parameters"] == reversed_count


NO_POINTWISE = ("the 1x1 pointwise convolution is missing: the depthwise convolution keeps each channel apart, a "
                "1x1 convolution from in_channels to out_channels then mixes them")

SEPARABLE_MISTAKES = [
    Mistake("the depthwise convolution is a full convolution: with groups=in_channels each input channel gets "
            "its own k x k filter (in_channels * k * k weights), without it every output channel sees all "
            "the input channels (in_channels ** 2 * k * k)", produces=two_convs(depthwise_groups=False)),
    Mistake("that is a standard convolution (in_channels * out_channels * k * k weights): split it into a "
            "depthwise k x k convolution with groups=in_channels, then a 1x1 pointwise one",
            produces=facts_of(standard_conv)),
    Mistake("the padding is not scaled by the dilation, so the output shrinks: a kernel of size k at "
            "dilation d spans (k - 1) * d + 1 pixels and needs (k - 1) * d // 2 pixels of padding on each side",
            produces=two_convs(padding=lambda k, d: (k - 1) // 2)),
    Mistake("padding = dilation keeps the size only for 3x3 kernels: a kernel of size k at dilation d needs "
            "(k - 1) * d // 2 pixels of padding on each side", produces=two_convs(padding=lambda k, d: d)),
    Mistake("no padding, so the output shrinks: a kernel of size k at dilation d needs (k - 1) * d // 2 "
            "pixels of padding on each side to keep height and width", produces=two_convs(padding=lambda k, d: 0)),
    Mistake("the dilation is not passed to the depthwise convolution: its padding is scaled for the dilated "
            "kernel but the kernel is not dilated, so the output grows", produces=two_convs(dilate=False)),
    Mistake(NO_POINTWISE, produces=two_convs(pointwise=False)),
    Mistake(NO_POINTWISE, matches=no_pointwise),
    Mistake("the convolutions have biases: like seglib's SeparableConv (where a batch norm follows, whose "
            "shift replaces them), pass bias=False to both", matches=has_biases),
    Mistake("the order is reversed: the depthwise k x k convolution comes first (on in_channels channels), "
            "then the 1x1 pointwise one", matches=pointwise_first),
]


def check_separable_conv(separable_conv_class: Callable) -> None:
    """``SeparableConv2d(in_channels, out_channels, kernel_size, dilation=1)``: a depthwise
    k x k convolution with "same" padding at the dilation, then a 1x1 pointwise one, no bias;
    checked on its output shape and its parameter count."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    cases = [
        Case("4 -> 8 channels, 3x3, 8x8 input", (4, 8, 3, (1, 4, 8, 8))),
        Case("4 -> 8 channels, 3x3 at dilation 2, odd size 9x11", (4, 8, 3, (1, 4, 9, 11)), {"dilation": 2}),
        Case("6 -> 6 channels, 3x3 at dilation 3, 13x7, a batch of 2", (6, 6, 3, (2, 6, 13, 7)), {"dilation": 3}),
        Case("8 -> 4 channels, 5x5, 11x11 input", (8, 4, 5, (1, 8, 11, 11))),
        Case("8 -> 16 channels, 5x5 at dilation 3, 21x15", (8, 16, 5, (1, 8, 21, 15)), {"dilation": 3}),
        Case("3 -> 36 channels, 3x3 at dilation 3, 15x17", (3, 36, 3, (1, 3, 15, 17)), {"dilation": 3}),
    ]
    run_check("SeparableConv2d", facts_of(separable_conv_class), facts_of(separable_reference), cases,
              SEPARABLE_MISTAKES)


# ------------------------------------------------------------------ its multiply-adds


def reference_separable_macs(in_channels: int, out_channels: int, kernel_size: int, height: int, width: int) -> int:
    """seglib's count of the block's multiply-adds on one ``height x width`` image."""
    return count_macs(separable_reference(in_channels, out_channels, kernel_size), (height, width), in_channels)


def macs_with(depthwise: Callable[[int, int, int], int] = lambda i, o, k: k * k * i,
              pointwise: Callable[[int, int, int], int] = lambda i, o, k: i * o, pixels: bool = True,
              factor: int = 1):
    def wrong(in_channels, out_channels, kernel_size, height, width):
        per_pixel = depthwise(in_channels, out_channels, kernel_size) + pointwise(in_channels, out_channels,
                                                                                  kernel_size)
        return factor * per_pixel * (height * width if pixels else 1)
    return wrong


MACS_MISTAKES = [
    Mistake("that is a standard convolution's count, in_channels * out_channels * k * k per pixel: the separable "
            "one costs k * k * in_channels (depthwise) + in_channels * out_channels (pointwise) per pixel",
            produces=macs_with(depthwise=lambda i, o, k: k * k * i * o, pointwise=lambda i, o, k: 0)),
    Mistake("the depthwise convolution is missing: add its k * k multiply-adds per input channel and pixel",
            produces=macs_with(depthwise=lambda i, o, k: 0)),
    Mistake("the pointwise convolution is missing: add its in_channels * out_channels multiply-adds per pixel",
            produces=macs_with(pointwise=lambda i, o, k: 0)),
    Mistake("the depthwise convolution is counted as a full one (k * k * in_channels ** 2 per pixel): with "
            "groups=in_channels each output channel reads one input channel, k * k * in_channels per pixel",
            produces=macs_with(depthwise=lambda i, o, k: k * k * i * i)),
    Mistake("that is per output pixel: multiply by the height * width pixels of the image ('same' padding, "
            "stride 1)", produces=macs_with(pixels=False)),
    Mistake("that counts FLOPs (2 per multiply-add): count each multiply-add once", produces=macs_with(factor=2)),
]


def check_separable_macs(separable_macs: Callable) -> None:
    """``separable_macs(in_channels, out_channels, kernel_size, height, width)``: the multiply-adds
    of a depthwise-separable convolution (stride 1, "same" padding) on one image, compared with
    ``seglib.count_macs`` on seglib's block."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    cases = [
        Case("4 -> 8 channels, 3x3, 8x8 image", (4, 8, 3, 8, 8)),
        Case("16 -> 16 channels, 3x3, 32x32", (16, 16, 3, 32, 32)),
        Case("8 -> 32 channels, 5x5, odd size 15x17", (8, 32, 5, 15, 17)),
        Case("64 -> 128 channels, 3x3, 12x20", (64, 128, 3, 12, 20)),
        Case("3 -> 36 channels, 3x3, a 96x128 image", (3, 36, 3, 96, 128)),
    ]
    run_check("separable_macs", separable_macs, reference_separable_macs, cases, MACS_MISTAKES)
