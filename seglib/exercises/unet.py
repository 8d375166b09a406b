"""Checks for notebook 02's exercises: the output size of the paper's valid-padding U-Net, the
smallest input it accepts, and its decoder block.

The references are seglib's own: ``models.unet.valid_unet_sizes`` for the sizes, and
:class:`ValidUpBlock`, the decoder block built from seglib's ``DoubleConv`` (a valid
convolution is the centre of a "same" one).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from functools import partial

import torch
from torch import nn

from ..models.blocks import DoubleConv
from ..models.unet import valid_unet_sizes
from .checking import Case, Mistake, difference, run_check, show

__all__ = ["check_smallest_valid_input", "check_up_block", "check_valid_unet_output"]


class Refused:
    """What a call that raised ``ValueError`` is compared as (the sizes' exercises must refuse
    an odd size with ``ValueError``)."""

    def __repr__(self) -> str:
        return "ValueError"


REFUSED = Refused()


def refusing(function: Callable) -> Callable:
    """``function``, with a ``ValueError`` it raises returned as ``REFUSED``; other errors
    (``NotImplementedError`` of a stub included) go through."""
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ValueError:
            return REFUSED
    return call


def compare_refusals(got, expected) -> str | None:
    if got is REFUSED or expected is REFUSED:
        if got is expected:
            return None
        said = "raised ValueError" if got is REFUSED else f"returned {show(got)}"
        return f"{said}, expected {'a ValueError' if expected is REFUSED else show(expected)}"
    return difference(got, expected)


def reference_output(size: int, depth: int = 5) -> int:
    return valid_unet_sizes(size, depth)[2]


def arithmetic_with(conv_loss: int = 4, bottom_convs: bool = True, decoder_convs: bool = True,
                    round_odd: bool = False, extra_levels: int = 0) -> Callable:
    """A wrong output size: ``conv_loss`` pixels per level, the bottom level's or the decoder's
    convolutions left out, odd sizes rounded down by the pooling, or ``extra_levels`` levels."""
    def wrong(size, depth=5):
        levels = depth + extra_levels
        for level in range(levels):
            if level < levels - 1 or bottom_convs:
                size -= conv_loss
            if level < levels - 1:
                if size % 2 and not round_odd:
                    raise ValueError("odd")
                size //= 2
        for _ in range(levels - 1):
            size = 2 * size - (conv_loss if decoder_convs else 0)
        return size
    return refusing(wrong)


def refused_with(kind: type | None):
    """A mistake test: the input must be refused (an odd size reaches a pooling) and the
    student's code returned a number (``kind=None``) or raised ``kind`` instead."""
    def matches(got, expected, case: Case) -> bool:
        if expected is not REFUSED:
            return False
        if kind is None:
            return isinstance(got, (int, float)) and not isinstance(got, bool)
        return isinstance(got, kind)
    return matches


ODD = "a 2x2 pooling cannot halve an odd size"
OUTPUT_MISTAKES = [
    Mistake("each level has two 3x3 convolutions, and each trims one pixel per side: a level loses 4 pixels, "
            "not 2", produces=arithmetic_with(conv_loss=2)),
    Mistake("each level has two 3x3 convolutions, and each trims one pixel per side: a level loses 4 pixels, "
            "not 2 (and an odd size must be refused, not rounded)",
            produces=arithmetic_with(conv_loss=2, round_odd=True)),
    Mistake("the bottom level (the deepest, which is not pooled) has its two 3x3 convolutions too: 4 pixels fewer",
            produces=arithmetic_with(bottom_convs=False)),
    Mistake("after each 2x2 up-convolution come two 3x3 convolutions: the decoder loses 4 pixels per level too",
            produces=arithmetic_with(decoder_convs=False)),
    Mistake("depth counts the levels, the bottom one included: depth 5 has 4 poolings and 4 up-convolutions",
            produces=arithmetic_with(extra_levels=1)),
    Mistake("depth counts the levels, the bottom one included: depth 5 has 4 poolings and 4 up-convolutions",
            produces=arithmetic_with(extra_levels=-1)),
    Mistake(f"{ODD}: raise ValueError when a level that is pooled outputs an odd size, do not round it",
            matches=refused_with(None)),
    Mistake(f"{ODD}: raise ValueError there, do not return None", matches=lambda got, expected, case:
            expected is REFUSED and got is None),
    Mistake(f"{ODD}: raise ValueError there (an assert is not a ValueError, and Python may skip it)",
            matches=refused_with(AssertionError)),
]


