"""Checks for notebook 05's exercises: which ASPP rates still see past their centre tap, the
pyramid pooling module, and PSPNet's main + auxiliary loss.

The references are seglib's own: ``models.deeplab.useful_rates``, ``models.blocks.PyramidPooling``
(a module exercise is compared on :func:`module_facts`: output shape and parameter count) and
``train.step.model_loss`` with ``make_loss``, the loss ``fit`` minimises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..models.blocks import PyramidPooling
from ..models.deeplab import useful_rates
from ..train.step import make_loss, model_loss
from .checking import Case, Mistake, difference, module_facts, run_check

__all__ = ["check_pyramid_pooling", "check_total_loss", "check_useful_rates"]

VOID = 255


# Exercise 1: the ASPP rates that still see more than their centre tap

def feature_size(image_size: Sequence[int], output_stride: int) -> tuple[int, int]:
    return image_size[0] // output_stride, image_size[1] // output_stride


def reference_useful_rates(rates, image_size, output_stride=16) -> tuple[int, ...]:
    return useful_rates(rates, feature_size(image_size, output_stride))


def rates_where(keep: Callable[[int, int, int], bool], on_image: bool = False):
    """The rates ``r`` with ``keep(r, h, w)``, ``(h, w)`` the feature map's size (or the image's)."""
    def wrong(rates, image_size, output_stride=16):
        h, w = tuple(image_size) if on_image else feature_size(image_size, output_stride)
        return tuple(r for r in rates if keep(r, h, w))
    return wrong


def one_side_only(student: Callable, side: int):
    """A mistake test: the answer compares the rates with one side of the map only (``side`` 0:
    the height, 1: the width), here and on the same image turned by 90 degrees."""
    def matches(got, expected, case: Case) -> bool:
        rates, (height, width), output_stride = case.args
        sides = feature_size((height, width), output_stride)
        if difference(got, tuple(r for r in rates if r < sides[side])) is not None:
            return False
        turned = student(rates, (width, height), output_stride)
        return difference(turned, tuple(r for r in rates if r < sides[1 - side])) is None
    return matches


def useful_rates_mistakes(student: Callable) -> list[Mistake]:
    either = "a rate is useful when it is smaller than the map's height OR its width (one direction is enough)"
    return [
        Mistake("off by one at the border: a tap at offset r lies inside a map of length n only when r < n "
                "(positions 0 .. n - 1), so a rate equal to the map's side sees only padding",
                produces=rates_where(lambda r, h, w: r <= h or r <= w)),
        Mistake("those are the rates that degenerate into 1x1 convolutions: return the others, whose "
                "off-centre taps still reach inside the map", produces=rates_where(lambda r, h, w: r >= max(h, w))),
        Mistake("the rates are compared with the image's size: the atrous convolutions run on the feature map, "
                "image_size // output_stride", produces=rates_where(lambda r, h, w: r < h or r < w, on_image=True)),
        Mistake(f"only the map's height is looked at: {either}", matches=one_side_only(student, 0)),
        Mistake(f"only the map's width is looked at: {either}", matches=one_side_only(student, 1)),
        Mistake(f"the rate has to be smaller than both sides here: {either}",
                produces=rates_where(lambda r, h, w: r < h and r < w)),
    ]


def check_useful_rates(useful_rates: Callable) -> None:
    """``useful_rates(rates, image_size, output_stride=16)``: the rates with ``r < h or r < w``,
    ``(h, w) = image_size // output_stride``, in their order."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    cases = [
        Case("rates (1, 2, 3), a 32x32 image at output stride 16 (a 2x2 map)", ((1, 2, 3), (32, 32), 16)),
        Case("the paper's rates on 96x128 images at output stride 16", ((6, 12, 18), (96, 128), 16)),
        Case("twice the rates on 96x128 images at output stride 8", ((12, 24, 36), (96, 128), 8)),
        Case("a rate equal to the map's width: 64x96 at output stride 16", ((2, 4, 6, 8), (64, 96), 16)),
        Case("a tall map: a 128x64 image at output stride 8", ((4, 8, 12, 16, 20), (128, 64), 8)),
        Case("a wide map: a 64x256 image at output stride 16", ((3, 6, 12, 18, 24), (64, 256), 16)),
        Case("a 1x1 map: no rate is useful", ((1, 2), (16, 16), 16)),
        Case("the paper's rates on 512x1024 images (Cityscapes at half size)", ((6, 12, 18), (512, 1024), 16)),
    ]
    run_check("useful_rates", useful_rates, reference_useful_rates, cases, useful_rates_mistakes(useful_rates))


# Exercise 2: the pyramid pooling module

def features(seed: int, shape: tuple[int, ...]) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def facts_of(module_class: type) -> Callable:
    """The check's function of a case: ``module_facts`` of ``module_class(in_channels, bins)`` on ``x``."""
    def facts(in_channels: int, bins: tuple[int, ...], x: torch.Tensor) -> dict:
        return module_facts(module_class(in_channels, bins), x)
    return facts


