"""Checks for notebook 01's exercises: the bilinear kernel, the output size of a transposed
convolution, a transposed convolution as a scatter-add, and FCN's crop-and-add skip fusion.

The references are seglib's own (``models.blocks.bilinear_kernel``, ``models.blocks.crop_to``)
and PyTorch's ``F.conv_transpose2d``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..models.blocks import bilinear_kernel, crop_to
from .checking import Case, Mistake, as_array, difference, run_check

__all__ = ["check_conv_transpose", "check_fuse_skip", "check_transposed_output_size", "check_upsampling_kernel"]


def kernel_size(factor: int) -> int:
    """FCN's kernel size for a ``factor``x upsampling: ``2 * factor - factor % 2``."""
    return 2 * factor - factor % 2


def reference_kernel(factor: int) -> torch.Tensor:
    return bilinear_kernel(1, kernel_size(factor))[0, 0]


def tent(factor: int, size: int, centre_shift: float = 0.0) -> torch.Tensor:
    """The 1-D tent of a ``size`` kernel for ``factor``; the centre moved by ``centre_shift``."""
    centre = (factor - 1 if size % 2 == 1 else factor - 0.5) + centre_shift
    return 1 - (torch.arange(size, dtype=torch.float64) - centre).abs() / factor


def tent_kernel(centre_shift: float = 0.0, normalised: bool = False):
    """A wrong kernel: the centre moved by ``centre_shift``, or scaled to sum 1."""
    def wrong(factor):
        ramp = tent(factor, kernel_size(factor), centre_shift)
        kernel = ramp[:, None] * ramp[None, :]
        return kernel / kernel.sum() if normalised else kernel
    return wrong


def ramp_only(got, expected, case: Case) -> bool:
    """A 1-D tent, or the tent repeated along one axis."""
    factor = case.args[0]
    got, ramp = as_array(got), tent(factor, kernel_size(factor)).numpy()
    if got.ndim == 1:
        return difference(got, ramp) is None
    return got.ndim == 2 and len(ramp) > 1 and any(difference(got, r) is None for r in (
        ramp[None, :].repeat(len(ramp), 0), ramp[:, None].repeat(len(ramp), 1)))


def four_dimensional(got, expected, case: Case) -> bool:
    got = as_array(got)
    return got.ndim == 4 and difference(got.reshape(got.shape[-2:]), expected) is None


def size_two_factor(got, expected, case: Case) -> bool:
    factor = case.args[0]
    return factor % 2 == 1 and tuple(as_array(got).shape[-2:]) == (2 * factor, 2 * factor)


KERNEL_MISTAKES = [
    Mistake("the kernel is the [k, k] matrix itself, not a 4-D [1, 1, k, k] weight", matches=four_dimensional),
    Mistake("for an odd factor the kernel is 2 * factor - 1 wide (k = 2 * factor - factor % 2), not 2 * factor: "
            "an odd kernel has a centre pixel", matches=size_two_factor),
    Mistake("the centre of an even kernel lies halfway between its two middle pixels (at (k - 1) / 2), not on "
            "one of them: the kernel must be symmetric", produces=tent_kernel(-0.5)),
    Mistake("the centre of an even kernel lies halfway between its two middle pixels (at (k - 1) / 2), not on "
            "one of them: the kernel must be symmetric", produces=tent_kernel(+0.5)),
    Mistake("that is the 1-D tent: the 2-D kernel is the outer product of the tent with itself "
            "(kernel[i, j] = ramp[i] * ramp[j])", matches=ramp_only),
    Mistake("do not scale the kernel to sum 1: the weights that reach one output pixel (one from each window "
            "that covers it) already sum to 1, and the whole kernel sums to factor ** 2",
            produces=tent_kernel(normalised=True)),
]


