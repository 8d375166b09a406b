"""Notebook 01's checks: each accepts the notebook's own solution and names the mistake of
planted wrong ones (written as a student would); seglib's ``crop_to``, their reference."""

import pytest
import torch
import torch.nn.functional as F
from exercise_helpers import diagnosis, solution

from seglib.exercises import (
    check_conv_transpose,
    check_fuse_skip,
    check_transposed_output_size,
    check_upsampling_kernel,
)
from seglib.models.blocks import BilinearUpsample, crop_to

NB = "01_fcn.ipynb"


def test_the_checks_accept_the_notebook_s_solutions(capsys):
    check_upsampling_kernel(solution(NB, "upsampling_kernel"))
    check_transposed_output_size(solution(NB, "transposed_output_size"))
    check_conv_transpose(solution(NB, "conv_transpose"))
    check_fuse_skip(solution(NB, "fuse_skip"))
    totals = [line for line in capsys.readouterr().out.splitlines() if line.startswith("all ")]
    assert totals == ["all 6 cases pass", "all 9 cases pass", "all 6 cases pass", "all 5 cases pass"]


# Exercise 1: the bilinear kernel
def tent_kernel(factor, size=None, centre=None, outer=True, normalise=False):
    """The student's kernel: ``size`` and ``centre`` as the student computes them."""
    k = size if size is not None else 2 * factor - factor % 2
    c = centre if centre is not None else (k - 1) / 2
    ramp = torch.tensor([1 - abs(i - c) / factor for i in range(k)])
    if not outer:
        return ramp
    kernel = torch.outer(ramp, ramp)
    return kernel / kernel.sum() if normalise else kernel