class WithoutInput(PyramidPooling):
    """Mistake: the pooled maps only, the input not concatenated."""

    def forward(self, x):
        return super().forward(x)[:, x.shape[1]:]


def pyramid_with(width: Callable[[int, int], int], bias: bool = False, batch_norm: bool = True,
                 fixed_bins: Sequence[int] | None = None) -> type:
    """Mistake: a pyramid whose 1x1 convs go to ``width(in_channels, len(bins))`` channels (``bins``
    as given), with a bias or without batch norm, or pooling to ``fixed_bins`` whatever ``bins`` says."""
    class Wrong(PyramidPooling):
        def __init__(self, in_channels, bins=(1, 2, 3, 6)):
            out = width(in_channels, len(bins))
            bins = fixed_bins or bins
            super().__init__(in_channels, bins)
            self.stages = nn.ModuleList(
                nn.Sequential(nn.AdaptiveAvgPool2d(b), nn.Conv2d(in_channels, out, 1, bias=bias),
                              *([nn.BatchNorm2d(out)] if batch_norm else []), nn.ReLU())
                for b in bins)
    return Wrong


def size_mismatch(got, expected, case: Case) -> bool:
    """Concatenating failed because a pooled map is not the input's size, or the output's height
    and width are not the input's."""
    if isinstance(got, RuntimeError):
        return "Sizes of tensors must match" in str(got)
    return not isinstance(got, Exception) and got["output shape"][2:] != expected["output shape"][2:]


NO_BINS = "the bins argument is not used: pool to each size in bins, not always (1, 2, 3, 6)"


