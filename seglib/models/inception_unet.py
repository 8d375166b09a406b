"""Inception-UNet (a student project's name for it was "SegCeption"): a U-Net whose levels are
Inception-style multi-branch stacks.

The module idea is from Szegedy et al., "Going deeper with convolutions" (CVPR 2015,
arXiv:1409.4842): run convolutions of different sizes side by side on the same input and
concatenate them; the 3x1 / 1x3 factorisation is Inception-v3's (Szegedy et al., CVPR 2016).
At one level of a U-Net, a 5x5 branch next to a 3x3 -> 3x3 (or 3x3 -> 3x1 / 1x3) branch looks
at windows of several shapes at once; the widest, 5x5, is what a plain level's two 3x3
convolutions see, so the level mixes shapes rather than seeing further.  Each stack is
followed by a 1x1 "reduction" back to
``filters`` channels; the skips are ADDED to the decoder's features (residual style) instead
of concatenated, so the decoder stays as narrow as the encoder.  ``skip_mode="concat"``
concatenates them instead, as U-Net does, to compare the two.
"""

from collections.abc import Sequence

import torch
from torch import nn

from .blocks import InceptionStack, Reduction, check_divisible

SOURCE_FILTERS = (34, 34, 68, 68, 136)  # the coursework's encoder, with bottleneck 256
SKIP_MODES = ("add", "concat")


class InceptionUnit(nn.Sequential):
    """An Inception stack of ``filters`` per branch, then a 1x1 reduction to ``out_channels``
    (``filters`` by default).  ``(N, in_channels, H, W) -> (N, out_channels, H, W)``."""

    def __init__(self, in_channels: int, filters: int, out_channels: int | None = None, branches: int = 4):
        stack = InceptionStack(in_channels, filters, branches)
        super().__init__(stack, Reduction(stack.out_channels, out_channels or filters))


class InceptionUNet(nn.Module):
    """``InceptionUNet(num_classes, in_channels=3, filters=(8, 8, 16, 16, 32), bottleneck=64,
    branches=4, skip_mode="add")``.

    Encoder: one ``InceptionUnit`` per entry of ``filters``, each level after the first
    starting with a 2x2 max-pool.  Bottleneck: a max-pool and two units of ``bottleneck``
    filters.  Decoder, one level per skip from the deepest: nearest-neighbour 2x upsampling; a
    unit at the incoming width whose reduction projects to the skip's width (``project``); the
    skip ADDED; a second unit at that width (``merge``).  At the source configuration the first
    decoder level is ``up -> stack of 4 x 256 -> reduce to 136 -> + skip -> stack of 4 x 136 ->
    reduce to 136``.  Head: a 1x1 conv to logits (the source's softmax belongs in the loss).
    ``branches=2`` is the README's two-branch stack.

    The coursework's widths (about 13.6M / 10.4M parameters with 4 / 2 branches) are
    ``filters=SOURCE_FILTERS, bottleneck=256``: 13,517,178 / 11,309,762 here at 34 classes
    (-0.6 % / +8.7 %); its code lays the levels out differently (two units per encoder level,
    a 1x1 projection in the decoder: notebook 03 says how).  The defaults are the same shape
    at about a quarter of the width, a small CPU model.  Height and width must be multiples of
    ``2**len(filters)`` (32 by default).

    ``skip_mode``: ``"add"`` (the coursework's, the default) adds the skip to the projected
    features, free in parameters and keeping ``merge`` at ``width`` input channels;
    ``"concat"`` (U-Net's) concatenates them, so ``merge`` reads ``2 * width`` channels: its
    5x5 and first 3x3 convolutions get ``width * width * (25 + 9)`` more weights per level and
    cost twice the multiply-adds.
    """

    def __init__(self, num_classes: int, in_channels: int = 3, filters: Sequence[int] = (8, 8, 16, 16, 32),
                 bottleneck: int = 64, branches: int = 4, skip_mode: str = "add"):
        super().__init__()
        if skip_mode not in SKIP_MODES:
            raise ValueError(f"unknown skip_mode {skip_mode!r}; valid modes: {', '.join(map(repr, SKIP_MODES))}")
        self.skip_mode = skip_mode
        filters = tuple(filters)
        self.size_divisor = self.input_divisor(filters=filters)
        self.encoder = nn.ModuleList([InceptionUnit(in_channels, filters[0], branches=branches)])
        for c, width in zip(filters, filters[1:]):  # every later level starts with a 2x2 max-pool
            self.encoder.append(nn.Sequential(nn.MaxPool2d(2), InceptionUnit(c, width, branches=branches)))
        self.bottleneck = nn.Sequential(nn.MaxPool2d(2), InceptionUnit(filters[-1], bottleneck, branches=branches),
                                        InceptionUnit(bottleneck, bottleneck, branches=branches))
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        widths = (bottleneck,) + filters[::-1]  # decoder level i goes from widths[i] to widths[i + 1]
        self.project = nn.ModuleList(InceptionUnit(c, c, width, branches) for c, width in zip(widths, widths[1:]))
        merge_inputs = 2 if skip_mode == "concat" else 1  # the skip concatenated, or added
        self.merge = nn.ModuleList(InceptionUnit(merge_inputs * width, width, branches=branches)
                                   for width in widths[1:])
        self.classifier = nn.Conv2d(filters[0], num_classes, kernel_size=1)

    @staticmethod
    def input_divisor(filters, **_) -> int:
        """2 ** len(filters): one pooling per encoder level after the first, and the bottleneck's."""
        return 2 ** len(tuple(filters))

    def forward(self, x):
        check_divisible(x, self.size_divisor, "InceptionUNet")
        skips = []
        for level in self.encoder:
            x = level(x)  # (N, filters[i], H/2^i, W/2^i)
            skips.append(x)
        x = self.bottleneck(x)  # (N, bottleneck, H/2^L, W/2^L) for L = len(filters)
        for project, merge in zip(self.project, self.merge):
            x = project(self.upsample(x))  # (N, skip width, 2h, 2w)
            if self.skip_mode == "add":
                x = x + skips.pop()  # (N, skip width, 2h, 2w)
            else:
                x = torch.cat([skips.pop(), x], dim=1)  # (N, 2 * skip width, 2h, 2w)
            x = merge(x)
        return self.classifier(x)  # (N, num_classes, H, W)