def centre_on_a_pixel(factor):
    return tent_kernel(factor, centre=(2 * factor - factor % 2) // 2)


def always_two_factor(factor):
    return tent_kernel(factor, size=2 * factor, centre=factor - 0.5)


@pytest.mark.parametrize("answer, expected", [
    (centre_on_a_pixel, "the centre of an even kernel lies halfway between its two middle pixels"),
    (always_two_factor, "for an odd factor the kernel is 2 * factor - 1 wide"),
    (lambda factor: tent_kernel(factor, outer=False), "that is the 1-D tent: the 2-D kernel is the outer product"),
    (lambda factor: tent_kernel(factor, normalise=True), "do not scale the kernel to sum 1"),
    (lambda factor: tent_kernel(factor)[None, None], "the kernel is the [k, k] matrix itself"),
])
def test_the_kernel_check_names_the_mistake(answer, expected):
    assert expected in diagnosis(check_upsampling_kernel, answer)


def test_an_unknown_wrong_kernel_shows_the_smallest_failing_case():
    message = diagnosis(check_upsampling_kernel, lambda factor: tent_kernel(factor) ** 2)
    assert message.startswith("upsampling_kernel, case 2 (factor 2 (the 4x4 kernel above)), the smallest that fails")


# Exercise 2: the output size of a transposed convolution
def convolution_formula(size, kernel, stride, padding=0, output_padding=0, dilation=1):
    return (size - kernel + 2 * padding) // stride + 1


def times_stride(size, kernel, stride, padding=0, output_padding=0, dilation=1):
    return size * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def no_plus_one(size, kernel, stride, padding=0, output_padding=0, dilation=1):
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding


def padding_once(size, kernel, stride, padding=0, output_padding=0, dilation=1):
    return (size - 1) * stride - padding + dilation * (kernel - 1) + output_padding + 1


def no_dilation(size, kernel, stride, padding=0, output_padding=0, dilation=1):
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def no_output_padding(size, kernel, stride, padding=0, output_padding=0, dilation=1):
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + 1


@pytest.mark.parametrize("answer, expected", [
    (convolution_formula, "that is the size a convolution gives"),
    (times_stride, "start (size - 1) * stride pixels apart, not size * stride"),
    (no_plus_one, "one row short"),
    (padding_once, "padding removes that many rows from both sides of the output: subtract 2 * padding"),
    (no_dilation, "dilation is ignored"),
    (no_output_padding, "output_padding is ignored"),
    (lambda size, kernel, stride, padding=0, output_padding=0, dilation=1: (size - 1) * stride + kernel - 2 * padding,
     "dilation and output_padding are ignored"),
])
def test_the_output_size_check_names_the_mistake(answer, expected):
    assert expected in diagnosis(check_transposed_output_size, answer)


def test_an_unknown_wrong_output_size_shows_the_smallest_failing_case():
    message = diagnosis(check_transposed_output_size, lambda size, kernel, stride, **_: size * kernel)
    assert message == ("transposed_output_size, case 1 (size 3, kernel 3, stride 1), the smallest that fails: "
                       "9, expected 5; input 3, 3, 1: expected 5, got 9")


# Exercise 3: a transposed convolution as a scatter-add
def scatter(x, weight, stride, flip=False, swap=False, step=None, size=None):
    """A student's loop: ``flip`` the kernel, read the weight as ``[C_out, C_in]`` (``swap``),
    place the windows ``step`` apart, or allocate ``size(H, stride, k)`` rows."""
    c_in, height, width = x.shape
    k = weight.shape[-1]
    c_out = weight.shape[0] if swap else weight.shape[1]
    step = stride if step is None else step
    size = size or (lambda n, s, k: (n - 1) * s + k)
    out = torch.zeros(c_out, size(height, stride, k), size(width, stride, k))
    for c in range(weight.shape[1] if swap else c_in):
        for o in range(c_out):
            kernel = weight[o, c] if swap else weight[c, o]
            if flip:
                kernel = kernel.flip(0, 1)
            for i in range(height):
                for j in range(width):
                    out[o, i * step:i * step + k, j * step:j * step + k] += x[c, i, j] * kernel
    return out


@pytest.mark.parametrize("answer, expected", [
    (lambda x, w, s: scatter(x, w, s, flip=True), "the kernel is rotated by 180 degrees"),
    (lambda x, w, s: scatter(x, w, s, swap=True), "the weight of a transposed convolution is [C_in, C_out, k, k]"),
    (lambda x, w, s: scatter(x, w, s, step=1), "the window of input pixel (i, j) starts at (i * stride, j * stride), "
                                               "not at (i, j)"),
    (lambda x, w, s: scatter(x, w, 1), "stride is ignored"),
    (lambda x, w, s: scatter(x, w, s, size=lambda n, s, k: n * s), "the output size is wrong"),
    (lambda x, w, s: scatter(x, w, s, size=lambda n, s, k: n * s + k), "the output size is wrong"),
    (lambda x, w, s: scatter(x, w, s)[None], "without a batch axis"),
])
def test_the_conv_transpose_check_names_the_mistake(answer, expected):
    assert expected in diagnosis(check_conv_transpose, answer)


def test_an_unknown_wrong_conv_transpose_shows_the_smallest_failing_case():
    message = diagnosis(check_conv_transpose, lambda x, w, s: scatter(x, w, s) + 1)
    assert message.startswith("conv_transpose, case 1 (1 channel, a 2x2 input, a 2x2 kernel, stride 1), "
                              "the smallest that fails: wrong values")


# Exercise 4: fusing a skip
def crop_at(upsampled, skip_scores, top, left):
    h, w = upsampled.shape[-2:]
    return skip_scores[:, :, top:top + h, left:left + w]


def centred(upsampled, skip_scores, offset):
    top = (skip_scores.shape[2] - upsampled.shape[2]) // 2
    left = (skip_scores.shape[3] - upsampled.shape[3]) // 2
    return upsampled + crop_at(upsampled, skip_scores, top, left)


def concatenated(upsampled, skip_scores, offset):
    return torch.cat([upsampled, crop_at(upsampled, skip_scores, offset, offset)], dim=1)


def crops_the_upsampled(upsampled, skip_scores, offset):
    h, w = skip_scores.shape[-2:]
    return upsampled[:, :, offset:offset + h, offset:offset + w] + skip_scores


def pastes_into_the_skip(upsampled, skip_scores, offset):
    fused = skip_scores.clone()
    h, w = upsampled.shape[-2:]
    fused[:, :, offset:offset + h, offset:offset + w] += upsampled
    return fused


@pytest.mark.parametrize("answer, expected", [
    (centred, "not at the centre of the skip map"),
    (lambda up, skip, offset: up + crop_at(up, skip, 0, 0), "starts at row and column `offset`, not at 0"),
    (lambda up, skip, offset: up + crop_at(up, skip, offset, 0), "the offset applies to the rows and to the columns"),
    (concatenated, "by adding the two score maps"),
    (crops_the_upsampled, "crop the skip scores (the larger map) to the height and width of the upsampled scores"),
    (pastes_into_the_skip, "crop the skip scores (the larger map) to the height and width of the upsampled scores"),
])
def test_the_fuse_skip_check_names_the_mistake(answer, expected):
    assert expected in diagnosis(check_fuse_skip, answer)


def test_an_unknown_wrong_fusion_shows_the_smallest_failing_case():
    message = diagnosis(check_fuse_skip, lambda up, skip, offset: up * crop_at(up, skip, offset, offset))
    assert message.startswith("fuse_skip, case 1 (seglib's FCN: two 4x4 maps, offset 0), the smallest that fails")


# The references
def test_crop_to_takes_the_window_at_the_offset_and_refuses_one_that_does_not_fit():
    x = torch.arange(2 * 15 * 15.0).view(1, 2, 15, 15)
    assert torch.equal(crop_to(x, (6, 6), 5), x[..., 5:11, 5:11])
    assert crop_to(x, (15, 15)) is not None and torch.equal(crop_to(x, (15, 15)), x)
    with pytest.raises(ValueError, match="a 6x6 window at offset 10 does not fit in a 15x15 map"):
        crop_to(x, (6, 6), 10)


def test_the_kernel_reference_is_bilinear_upsample_s_weight():
    from seglib.exercises.upsampling import reference_kernel
    assert torch.equal(reference_kernel(2), BilinearUpsample(1, 2).weight[0, 0].detach())
    assert reference_kernel(3).shape == (5, 5) and float(reference_kernel(3).max()) == 1.0


def test_the_output_size_reference_is_conv_transpose2d_s():
    from seglib.exercises.upsampling import reference_output_size
    up = torch.nn.ConvTranspose2d(1, 1, 5, stride=3, padding=2, output_padding=2, dilation=2)
    assert reference_output_size(9, 5, 3, 2, 2, 2) == up(torch.zeros(1, 1, 9, 9)).shape[2] == 31
    assert reference_output_size(6, 4, 2, 1) == F.interpolate(torch.zeros(1, 1, 6, 6), scale_factor=2).shape[2]