def check_valid_unet_output(valid_unet_output: Callable) -> None:
    """``valid_unet_output(size, depth=5)``: the output size of the paper's U-Net (two valid 3x3
    convolutions per level, 2x2 poolings, 2x2 up-convolutions); ``ValueError`` when a pooling
    would see an odd size."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    cases = [
        Case("input 60, depth 3", (60, 3)),
        Case("input 36, depth 2", (36, 2)),
        Case("input 124, depth 3", (124, 3)),
        Case("input 252, depth 4", (252, 4)),
        Case("the paper: input 572, depth 5", (572,)),
        Case("input 10, depth 1: no pooling at all", (10, 1)),
        Case("input 101, depth 2: the first pooling sees 97", (101, 2)),
        Case("input 570, depth 5: the second pooling sees 279", (570, 5)),
        Case("input 1000, depth 4: the third pooling sees 243", (1000, 4)),
    ]
    run_check("valid_unet_output", refusing(valid_unet_output), refusing(reference_output), cases,
              OUTPUT_MISTAKES, compare=compare_refusals)


def reference_smallest(size: int, depth: int = 5) -> int:
    while True:
        try:
            valid_unet_sizes(size, depth)  # refuses odd poolings and an output of 0 or less
            return size
        except ValueError:
            size += 1


def search_with(output: Callable = refusing(reference_output), start: int = 0, returns_output: bool = False):
    """A wrong search: the first input from ``size + start`` whose ``output`` (its own arithmetic)
    is a positive number; that input, or its output size."""
    def wrong(size, depth=5):
        size += start
        while True:
            out = output(size, depth)
            if out is not REFUSED and out > 0:
                return out if returns_output else size
            size += 1
    return wrong


def searching_without_size_check(size, depth=5):
    """The first input whose poolings all see even sizes, however small its output."""
    while arithmetic_with()(size, depth) is REFUSED:
        size += 1
    return size


SEARCH_MISTAKES = [
    Mistake("every pooling must see an even size: an input whose levels reach a pooling with an odd size is "
            "refused, even if its output is positive", produces=search_with(arithmetic_with(round_odd=True))),
    Mistake("at or above: when `size` itself is valid, it is the answer", produces=search_with(start=1)),
    Mistake("return the input size you found, not its output size", produces=search_with(returns_output=True)),
    Mistake("the output must have at least one pixel: an input whose sizes drop to 0 or below is too small",
            produces=searching_without_size_check),
]


def check_smallest_valid_input(smallest_valid_input: Callable) -> None:
    """``smallest_valid_input(size, depth=5)``: the smallest input at or above ``size`` whose
    poolings all see even sizes and whose output has at least one pixel."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    cases = [
        Case("depth 1, from 3", (3, 1)),
        Case("depth 2, from 1", (1, 2)),
        Case("depth 3, from 1", (1, 3)),
        Case("depth 3, from 100 (valid itself)", (100, 3)),
        Case("depth 4, from 250", (250, 4)),
        Case("the paper's depth 5, from 1", (1, 5)),
        Case("depth 5, from 389", (389,)),
        Case("the paper's 572 (valid itself)", (572, 5)),
    ]
    run_check("smallest_valid_input", smallest_valid_input, reference_smallest, cases, SEARCH_MISTAKES)