def check_upsampling_kernel(upsampling_kernel: Callable) -> None:
    """``upsampling_kernel(factor)``: the ``[k, k]`` bilinear kernel, ``k = 2 * factor - factor % 2``."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    cases = [
        Case("factor 1 (a 1x1 kernel)", (1,)),
        Case("factor 2 (the 4x4 kernel above)", (2,)),
        Case("factor 3 (an odd 5x5 kernel)", (3,)),
        Case("factor 4 (8x8)", (4,)),
        Case("factor 5 (9x9)", (5,)),
        Case("factor 8 (16x16, FCN-8s' last upsampling)", (8,)),
    ]
    run_check("upsampling_kernel", upsampling_kernel, reference_kernel, cases, KERNEL_MISTAKES)


def reference_output_size(size: int, kernel: int, stride: int, padding: int = 0, output_padding: int = 0,
                          dilation: int = 1) -> int:
    """What ``F.conv_transpose2d`` gives: the output height for an input ``size`` high."""
    out = F.conv_transpose2d(torch.zeros(1, 1, size, 1), torch.zeros(1, 1, kernel, 1), stride=(stride, 1),
                             padding=(padding, 0), output_padding=(output_padding, 0), dilation=(dilation, 1))
    return out.shape[2]


def output_size_with(start: Callable[[int, int], int] = lambda size, stride: (size - 1) * stride, pad_sides: int = 2,
                     dilated: bool = True, extra: int = 1, output_padded: bool = True):
    def wrong(size, kernel, stride, padding=0, output_padding=0, dilation=1):
        span = (dilation if dilated else 1) * (kernel - 1)
        return start(size, stride) - pad_sides * padding + span + (output_padding if output_padded else 0) + extra
    return wrong


def convolution_sizes(size, kernel, stride, padding=0, output_padding=0, dilation=1) -> list:
    """The sizes a (forward) convolution of these settings gives, with or without dilation, floored or not."""
    spans = (kernel, dilation * (kernel - 1) + 1)
    return [value for span in spans for value in ((size + 2 * padding - span) // stride + 1,
                                                  (size + 2 * padding - span) / stride + 1)]


OUTPUT_SIZE_CASES = [
    Case("size 3, kernel 3, stride 1", (3, 3, 1)),
    Case("size 4, kernel 3, stride 2 (windows overlap)", (4, 3, 2)),
    Case("BilinearUpsample(factor=2): size 6, kernel 4, stride 2, padding 1", (6, 4, 2), {"padding": 1}),
    Case("the paper's upscore2 on a 2x2 score map: kernel 4, stride 2", (2, 4, 2)),
    Case("kernel 2, stride 3 (gaps between the windows)", (5, 2, 3)),
    Case("size 5, kernel 3, stride 2, padding 1, output_padding 1", (5, 3, 2), {"padding": 1, "output_padding": 1}),
    Case("size 7, kernel 3, stride 1, dilation 2", (7, 3, 1), {"dilation": 2}),
    Case("BilinearUpsample(factor=32) on a map 3 high: kernel 64, stride 32, padding 16", (3, 64, 32),
         {"padding": 16}),
    Case("everything at once: size 9, kernel 5, stride 3, padding 2, output_padding 2, dilation 2",
         (9, 5, 3), {"padding": 2, "output_padding": 2, "dilation": 2}),
]


def on_every_case(student: Callable, wrong: Callable[..., list]):
    """A mistake test: on every case of the check the student's size is one of ``wrong``'s (a
    size that is right by chance on one case does not make a formula)."""
    def matches(got, expected, case: Case) -> bool:
        for each in OUTPUT_SIZE_CASES:
            try:
                value = student(*each.args, **each.kwargs)
            except Exception:
                return False
            if all(difference(value, w) is not None for w in wrong(*each.args, **each.kwargs)):
                return False
        return True
    return matches


def output_size_mistakes(student: Callable) -> list[Mistake]:
    def formula(**options):
        wrong = output_size_with(**options)
        return on_every_case(student, lambda *args, **kwargs: [wrong(*args, **kwargs)])

    return [
        Mistake("that is the size a convolution gives ((size + 2 * padding - kernel) / stride + 1): a transposed "
                "convolution goes the other way, each input pixel starting a window stride pixels after the last",
                matches=on_every_case(student, convolution_sizes)),
        Mistake("output_padding is ignored: it adds that many rows on one side", matches=formula(output_padded=False)),
        Mistake("one row short: the windows of the first and the last input pixel start (size - 1) * stride apart, "
                "and the last window spans dilation * (kernel - 1) + 1 pixels", matches=formula(extra=0)),
        Mistake("the windows of the first and the last input pixel start (size - 1) * stride pixels apart, "
                "not size * stride", matches=formula(start=lambda size, stride: size * stride)),
        Mistake("padding removes that many rows from both sides of the output: subtract 2 * padding",
                matches=formula(pad_sides=1)),
        Mistake("padding removes rows from the output (it is the padding of the matching convolution): "
                "subtract 2 * padding, do not add it", matches=formula(pad_sides=-2)),
        Mistake("dilation is ignored: a dilated kernel spans dilation * (kernel - 1) + 1 pixels",
                matches=formula(dilated=False)),
        Mistake("dilation and output_padding are ignored: a dilated kernel spans dilation * (kernel - 1) + 1 "
                "pixels, and output_padding adds that many rows on one side",
                matches=formula(dilated=False, output_padded=False)),
    ]


def check_transposed_output_size(transposed_output_size: Callable) -> None:
    """``transposed_output_size(size, kernel, stride, padding=0, output_padding=0, dilation=1)``:
    the output height of ``ConvTranspose2d`` for an input ``size`` high."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    run_check("transposed_output_size", transposed_output_size, reference_output_size, OUTPUT_SIZE_CASES,
              output_size_mistakes(transposed_output_size))