def pyramid_mistakes() -> list[Mistake]:
    return [
        Mistake("the input is missing from the output: concatenate the input itself with the upsampled pooled "
                "maps (C + len(bins) * (C // len(bins)) channels, 2C for four bins and C a multiple of 4)",
                produces=facts_of(WithoutInput)),
        Mistake("the 1x1 convolutions keep all in_channels channels: each reduces to in_channels // len(bins), "
                "so that the pooled maps together are about as wide as the input",
                produces=facts_of(pyramid_with(lambda c, n: c))),
        Mistake("the reduced width is in_channels // len(bins): it depends on how many bins there are, "
                "not a fixed 4", produces=facts_of(pyramid_with(lambda c, n: c // 4))),
        Mistake(NO_BINS, produces=facts_of(pyramid_with(lambda c, n: c // 4, fixed_bins=(1, 2, 3, 6)))),
        Mistake(NO_BINS, produces=facts_of(pyramid_with(lambda c, n: c // n, fixed_bins=(1, 2, 3, 6)))),
        Mistake("the 1x1 convolutions have a bias: the batch norm after them has its own shift, so the "
                "convolution takes bias=False (one parameter fewer per output channel)",
                produces=facts_of(pyramid_with(lambda c, n: c // n, bias=True))),
        Mistake("a batch norm is missing: each pooled branch is a 1x1 convolution, BatchNorm2d and ReLU",
                produces=facts_of(pyramid_with(lambda c, n: c // n, batch_norm=False))),
        Mistake("a batch norm is missing: each pooled branch is a 1x1 convolution (no bias), BatchNorm2d and ReLU",
                produces=facts_of(pyramid_with(lambda c, n: c // n, bias=True, batch_norm=False))),
        Mistake("the pooled maps must come back to the input's height and width before the concatenation: "
                "upsample each to x.shape[-2:] (bilinear), which works for any size, including sizes that a "
                "bin does not divide", matches=size_mismatch),
    ]


def check_pyramid_pooling(module_class: type) -> None:
    """``PyramidPooling(in_channels, bins=(1, 2, 3, 6))``: compared with seglib's on output shape
    and parameter count."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    cases = [
        Case("6 channels, bins (1, 2, 4), a 4x4 map", (6, (1, 2, 4), features(1, (1, 6, 4, 4)))),
        Case("the default bins, 16 channels, a 12x16 map (PSPNet's layer4 at 96x128)",
             (16, (1, 2, 3, 6), features(2, (2, 16, 12, 16)))),
        Case("odd sizes: the default bins, 12 channels, a 7x9 map", (12, (1, 2, 3, 6), features(3, (2, 12, 7, 9)))),
        Case("bins (1, 3, 5), 15 channels, a 5x11 map", (15, (1, 3, 5), features(4, (1, 15, 5, 11)))),
        Case("10 channels (not a multiple of 4), the default bins, a 6x6 map",
             (10, (1, 2, 3, 6), features(5, (2, 10, 6, 6)))),
        Case("one bin (global pooling only), 6 channels, a 3x5 map", (6, (1,), features(6, (1, 6, 3, 5)))),
    ]
    run_check("PyramidPooling", facts_of(module_class), facts_of(PyramidPooling), cases, pyramid_mistakes())


# Exercise 3: the main and the auxiliary loss

def reference_total_loss(logits, aux_logits, target, aux_weight=0.4, ignore_index=VOID) -> torch.Tensor:
    return model_loss(make_loss("cross_entropy", ignore_index=ignore_index), (logits, aux_logits), target, aux_weight)


def loss_with(combine: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor] = lambda m, a, w: m + w * a,
              reduce: Callable | None = None, ignore: Callable[[int], int] = lambda i: i, aux_ignores: bool = True):
    """A wrong total loss: the two cross-entropies (each ``reduce``d from the per-pixel losses,
    the void pixels counted as ``ignore(ignore_index)``) put together by ``combine``."""
    def wrong(logits, aux_logits, target, aux_weight=0.4, ignore_index=VOID):
        def cross_entropy(x, ignored):
            if reduce is None:
                return F.cross_entropy(x, target, ignore_index=ignored)
            return reduce(F.cross_entropy(x, target, ignore_index=ignored, reduction="none"), target != ignored)
        main = cross_entropy(logits, ignore(ignore_index))
        aux = cross_entropy(aux_logits, ignore(ignore_index) if aux_ignores else -100)
        return combine(main, aux, aux_weight)
    return wrong


def void_raises(got, expected, case: Case) -> bool:
    """The student's code failed on a case whose target holds void labels beyond the classes."""
    logits, _, target = case.args[:3]
    return isinstance(got, Exception) and bool((target >= logits.shape[1]).any())


VOID_COUNTED = ("void pixels are counted: both cross-entropies skip the pixels whose target is ignore_index "
                "(use the argument: the default of F.cross_entropy, -100, is not the void label)")
ADDED = "the two terms are added, not averaged: total = main + aux_weight * aux"

LOSS_MISTAKES = [
    Mistake("the auxiliary loss is not weighted: multiply it by aux_weight", produces=loss_with(lambda m, a, w: m + a)),
    Mistake("the weights are swapped: aux_weight multiplies the auxiliary head's loss, the main one counts fully",
            produces=loss_with(lambda m, a, w: w * m + a)),
    Mistake("aux_weight is not used: the weight is the argument, 0.4 only by default",
            produces=loss_with(lambda m, a, w: m + 0.4 * a)),
    Mistake(ADDED, produces=loss_with(lambda m, a, w: (m + w * a) / 2)),
    Mistake(ADDED, produces=loss_with(lambda m, a, w: (m + w * a) / (1 + w))),
    Mistake(VOID_COUNTED, matches=void_raises),
    Mistake(VOID_COUNTED, produces=loss_with(ignore=lambda i: VOID)),
    Mistake(VOID_COUNTED, produces=loss_with(aux_ignores=False)),
    Mistake("each cross-entropy is the mean over the valid pixels only: dividing by all the pixels counts the "
            "void ones as zero loss", produces=loss_with(reduce=lambda losses, valid: losses.mean())),
    Mistake("each cross-entropy is a mean over the valid pixels, not a sum",
            produces=loss_with(reduce=lambda losses, valid: losses.sum())),
]


def loss_inputs(seed: int, batch: int, num_classes: int, size: tuple[int, int], void_share: float = 0.0,
                void: int = VOID) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random main and auxiliary logits ``[batch, num_classes, H, W]`` and a target with about
    ``void_share`` pixels labelled ``void``."""
    generator = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(batch, num_classes, *size, generator=generator)
    aux_logits = 2 * torch.randn(batch, num_classes, *size, generator=generator)
    target = torch.randint(num_classes, (batch, *size), generator=generator)
    target[torch.rand(batch, *size, generator=generator) < void_share] = void
    return logits, aux_logits, target


def check_total_loss(total_loss: Callable) -> None:
    """``total_loss(logits, aux_logits, target, aux_weight=0.4, ignore_index=255)``: the main
    cross-entropy plus ``aux_weight`` times the auxiliary one, void pixels left out."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    cases = [
        Case("one 2x2 image, 3 classes, no void", loss_inputs(1, 1, 3, (2, 2))),
        Case("a batch of 2, 5x7, 4 classes, no void", loss_inputs(2, 2, 4, (5, 7))),
        Case("a batch of 2, 6x8, 9 classes, 20 % void", loss_inputs(3, 2, 9, (6, 8), 0.2)),
        Case("aux_weight=1.0", loss_inputs(4, 2, 5, (4, 6), 0.1), {"aux_weight": 1.0}),
        Case("aux_weight=0.2", loss_inputs(5, 1, 5, (4, 6), 0.1), {"aux_weight": 0.2}),
        Case("ignore_index=0 (class 0 is void here)", loss_inputs(6, 2, 4, (5, 5)), {"ignore_index": 0}),
    ]
    run_check("total_loss", total_loss, reference_total_loss, cases, LOSS_MISTAKES)
