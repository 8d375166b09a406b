"""Notebook 02's checks: each accepts the notebook's own solution and names the mistake of
planted wrong ones (written as a student would); and seglib's valid_unet_sizes, their reference."""

import pytest
import torch
from exercise_helpers import diagnosis, solution
from torch import nn

from seglib.exercises import check_smallest_valid_input, check_up_block, check_valid_unet_output
from seglib.models.unet import valid_unet_sizes

NB = "02_unet.ipynb"


def test_valid_unet_sizes_redoes_the_paper_s_arithmetic():
    encoder, crops, out = valid_unet_sizes(572)
    assert encoder == [568, 280, 136, 64, 28] and out == 388
    assert crops == [(64, 56), (136, 104), (280, 200), (568, 392)]
    assert valid_unet_sizes(188)[2] == 4 and valid_unet_sizes(10, depth=1) == ([6], [], 6)
    with pytest.raises(ValueError, match="level 1 outputs 279, an odd size"):
        valid_unet_sizes(570)
    with pytest.raises(ValueError, match="too small"):
        valid_unet_sizes(172)


def test_the_notebook_s_solutions_pass(capsys):
    check_valid_unet_output(solution(NB, "valid_unet_output"))
    check_smallest_valid_input(solution(NB, "smallest_valid_input"))
    check_up_block(solution(NB, "UpBlock"))
    out = capsys.readouterr().out
    assert "all 9 cases pass" in out and "all 8 cases pass" in out and "all 5 cases pass" in out


# --- exercise 1: valid_unet_output -------------------------------------------------------------

def one_conv_per_level(size, depth=5):
    for level in range(depth):
        size -= 2
        if level < depth - 1:
            if size % 2:
                raise ValueError("odd")
            size //= 2
    for _ in range(depth - 1):
        size = size * 2 - 2
    return size


def bottom_without_convs(size, depth=5):
    for _ in range(depth - 1):
        size -= 4
        if size % 2:
            raise ValueError("odd")
        size //= 2
    for _ in range(depth - 1):
        size = size * 2 - 4
    return size


def rounding_pools(size, depth=5):
    for level in range(depth):
        size -= 4
        if level < depth - 1:
            size = size // 2
    for _ in range(depth - 1):
        size = size * 2 - 4
    return size


def decoder_without_convs(size, depth=5):
    for level in range(depth):
        size -= 4
        if level < depth - 1:
            if size % 2 == 1:
                raise ValueError("odd")
            size //= 2
    return size * 2 ** (depth - 1)


def asserting(size, depth=5):
    for level in range(depth):
        size -= 4
        if level < depth - 1:
            assert size % 2 == 0, "2x2 pooling needs an even size"
            size //= 2
    for _ in range(depth - 1):
        size = 2 * size - 4
    return size


def pooling_depth_times(size, depth=5):
    for _ in range(depth):
        size -= 4
        if size % 2:
            raise ValueError("odd")
        size //= 2
    size -= 4
    for _ in range(depth):
        size = 2 * size - 4
    return size


def crops_the_output(size, depth=5):  # not a known mistake: the output is cropped once more
    for level in range(depth):
        size -= 4
        if level < depth - 1:
            if size % 2:
                raise ValueError("odd")
            size //= 2
    for _ in range(depth - 1):
        size = 2 * size - 4
    return size - 2


@pytest.mark.parametrize("wrong, message", [
    (one_conv_per_level, "case 1 (input 60, depth 3): each level has two 3x3 convolutions, and each trims one "
                         "pixel per side: a level loses 4 pixels, not 2"),
    (bottom_without_convs, "case 1 (input 60, depth 3): the bottom level (the deepest, which is not pooled) has "
                           "its two 3x3 convolutions too"),
    (rounding_pools, "case 7 (input 101, depth 2: the first pooling sees 97): a 2x2 pooling cannot halve an odd "
                     "size: raise ValueError when a level that is pooled outputs an odd size, do not round it"),
    (decoder_without_convs, "case 1 (input 60, depth 3): after each 2x2 up-convolution come two 3x3 "
                            "convolutions: the decoder loses 4 pixels per level too"),
    (asserting, "case 7 (input 101, depth 2: the first pooling sees 97): a 2x2 pooling cannot halve an odd size: "
                "raise ValueError there (an assert is not a ValueError"),
    (pooling_depth_times, "depth counts the levels, the bottom one included: depth 5 has 4 poolings"),
])
def test_valid_unet_output_names_the_mistake(wrong, message):
    assert message in diagnosis(check_valid_unet_output, wrong)


def test_valid_unet_output_shows_the_smallest_failing_input_of_an_unknown_mistake():
    assert diagnosis(check_valid_unet_output, crops_the_output) == (
        "valid_unet_output, case 1 (input 60, depth 3), the smallest that fails: 18, expected 20; "
        "input 60, 3: expected 20, got 18")


# --- exercise 2: smallest_valid_input ----------------------------------------------------------

def output_of(size, depth, check_odd=True):
    for level in range(depth):
        size -= 4
        if level < depth - 1:
            if check_odd and size % 2:
                return None
            size //= 2
    for _ in range(depth - 1):
        size = 2 * size - 4
    return size


