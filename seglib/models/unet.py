"""U-Net (Ronneberger, Fischer, Brox, MICCAI 2015, arXiv:1505.04597).

An encoder that halves the resolution ``depth - 1`` times while doubling the channels,
a decoder that upsamples with 2x2 transposed convolutions and concatenates the encoder
feature map of the same size (the skip connection), and a 1x1 classifier.
"same" padding, so the output has the input's size.

``skips=False`` is the ablation "what do the skips bring": the same network without the
concatenations, so the decoder sees the encoder only through the bottleneck.

``backbone="vgg16"`` swaps the encoder for torchvision's VGG16 convolutions split into their
five stages (64, 128, 256, 512, 512 channels, ImageNet weights with ``pretrained=True``,
see ``vgg.py``); the decoder is sized from those channels.

``valid_unet_sizes`` redoes the paper's arithmetic for its unpadded convolutions (572 -> 388).
"""

import torch
from torch import nn

from .blocks import DoubleConv, check_divisible
from .vgg import VGG16_CONVS, check_backbone, vgg16, vgg16_encoder


def valid_unet_sizes(size: int, depth: int = 5) -> tuple[list[int], list[tuple[int, int]], int]:
    """The paper's U-Net with valid (unpadded) 3x3 convolutions, along one side of the input:
    ``(encoder, crops, output)``.

    ``encoder[i]``: the size level ``i`` outputs (its two convolutions trim 4 pixels; every
    level but the last is then pooled 2x2); ``crops``, deepest first: ``(skip, kept)``, the
    encoder size and the upsampled size its skip is cropped to; ``output``: the network's
    output size.  ``valid_unet_sizes(572)[2] == 388``.  Raises ``ValueError`` when a pooling
    would see an odd size, or when the input is too small (a size drops to 0 or below)."""
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    too_small = f"input {size} is too small for a valid U-Net of depth {depth}: a size drops to 0 or below"
    encoder, current = [], size
    for level in range(depth):
        current -= 4  # two 3x3 convolutions without padding
        if current <= 0:
            raise ValueError(too_small)
        encoder.append(current)
        if level < depth - 1:
            if current % 2:
                raise ValueError(f"input {size}, depth {depth}: level {level} outputs {current}, an odd size "
                                 "that a 2x2 pooling cannot halve")
            current //= 2
    crops = []
    for skip in reversed(encoder[:-1]):
        current *= 2  # 2x2 up-convolution
        crops.append((skip, current))  # the skip is cropped to the upsampled size
        current -= 4  # two 3x3 convolutions
        if current <= 0:
            raise ValueError(too_small)
    return encoder, crops, current


class UNet(nn.Module):
    """``UNet(num_classes, in_channels=3, base_channels=16, depth=5, batch_norm=True,
    backbone=None, pretrained=False, skips=True)``.

    Channels per level: ``base_channels * 2**i`` for ``i < depth``; the paper's network
    is ``base_channels=64, depth=5, batch_norm=False``.  Input height and width must be
    divisible by ``2**(depth - 1)`` (16 by default).  With ``backbone="vgg16"`` the encoder
    is VGG16's five stages (``base_channels`` and ``depth`` are not used; ``batch_norm``
    applies to the decoder only).

    ``skips=False``: the ablation without skip connections; each decoder level's ``merge``
    DoubleConv takes only the upsampled ``width`` channels instead of ``2 * width``, and
    everything else (encoder, up-convolutions) is the same.
    """

    def __init__(self, num_classes: int, in_channels: int = 3, base_channels: int = 16, depth: int = 5,
                 batch_norm: bool = True, backbone: str | None = None, pretrained: bool = False,
                 skips: bool = True):
        super().__init__()
        check_backbone(backbone, pretrained)
        self.skips = skips
        if backbone is None:
            widths = [base_channels * 2**i for i in range(depth)]
            self.down = nn.ModuleList()
            for i, width in enumerate(widths):
                self.down.append(DoubleConv(in_channels if i == 0 else widths[i - 1], width, batch_norm))
        else:
            encoder = vgg16_encoder(vgg16(pretrained), in_channels)
            self.down, widths = encoder.stages, encoder.channels  # (64, 128, 256, 512, 512)
        self.size_divisor = self.input_divisor(depth=depth, backbone=backbone)
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for width, deeper in zip(reversed(widths[:-1]), reversed(widths[1:])):
            self.up.append(nn.ConvTranspose2d(deeper, width, kernel_size=2, stride=2))
            self.merge.append(DoubleConv(2 * width if skips else width, width, batch_norm))
        self.classifier = nn.Conv2d(widths[0], num_classes, kernel_size=1)

    @staticmethod
    def input_divisor(depth, backbone, **_) -> int:
        """2 ** (levels - 1): the input is pooled once per level below the first."""
        return 2 ** (len(VGG16_CONVS) - 1) if backbone else 2 ** (depth - 1)

    def forward(self, x):
        check_divisible(x, self.size_divisor, "UNet")
        encoder_maps = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))  # (N, widths[i], H/2^i, W/2^i)
            encoder_maps.append(x)
        encoder_maps.pop()  # the bottleneck output is x itself
        for up, merge in zip(self.up, self.merge):
            x = up(x)  # (N, widths[i], 2h, 2w)
            skip = encoder_maps.pop()
            if self.skips:
                x = torch.cat([skip, x], dim=1)  # (N, 2 * widths[i], 2h, 2w)
            x = merge(x)
        return self.classifier(x)  # (N, num_classes, H, W)