def reference_conv_transpose(x: torch.Tensor, weight: torch.Tensor, stride: int) -> torch.Tensor:
    return F.conv_transpose2d(x[None], weight, stride=stride)[0]


def scatter_with(flipped: bool = False, step: Callable[[int], int] = lambda stride: stride, same_size: bool = True):
    """A wrong transposed convolution: the kernel rotated by 180 degrees, or the windows placed
    ``step(stride)`` apart (in an output of the right size when ``same_size``)."""
    def wrong(x, weight, stride):
        if flipped:
            return reference_conv_transpose(x, weight.flip(-2, -1), stride)
        placed = reference_conv_transpose(x, weight, step(stride))
        if not same_size:
            return placed
        out = torch.zeros_like(reference_conv_transpose(x, weight, stride))
        height, width = min(out.shape[1], placed.shape[1]), min(out.shape[2], placed.shape[2])
        out[:, :height, :width] = placed[:, :height, :width]
        return out
    return wrong


def channels_swapped(student: Callable):
    """A mistake test: the student's function reads the weight as ``[C_out, C_in, k, k]``: given
    the weight with its first two axes swapped, it returns the right answer."""
    def matches(got, expected, case: Case) -> bool:
        x, weight, stride = case.args
        if weight.shape[0] == weight.shape[1] and torch.equal(weight, weight.transpose(0, 1)):
            return False
        swapped = student(x.clone(), weight.transpose(0, 1).contiguous(), stride)
        return difference(swapped, expected) is None
    return matches


def wrong_output_size(got, expected, case: Case) -> bool:
    """An output of another height or width, or a failed ``+=`` into a window cut short."""
    if isinstance(got, Exception):
        return isinstance(got, (RuntimeError, IndexError)) and any(
            text in str(got) for text in ("must match the size", "out of bounds", "match the broadcast shape"))
    got = as_array(got)
    return got.ndim == 3 and got.shape[0] == expected.shape[0] and got.shape[1:] != tuple(expected.shape[1:])


def with_batch_axis(got, expected, case: Case) -> bool:
    got = as_array(got)
    return got.ndim == 4 and got.shape[0] == 1 and difference(got[0], expected) is None


def conv_transpose_mistakes(student: Callable) -> list[Mistake]:
    return [
        Mistake("return one image [C_out, H', W'], without a batch axis", matches=with_batch_axis),
        Mistake("the kernel is rotated by 180 degrees: a transposed convolution adds x[c, i, j] * weight[c, o] "
                "into the output window as it is, unflipped (flipping is how a convolution is written as a "
                "correlation, not what the transpose does)", produces=scatter_with(flipped=True)),
        Mistake("the weight of a transposed convolution is [C_in, C_out, k, k] (the other way round from "
                "Conv2d's [C_out, C_in, k, k]): weight[c, o] carries input channel c to output channel o",
                matches=channels_swapped(student)),
        Mistake("stride is ignored: the window of input pixel (i, j) starts at (i * stride, j * stride), and the "
                "output is (H - 1) * stride + k by (W - 1) * stride + k",
                produces=scatter_with(step=lambda stride: 1, same_size=False)),
        Mistake("the window of input pixel (i, j) starts at (i * stride, j * stride), not at (i, j)",
                produces=scatter_with(step=lambda stride: 1)),
        Mistake("the output size is wrong: without padding a transposed convolution gives (H - 1) * stride + k "
                "rows and (W - 1) * stride + k columns (Exercise 2), and every window fits in it",
                matches=wrong_output_size),
    ]