def without_the_even_rule(size, depth=5):
    while output_of(size, depth, check_odd=False) <= 0:
        size += 1
    return size


def strictly_above(size, depth=5):
    size += 1
    while True:
        out = output_of(size, depth)
        if out is not None and out > 0:
            return size
        size += 1


def returning_the_output(size, depth=5):
    while True:
        out = output_of(size, depth)
        if out is not None and out > 0:
            return out
        size += 1


def without_the_size_check(size, depth=5):
    while output_of(size, depth) is None:
        size += 1
    return size


def one_too_many(size, depth=5):  # not a known mistake
    while True:
        out = output_of(size, depth)
        if out is not None and out > 1:
            return size
        size += 1


@pytest.mark.parametrize("wrong, message", [
    (without_the_even_rule, "every pooling must see an even size"),
    (strictly_above, "case 4 (depth 3, from 100 (valid itself)): at or above: when `size` itself is valid, "
                     "it is the answer"),
    (returning_the_output, "case 1 (depth 1, from 3): return the input size you found, not its output size"),
    (without_the_size_check, "case 1 (depth 1, from 3): the output must have at least one pixel"),
])
def test_smallest_valid_input_names_the_mistake(wrong, message):
    assert message in diagnosis(check_smallest_valid_input, wrong)


def test_smallest_valid_input_shows_the_smallest_failing_input_of_an_unknown_mistake():
    assert diagnosis(check_smallest_valid_input, one_too_many) == (
        "smallest_valid_input, case 1 (depth 1, from 3), the smallest that fails: 6, expected 5; "
        "input 3, 1: expected 5, got 6")


# --- exercise 3: UpBlock -----------------------------------------------------------------------

def up_block(crop="centre", padding=0, halve=True, skip_first=True, last_relu=True, batch_norm=False):
    """A student's UpBlock, with one of the known mistakes (or none)."""
    class UpBlock(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            up_channels = in_channels // 2 if halve else in_channels
            self.up = nn.ConvTranspose2d(in_channels, up_channels, 2, stride=2)
            self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=padding)
            self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=padding)
            self.norm = nn.BatchNorm2d(out_channels) if batch_norm else nn.Identity()

        def forward(self, x, skip):
            up = self.up(x)
            h, w = up.shape[-2:]
            dh, dw = skip.shape[-2] - h, skip.shape[-1] - w
            if crop == "centre":
                skip = skip[:, :, dh // 2:dh // 2 + h, dw // 2:dw // 2 + w]
            elif crop == "corner":
                skip = skip[:, :, :h, :w]
            x = torch.cat([skip, up] if skip_first else [up, skip], dim=1)
            x = torch.relu(self.conv1(x))
            x = self.norm(self.conv2(x))
            return torch.relu(x) if last_relu else x
    return UpBlock


def test_the_planted_block_without_mistakes_passes(capsys):
    check_up_block(up_block())
    assert "all 5 cases pass" in capsys.readouterr().out


@pytest.mark.parametrize("options, message", [
    ({"crop": None}, "case 2 (8 -> 4 channels, a 12x12 skip for an 8x8 upsampled map): the skip is larger than "
                     "the upsampled map: crop its centre"),
    ({"padding": 1}, "case 1 (4 -> 2 channels, the skip as large as the upsampled map): the output is 4 pixels "
                     "too large: the paper's 3x3 convolutions have no padding"),
    ({"halve": False}, "case 1 (4 -> 2 channels, the skip as large as the upsampled map): the 2x2 "
                       "up-convolution halves the channels"),
    ({"crop": "corner"}, "case 2 (8 -> 4 channels, a 12x12 skip for an 8x8 upsampled map): crop the centre of "
                         "the skip"),
    ({"skip_first": False}, "concatenate the skip first, then the upsampled map"),
    ({"last_relu": False}, "each 3x3 convolution is followed by a ReLU, the second one too"),
])
def test_up_block_names_the_mistake(options, message):
    assert message in diagnosis(check_up_block, up_block(**options))


def test_up_block_with_the_up_convolution_s_channels_unhalved_everywhere_is_named():
    class UpBlock(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            self.up = nn.ConvTranspose2d(in_channels, in_channels, 2, stride=2)
            self.conv1 = nn.Conv2d(in_channels + in_channels // 2, out_channels, 3)
            self.conv2 = nn.Conv2d(out_channels, out_channels, 3)

        def forward(self, x, skip):
            up = self.up(x)
            h, w = up.shape[-2:]
            top, left = (skip.shape[-2] - h) // 2, (skip.shape[-1] - w) // 2
            x = torch.cat([skip[..., top:top + h, left:left + w], up], 1)
            return torch.relu(self.conv2(torch.relu(self.conv1(x))))

    assert "the 2x2 up-convolution halves the channels" in diagnosis(check_up_block, UpBlock)


def test_up_block_shows_the_smallest_failing_input_of_an_unknown_mistake():
    message = diagnosis(check_up_block, up_block(batch_norm=True))
    assert message.startswith("UpBlock, case 1 (4 -> 2 channels, the skip as large as the upsampled map), the "
                              "smallest that fails: parameters: 150, expected 146; input in_channels=4, "
                              "out_channels=2, x_shape=(1, 4, 3, 3), skip_shape=(1, 2, 6, 6)")
