"""Dilated depthwise-separable U-Net: a U-Net built from depthwise-separable convolutions
(Sifre & Mallat; Chollet, "Xception", CVPR 2017, arXiv:1610.02357; Howard et al., "MobileNets",
arXiv:1704.04861) run at several dilation rates side by side (atrous convolution: Chen et al.,
DeepLab, ICLR 2015; named dilated convolution by Yu & Koltun, "Multi-scale context aggregation
by dilated convolutions", ICLR 2016, arXiv:1511.07122).

A depthwise-separable convolution factors a ``K x K`` convolution from ``C_in`` to ``C_out``
channels into a depthwise ``K x K`` one (one filter per channel) and a 1x1 one that mixes
channels.  Its multiply-adds are ``1/C_out + 1/K**2`` of the standard convolution's: for
3x3 at 64 output channels 0.127 (7.9x fewer), at 256 channels 0.115 (8.7x fewer); it can
never beat ``K**2`` = 9x, so the source's "100 times fewer multiplications" is wrong.
Dilation widens the window a kernel sees without changing its cost.
"""

import torch
from torch import nn

from .blocks import DilatedSeparableBlock, SeparableUpBlock, check_divisible


class DilatedUNet(nn.Module):
    """``DilatedUNet(num_classes, in_channels=3, base_channels=12, head_channels=12, dropout=0.15)``.

    Encoder: four ``DilatedSeparableBlock`` (three branches at dilation 3, 2, 1, stride 2,
    concatenated), each followed by Dropout2d; channels ``in_channels -> b -> 3b -> 9b -> 27b``
    for ``b = base_channels``.  Decoder: four ``SeparableUpBlock`` (three transposed-conv
    branches, concatenated), the encoder map of the same size CONCATENATED after each of the
    first three: ``27b -> 9b (+9b) -> 3b (+3b) -> b (+b) -> head_channels``, Dropout2d after
    each but the last.  Head: a 3x3 conv to the classes.  Both widths are multiples of 3.
    The source network is ``base_channels=36`` (3 -> 36 -> 108 -> 324 -> 972 -> ... -> 12):
    864,383 parameters at 20 classes, the original reports 887,840.  Input height and width
    must be multiples of 16.
    """

    def __init__(self, num_classes: int, in_channels: int = 3, base_channels: int = 12, head_channels: int = 12,
                 dropout: float = 0.15):
        super().__init__()
        if base_channels % 3 or head_channels % 3:
            raise ValueError(f"base_channels and head_channels must be multiples of 3 (three concatenated "
                             f"branches), got {base_channels} and {head_channels}")
        widths = [base_channels * 3**i for i in range(4)]  # encoder outputs: b, 3b, 9b, 27b
        self.size_divisor = self.input_divisor()
        self.encoder = nn.ModuleList()
        for i, width in enumerate(widths):
            self.encoder.append(nn.Sequential(
                DilatedSeparableBlock(in_channels if i == 0 else widths[i - 1], width // 3), nn.Dropout2d(dropout)))
        # 27b -> 9b, then 9b + 9b skip -> 3b, 3b + 3b skip -> b (three branches of width / 9 each)
        self.decoder = nn.ModuleList(
            nn.Sequential(SeparableUpBlock(width if i == 0 else 2 * width, width // 9), nn.Dropout2d(dropout))
            for i, width in enumerate(widths[:0:-1]))
        self.last_up = SeparableUpBlock(2 * base_channels, head_channels // 3)  # 2b -> head_channels, full size
        self.classifier = nn.Conv2d(head_channels, num_classes, kernel_size=3, padding=1)

    @staticmethod
    def input_divisor(**_) -> int:
        """16: four downsampling stages."""
        return 16

    def forward(self, x):
        check_divisible(x, self.size_divisor, "DilatedUNet")
        skips = []
        for block in self.encoder:
            x = block(x)  # (N, b * 3^i, H/2^(i+1), W/2^(i+1))
            skips.append(x)
        skips.pop()  # the deepest map is x itself
        for block in self.decoder:
            x = torch.cat([block(x), skips.pop()], dim=1)  # (N, 2C, 2h, 2w): the skip is concatenated
        return self.classifier(self.last_up(x))  # (N, num_classes, H, W)
