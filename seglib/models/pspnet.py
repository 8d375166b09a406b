"""PSPNet (Zhao, Shi, Qi, Wang, Jia, "Pyramid Scene Parsing Network", CVPR 2017, arXiv:1612.01105).

A dilated ResNet at output stride 8; the pyramid pooling module pools its LAST stage
(layer4) to 1x1, 2x2, 3x3 and 6x6 grids, so every pixel also sees summaries of the whole
scene and of its regions; a 3x3 conv and a 1x1 classifier follow.  An auxiliary head on
layer3 helps train the deep backbone (loss = main + 0.4 aux, in training only).

Beware SMP's ``PSPNet``: its default ``encoder_depth=3`` pools layer2 instead, and layers
3-4 of its encoder then get no gradient.
"""

from collections.abc import Sequence

from torch import nn

from .blocks import ConvBNReLU, PyramidPooling
from .resnet import AuxHead, SegmentationModel, build_encoder


class PSPHead(nn.Sequential):
    """Pyramid pooling over ``bins``, 3x3 conv to ``channels`` + BN + ReLU, Dropout2d(0.1),
    1x1 classifier.  ``(N, in_channels, h, w) -> (N, num_classes, h, w)``."""

    def __init__(self, in_channels: int, num_classes: int, bins: Sequence[int] = (1, 2, 3, 6), channels: int = 512):
        pyramid = PyramidPooling(in_channels, bins)
        super().__init__(pyramid, ConvBNReLU(pyramid.out_channels, channels, 3), nn.Dropout2d(0.1),
                         nn.Conv2d(channels, num_classes, 1))


class PSPNet(SegmentationModel):
    """``PSPNet(num_classes, in_channels=3, backbone="compact", output_stride=8, bins=(1, 2, 3, 6),
    aux=True, pretrained=False, base_channels=16, head_channels=None)``.

    ``backbone``, ``output_stride``, ``pretrained``, ``base_channels`` as in ``DeepLabV3``.
    ``head_channels``: width of the 3x3 conv after the pyramid, a quarter of layer4's channels
    by default (2048 -> 512 as in the paper).  ``aux``: the FCN head on layer3 (3x3 conv to a
    quarter of its channels, 1024 -> 256), whose logits are returned in training mode only."""

    def __init__(self, num_classes: int, in_channels: int = 3, backbone: str = "compact", output_stride: int = 8,
                 bins: Sequence[int] = (1, 2, 3, 6), aux: bool = True, pretrained: bool = False,
                 base_channels: int = 16, head_channels: int | None = None):
        encoder = build_encoder(backbone, output_stride, in_channels, pretrained, base_channels)
        head = PSPHead(encoder.channels["out"], num_classes, bins, head_channels or encoder.channels["out"] // 4)
        super().__init__(encoder, head, AuxHead(encoder.channels["aux"], num_classes) if aux else None)