def random_pair(seed: int, c_in: int, c_out: int, size: tuple[int, int], k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A random image ``[c_in, *size]`` and a random weight ``[c_in, c_out, k, k]``."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(c_in, *size, generator=generator), torch.randn(c_in, c_out, k, k, generator=generator)


def check_conv_transpose(conv_transpose: Callable) -> None:
    """``conv_transpose(x, weight, stride)``: ``x`` ``[C_in, H, W]``, ``weight`` ``[C_in, C_out, k, k]``,
    no padding: ``F.conv_transpose2d(x[None], weight, stride=stride)[0]``."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    bilinear = bilinear_kernel(2, 4)
    cases = [
        Case("1 channel, a 2x2 input, a 2x2 kernel, stride 1", (*random_pair(1, 1, 1, (2, 2), 2), 1)),
        Case("1 channel, a 3x3 input, a 3x3 kernel, stride 2 (windows overlap)", (*random_pair(2, 1, 1, (3, 3), 3), 2)),
        Case("2 -> 3 channels, a 3x4 input, a 4x4 kernel, stride 2", (*random_pair(3, 2, 3, (3, 4), 4), 2)),
        Case("3 -> 2 channels, a 4x3 input, a 3x3 kernel, stride 3", (*random_pair(4, 3, 2, (4, 3), 3), 3)),
        Case("1 channel, a 3x2 input, a 2x2 kernel, stride 3 (gaps between the windows)",
             (*random_pair(5, 1, 1, (3, 2), 2), 3)),
        Case("2 channels, a 5x6 input, the bilinear 4x4 kernel, stride 2 (BilinearUpsample, no padding)",
             (random_pair(6, 2, 2, (5, 6), 4)[0], bilinear, 2)),
    ]
    run_check("conv_transpose", conv_transpose, reference_conv_transpose, cases,
              conv_transpose_mistakes(conv_transpose))


def reference_fuse_skip(upsampled: torch.Tensor, skip_scores: torch.Tensor, offset: int) -> torch.Tensor:
    return upsampled + crop_to(skip_scores, upsampled.shape[-2:], offset)


def cropped_at(rows: Callable[[int, int, int], int], columns: Callable[[int, int, int], int]):
    """A wrong fusion: the skip's window starts at ``rows(offset, H, h)``, ``columns(offset, W, w)``."""
    def wrong(upsampled, skip_scores, offset):
        (h, w), (height, width) = upsampled.shape[-2:], skip_scores.shape[-2:]
        top, left = rows(offset, height, h), columns(offset, width, w)
        return upsampled + skip_scores[..., top:top + h, left:left + w]
    return wrong


def centred(offset, big, small):
    return (big - small) // 2


def at_offset(offset, big, small):
    return offset


def concatenated(got, expected, case: Case) -> bool:
    upsampled, skip_scores, offset = case.args
    window = crop_to(skip_scores, upsampled.shape[-2:], offset)
    return any(difference(got, torch.cat(pair, 1)) is None for pair in ((upsampled, window), (window, upsampled)))


def skip_sized(got, expected, case: Case) -> bool:
    """The sum has the skip map's size, or failed because the two maps differ in size."""
    upsampled, skip_scores, offset = case.args
    if isinstance(got, Exception):
        return isinstance(got, RuntimeError) and "must match the size" in str(got)
    return tuple(as_array(got).shape) == tuple(skip_scores.shape) != tuple(upsampled.shape)


FUSE_MISTAKES = [
    Mistake("FCN fuses a skip by adding the two score maps (same classes, same channels), not by concatenating "
            "them", matches=concatenated),
    Mistake("the window of the skip scores starts `offset` pixels from the top-left corner (where the layers' "
            "padding puts the matching pixels), not at the centre of the skip map",
            produces=cropped_at(centred, centred)),
    Mistake("the window of the skip scores starts at row and column `offset`, not at 0",
            produces=cropped_at(lambda offset, big, small: 0, lambda offset, big, small: 0)),
    Mistake("the offset applies to the rows and to the columns: the window starts at (offset, offset)",
            produces=cropped_at(at_offset, lambda offset, big, small: 0)),
    Mistake("the offset applies to the rows and to the columns: the window starts at (offset, offset)",
            produces=cropped_at(lambda offset, big, small: 0, at_offset)),
    Mistake("crop the skip scores (the larger map) to the height and width of the upsampled scores, then add: "
            "the result has the upsampled scores' size", matches=skip_sized),
]


def score_maps(seed: int, batch: int, classes: int, small: tuple[int, int], big: tuple[int, int]):
    """Random upsampled scores ``[batch, classes, *small]`` and skip scores ``[batch, classes, *big]``."""
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, classes, *small, generator=generator),
            torch.randn(batch, classes, *big, generator=generator))


def check_fuse_skip(fuse_skip: Callable) -> None:
    """``fuse_skip(upsampled, skip_scores, offset)``: ``upsampled`` plus the window of ``skip_scores``
    of its height and width whose top-left corner is at ``(offset, offset)``."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    cases = [
        Case("seglib's FCN: two 4x4 maps, offset 0", (*score_maps(1, 1, 2, (4, 4), (4, 4)), 0)),
        Case("a 3x3 map in a 6x6 skip map, offset 1", (*score_maps(2, 1, 2, (3, 3), (6, 6)), 1)),
        Case("the paper's FCN-16s on a 32x32 image: 6x6 upsampled, 15x15 pool4 scores, offset 5",
             (*score_maps(3, 1, 3, (6, 6), (15, 15)), 5)),
        Case("the paper's FCN-8s on a 32x32 image: 14x14 upsampled, 29x29 pool3 scores, offset 9",
             (*score_maps(4, 2, 3, (14, 14), (29, 29)), 9)),
        Case("a batch of 2, 4 classes, 4x6 upsampled in 9x12 skip scores, offset 2",
             (*score_maps(5, 2, 4, (4, 6), (9, 12)), 2)),
    ]
    run_check("fuse_skip", fuse_skip, reference_fuse_skip, cases, FUSE_MISTAKES)
