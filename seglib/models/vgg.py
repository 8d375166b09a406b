"""VGG encoders (Simonyan & Zisserman, ICLR 2015, arXiv:1409.1556), shared by FCN and U-Net.

VGG is five stages of "same" 3x3 convolutions with a 2x2 max-pool after each stage.
``VGGEncoder`` holds the five stages and returns the map of every stage *before* its pool,
at strides 1, 2, 4, 8 and 16 (U-Net's skips); pooling one of them gives VGG's pool1..pool5
(FCN taps pool3, pool4 and pool5).  The encoder reports its channels, so decoders and heads
are built from them:

- ``vgg16_encoder(vgg)``: torchvision's ``vgg16().features`` split at its max-pools
  (64, 128, 256, 512, 512 channels), with ImageNet weights when ``vgg16(pretrained=True)``;
- ``compact_vgg_encoder()``: the same 2-2-3-3-3 layout from ``ConvBNReLU`` at CPU widths
  (``base_channels * (1, 2, 4, 8, 8)``, 16-32-64-128-128 by default).
"""

import torch
import torchvision
from torch import nn

from .blocks import ConvBNReLU
from .pretrained import torchvision_model

BACKBONES = ("vgg16",)
VGG16_CONVS = (2, 2, 3, 3, 3)  # 3x3 convolutions per stage: 13 in all


def check_backbone(backbone, pretrained=False):
    """Raise a clear error for a backbone name other than ``None`` (the compact encoder) or
    one of ``BACKBONES``, and for ``pretrained=True`` without a backbone (no weights exist)."""
    if backbone is not None and backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; valid backbones: None (compact, from scratch), "
                         f"{', '.join(map(repr, BACKBONES))}")
    if pretrained and backbone is None:
        raise ValueError("pretrained=True needs a backbone with ImageNet weights, e.g. backbone='vgg16'")


class VGGEncoder(nn.Module):
    """Five VGG stages; ``forward`` returns the five maps before each max-pool.

    ``(N, C, H, W) -> [(N, channels[i], H / 2**i, W / 2**i) for i in range(5)]``."""

    def __init__(self, stages, channels):
        super().__init__()
        self.stages = nn.ModuleList(stages)
        self.channels = list(channels)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        features = []
        for i, stage in enumerate(self.stages):
            x = stage(x if i == 0 else self.pool(x))  # (N, channels[i], H/2^i, W/2^i)
            features.append(x)
        return features


def vgg16(pretrained=False):
    """torchvision's VGG16 (``features`` + ``classifier``), with ImageNet weights when ``pretrained``."""
    return torchvision_model(torchvision.models.vgg16, "IMAGENET1K_V1", pretrained)


def vgg16_encoder(vgg, in_channels=3):
    """Split torchvision's ``vgg.features`` (13 conv + ReLU pairs, 5 max-pools) into the five
    stages before each pool, reusing its modules (and so its weights).

    For ``in_channels != 3`` the first convolution is replaced by one whose filters are the RGB
    filters summed and spread over the channels, so a grey image repeated on every channel
    gives the response of the same image in RGB."""
    stages, layers = [], []
    for layer in vgg.features:
        if isinstance(layer, nn.MaxPool2d):
            stages.append(nn.Sequential(*layers))
            layers = []
        else:
            layers.append(layer)
    if in_channels != 3:
        first = stages[0][0]
        conv = nn.Conv2d(in_channels, first.out_channels, 3, padding=1)
        with torch.no_grad():
            conv.weight.copy_(first.weight.sum(1, keepdim=True).expand_as(conv.weight) / in_channels)
            conv.bias.copy_(first.bias)
        stages[0][0] = conv
    return VGGEncoder(stages, [stage[-2].out_channels for stage in stages])  # stage[-1] is a ReLU


def compact_vgg_encoder(in_channels=3, base_channels=16, batch_norm=True):
    """VGG16's layout (2, 2, 3, 3, 3 convs per stage) from ``ConvBNReLU`` with
    ``base_channels * (1, 2, 4, 8, 8)`` channels: 16-32-64-128-128 by default."""
    channels = [base_channels * m for m in (1, 2, 4, 8, 8)]
    stages = []
    for n_convs, width in zip(VGG16_CONVS, channels):
        stages.append(nn.Sequential(*(ConvBNReLU(in_channels if i == 0 else width, width, batch_norm=batch_norm)
                                      for i in range(n_convs))))
        in_channels = width
    return VGGEncoder(stages, channels)
