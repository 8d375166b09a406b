"""DeepLabV3 (Chen et al., arXiv:1706.05587) and DeepLabV3+ (Chen et al., arXiv:1802.02611).

A dilated ResNet keeps the features at 1/16 or 1/8 of the input (the output stride); ASPP
looks at them through a 1x1 conv, three 3x3 atrous convs and image pooling at once.
DeepLabV3 classifies ASPP's output and upsamples it; DeepLabV3+ adds a light decoder that
refines it with the stride-4 (layer1) features before the final 4x upsampling.

``DeepLabV3(21, backbone="resnet50", output_stride=8)`` is torchvision's
``deeplabv3_resnet50`` (39,638,869 parameters); the default is a small CPU model.
"""

import math
from collections.abc import Sequence

import torch
from torch import nn

from .blocks import ASPP, ConvBNReLU, resize_to
from .resnet import AuxHead, SegmentationModel, build_encoder


def aspp_rates(output_stride: int, rates: Sequence[int] | None = None) -> tuple[int, ...]:
    """The paper's ASPP rates: (6, 12, 18) at output stride 16, doubled at 8; ``rates`` wins."""
    return tuple(rates) if rates is not None else tuple(r * 16 // output_stride for r in PAPER_RATES)


PAPER_RATES = (6, 12, 18)  # ASPP's 3x3 atrous rates at output stride 16
PAPER_FEATURE_SIDE = 33  # the paper's 513x513 crops at output stride 16: a 33x33 feature map


def suited_rates(image_size: tuple[int, int], output_stride: int = 16) -> tuple[int, ...]:
    """The paper's ASPP rates scaled to this input's feature map: ``max(1, round(r * side / 33))``
    for ``r`` in (6, 12, 18), which the paper chose for a 33x33 map (513x513 crops at output
    stride 16; at output stride 8 it doubles them on a 65x65 map, about the same ratio).

    ``side`` is the shorter side of the feature map, ``ceil(min(image_size) / output_stride)``:
    the encoders' stride-2 layers pad, so they round up.  ``suited_rates((513, 513)) == (6, 12, 18)``,
    ``suited_rates((96, 128)) == (1, 2, 3)`` (a 6x8 map).  On tiny maps the rates can coincide."""
    side = math.ceil(min(image_size) / output_stride)
    return tuple(max(1, round(r * side / PAPER_FEATURE_SIDE)) for r in PAPER_RATES)


def useful_rates(rates: Sequence[int], feature_size: Sequence[int]) -> tuple[int, ...]:
    """The atrous rates (in their order) whose 3x3 kernel still has a tap besides its centre
    inside a feature map of ``feature_size=(h, w)``, at some output position: ``r < h or r < w``.

    A tap at offset ``r`` (up, down, left or right) falls inside the map somewhere iff the map
    is more than ``r`` long in that direction.  At a larger rate every other tap lands on the
    zero padding, and the 3x3 atrous convolution acts as a 1x1 convolution (its centre weight)."""
    height, width = feature_size
    return tuple(r for r in rates if r < height or r < width)


class DeepLabHead(nn.Sequential):
    """torchvision's DeepLabV3 head: ASPP, 3x3 conv + BN + ReLU, 1x1 classifier.
    ``(N, in_channels, h, w) -> (N, num_classes, h, w)``."""

    def __init__(self, in_channels: int, num_classes: int, rates: Sequence[int] = (6, 12, 18), channels: int = 256):
        super().__init__(ASPP(in_channels, rates, channels), ConvBNReLU(channels, channels, 3),
                         nn.Conv2d(channels, num_classes, 1))


class DeepLabV3(SegmentationModel):
    """``DeepLabV3(num_classes, in_channels=3, backbone="compact", output_stride=16, rates=None,
    aux=False, pretrained=False, base_channels=16, head_channels=None)``.

    ``backbone``: ``"compact"`` (``base_channels`` wide), ``"resnet50"`` or ``"resnet101"``
    (``pretrained``: ImageNet weights).  ``output_stride`` 8 or 16; ASPP ``rates`` follow it
    unless given.  ``head_channels``: ASPP width, 256 with a ResNet-50/101, ``4 * base_channels``
    with the compact one.  ``aux``: torchvision's FCN head on layer3, in training mode only."""

    def __init__(self, num_classes: int, in_channels: int = 3, backbone: str = "compact", output_stride: int = 16,
                 rates: Sequence[int] | None = None, aux: bool = False, pretrained: bool = False,
                 base_channels: int = 16, head_channels: int | None = None):
        encoder = build_encoder(backbone, output_stride, in_channels, pretrained, base_channels)
        head = DeepLabHead(encoder.channels["out"], num_classes, aspp_rates(output_stride, rates),
                           head_channels or encoder.head_channels)
        super().__init__(encoder, head, AuxHead(encoder.channels["aux"], num_classes) if aux else None)


class DeepLabV3PlusDecoder(nn.Module):
    """The V3+ decoder: ASPP on the "out" features, upsampled to the stride-4 "low_level"
    features projected by a 1x1 conv to ``low_level_channels`` (48 in the paper),
    concatenated, two 3x3 convs + BN + ReLU, 1x1 classifier.  ``-> (N, num_classes, H/4, W/4)``."""

    def __init__(self, in_channels: int, low_level_in_channels: int, num_classes: int,
                 rates: Sequence[int] = (6, 12, 18), channels: int = 256, low_level_channels: int = 48):
        super().__init__()
        self.aspp = ASPP(in_channels, rates, channels)
        self.project = ConvBNReLU(low_level_in_channels, low_level_channels, 1)
        self.fuse = nn.Sequential(ConvBNReLU(channels + low_level_channels, channels, 3),
                                  ConvBNReLU(channels, channels, 3))
        self.classifier = nn.Conv2d(channels, num_classes, 1)

    def forward(self, out, low_level):
        low_level = self.project(low_level)  # (N, 48, H/4, W/4)
        x = resize_to(self.aspp(out), low_level.shape[-2:])  # (N, 256, H/4, W/4): 4x up at output stride 16
        return self.classifier(self.fuse(torch.cat([x, low_level], dim=1)))


class DeepLabV3Plus(SegmentationModel):
    """``DeepLabV3Plus(num_classes, in_channels=3, backbone="compact", output_stride=16, rates=None,
    aux=False, pretrained=False, base_channels=16, head_channels=None, low_level_channels=None)``.

    Options as ``DeepLabV3``; ``low_level_channels``: width of the projected layer1 features,
    ``3 * head_channels / 16`` by default (48 for the paper's 256)."""

    def __init__(self, num_classes: int, in_channels: int = 3, backbone: str = "compact", output_stride: int = 16,
                 rates: Sequence[int] | None = None, aux: bool = False, pretrained: bool = False,
                 base_channels: int = 16, head_channels: int | None = None, low_level_channels: int | None = None):
        encoder = build_encoder(backbone, output_stride, in_channels, pretrained, base_channels)
        channels = head_channels or encoder.head_channels
        decoder = DeepLabV3PlusDecoder(encoder.channels["out"], encoder.channels["low_level"], num_classes,
                                       aspp_rates(output_stride, rates), channels,
                                       low_level_channels or 3 * channels // 16)
        super().__init__(encoder, decoder, AuxHead(encoder.channels["aux"], num_classes) if aux else None)

    def decode(self, features):
        return self.classifier(features["out"], features["low_level"])