def crop(x: torch.Tensor, size: Sequence[int], where: str = "centre") -> torch.Tensor:
    """The ``size`` (H, W) window of ``x``: its centre, or its top-left or bottom-right corner."""
    height, width = size
    spare_h, spare_w = x.shape[-2] - height, x.shape[-1] - width
    top, left = {"centre": (spare_h // 2, spare_w // 2), "top-left": (0, 0), "bottom-right": (spare_h, spare_w)}[where]
    return x[..., top:top + height, left:left + width]


class ValidUpBlock(nn.Module):
    """The paper's decoder step, from seglib's blocks: a 2x2 up-convolution from ``in_channels`` to
    ``in_channels // 2``, the skip's centre cropped to the upsampled size, ``[skip, up]``
    concatenated, and seglib's ``DoubleConv`` without batch norm, whose "same" output is cropped
    by 2 pixels per side: exactly two valid 3x3 convolutions (a valid convolution is the centre
    of a same one).  ``(N, C, h, w)`` and a skip ``(N, C // 2, H, W)`` -> ``(N, out_channels,
    2h - 4, 2w - 4)``.

    The other options build the known mistakes: ``halve=False`` (the up-convolution keeps the
    channels), ``crop_at`` ("top-left", "bottom-right"), ``skip_first=False``, ``relus`` (1: the
    last ReLU missing, 0: none)."""

    def __init__(self, in_channels: int, out_channels: int, halve: bool = True, crop_at: str = "centre",
                 skip_first: bool = True, relus: int = 2):
        super().__init__()
        up_channels = in_channels // 2 if halve else in_channels
        self.up = nn.ConvTranspose2d(in_channels, up_channels, kernel_size=2, stride=2)
        self.convs = DoubleConv(in_channels // 2 + up_channels, out_channels, batch_norm=False)
        self.crop_at, self.skip_first, self.relus = crop_at, skip_first, relus

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = self.up(x)
        skip = crop(skip, up.shape[-2:], self.crop_at)
        x = torch.cat([skip, up] if self.skip_first else [up, skip], dim=1)
        for index, layer in enumerate(self.convs):  # ConvBNReLU without BN: [conv, ReLU]
            x = layer(x) if index < self.relus else layer[0](x)
        return crop(x, (x.shape[-2] - 4, x.shape[-1] - 4))


def fix_weights(module: nn.Module) -> None:
    """Deterministic weights that depend on each parameter's shape only: two blocks with the same
    layers compute the same, whatever their attributes are called and in which order they come."""
    with torch.no_grad():
        for parameter in module.parameters():
            generator = torch.Generator().manual_seed(zlib.crc32(str(tuple(parameter.shape)).encode()))
            scale = parameter[0].numel() ** -0.5 if parameter.dim() > 1 else 0.1
            parameter.copy_(scale * torch.randn(parameter.shape, generator=generator))


def up_block_facts(block_class: Callable, in_channels: int, out_channels: int, x_shape: tuple,
                   skip_shape: tuple) -> dict:
    """What the decoder block is checked on: its output shape and parameter count, and its
    output with fixed weights, for random ``x`` and ``skip`` of the given shapes."""
    generator = torch.Generator().manual_seed(0)
    x, skip = torch.randn(x_shape, generator=generator), torch.randn(skip_shape, generator=generator)
    block = block_class(in_channels, out_channels)
    if not isinstance(block, nn.Module):
        raise TypeError(f"expected an nn.Module, got {type(block).__name__}")
    fix_weights(block)
    block.eval()
    with torch.no_grad():
        out = block(x, skip)
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"forward returned {type(out).__name__}, expected a tensor")
    return {"output shape": tuple(out.shape), "parameters": sum(p.numel() for p in block.parameters()),
            "output with fixed weights": out}


def uncropped_skip(got, expected, case: Case) -> bool:
    upsampled = [2 * v for v in case.kwargs["x_shape"][-2:]]
    larger = any(s > u for s, u in zip(case.kwargs["skip_shape"][-2:], upsampled))
    return isinstance(got, RuntimeError) and "Sizes of tensors must match" in str(got) and larger


def padded_by(pixels: int):
    """A mistake test: the output is ``pixels`` larger than expected in height and width."""
    def matches(got, expected, case: Case) -> bool:
        got_size, expected_size = got["output shape"][-2:], expected["output shape"][-2:]
        return got["output shape"][:2] == expected["output shape"][:2] and \
            all(g - e == pixels for g, e in zip(got_size, expected_size))
    return matches


def unhalved_channels(got, expected, case: Case) -> bool:
    """The up-convolution keeps ``in_channels``, and the first 3x3 convolution expects only
    ``in_channels`` of the ``in_channels + in_channels // 2`` the concatenation gives."""
    channels = case.kwargs["in_channels"]
    return isinstance(got, RuntimeError) and f"but got {channels + channels // 2} channels" in str(got)


def block_with(**options) -> Callable:
    return partial(up_block_facts, partial(ValidUpBlock, **options))


HALVE = ("the 2x2 up-convolution halves the channels (in_channels -> in_channels // 2), so that the "
         "concatenation with the skip has in_channels")
CENTRE = "crop the centre of the skip: cut as many pixels from the top as from the bottom, and from the left as " \
         "from the right"
UP_BLOCK_MISTAKES = [
    Mistake("the skip is larger than the upsampled map: crop its centre to the upsampled map's height and width "
            "before concatenating", matches=uncropped_skip),
    Mistake("the output is 4 pixels too large: the paper's 3x3 convolutions have no padding (padding=0), each "
            "trims one pixel per side", matches=padded_by(4)),
    Mistake("the output is 2 pixels too large: both 3x3 convolutions have no padding (padding=0)",
            matches=padded_by(2)),
    Mistake(HALVE, produces=block_with(halve=False)),
    Mistake(HALVE, matches=unhalved_channels),
    Mistake(CENTRE, produces=block_with(crop_at="top-left")),
    Mistake(CENTRE, produces=block_with(crop_at="bottom-right")),
    Mistake("concatenate the skip first, then the upsampled map ([skip, up] along the channels)",
            produces=block_with(skip_first=False)),
    Mistake("each 3x3 convolution is followed by a ReLU, the second one too", produces=block_with(relus=1)),
    Mistake("each 3x3 convolution is followed by a ReLU", produces=block_with(relus=0)),
]


def check_up_block(UpBlock: Callable) -> None:
    """``UpBlock(in_channels, out_channels)``, ``forward(x, skip)``: 2x2 up-convolution to
    ``in_channels // 2``, the skip's centre cropped to its size, ``[skip, up]`` concatenated, two
    valid 3x3 convolutions with ReLU.  Checked on output shape, parameter count and the output
    with fixed weights (set by shape, so attribute names do not matter)."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    def case(description, in_channels, out_channels, x_shape, skip_shape):
        return Case(description, kwargs={"in_channels": in_channels, "out_channels": out_channels,
                                         "x_shape": x_shape, "skip_shape": skip_shape})

    cases = [
        case("4 -> 2 channels, the skip as large as the upsampled map", 4, 2, (1, 4, 3, 3), (1, 2, 6, 6)),
        case("8 -> 4 channels, a 12x12 skip for an 8x8 upsampled map", 8, 4, (1, 8, 4, 4), (1, 4, 12, 12)),
        case("a batch of 2, not square: 10x14 upsampled, 18x22 skip", 8, 4, (2, 8, 5, 7), (2, 4, 18, 22)),
        case("6 -> 5 channels (out is not in / 2), 8x10 upsampled, 12x18 skip", 6, 5, (1, 6, 4, 5), (1, 3, 12, 18)),
        case("the paper's first decoder step at 1/16 of its channels: 28 -> 56, skip 64", 64, 32, (1, 64, 28, 28),
             (1, 32, 64, 64)),
    ]
    run_check("UpBlock", partial(up_block_facts, UpBlock), partial(up_block_facts, ValidUpBlock), cases,
              UP_BLOCK_MISTAKES)
