"""Fully Convolutional Networks (Long, Shelhamer, Darrell, "Fully Convolutional Networks for
Semantic Segmentation", CVPR 2015, arXiv:1411.4038).

A classification network becomes a segmentation network by turning its fully connected
layers into convolutions: VGG16's fc6 becomes a 7x7 convolution with 4096 channels, fc7 a
1x1 convolution, and a 1x1 ``score_fr`` gives class scores at 1/32 of the input size.
Upsampling those scores by 32 gives FCN-32s, whose masks are blobby: one score per 32x32
block.  The *skip* idea: finer layers know *where*, deeper layers know *what*, so add them.
FCN-16s upsamples the scores x2, adds 1x1 scores of pool4 (stride 16), then upsamples x16;
FCN-8s does it once more with pool3 (stride 8) and upsamples x8.  Every upsampling is a
transposed convolution initialised to bilinear interpolation (``BilinearUpsample``), learnt
by default.  The paper (sections 4.2 and 4.3) learns the 2x upsamplings (``upscore2``,
``upscore_pool4``) but fixes the final 32x / 16x / 8x one (``upscore``) to bilinear
interpolation: that is ``learn_final_upsampling=False``.  ``learn_upsampling=False`` fixes
them all.

Alignment: the reference pads conv1_1 by 100 pixels and crops every map back into place.
Here, as in modern code, every convolution uses "same" padding (fc6 pads by 3), so for a
height and width divisible by 32 (``size_divisor``) pool3, pool4 and pool5 are exactly 1/8,
1/16 and 1/32 of the input and the x2 upsampled scores land exactly on the skip maps; the
``resize_to`` calls are then no-ops.  For other sizes they interpolate the upsampled scores
to the skip map and the logits to the input size.

``FCN8s(num_classes)`` is a small CPU model: a compact VGG encoder (``vgg.py``, 16-32-64-128-128
channels, batch norm) and a 3x3 fc6 / 1x1 fc7 of 512 channels.  ``backbone="vgg16"`` is the
paper's network on torchvision's VGG16; with ``pretrained=True`` its ImageNet weights fill the
encoder and, reshaped from the classifier's Linear layers as the paper does, fc6 and fc7.
"""

import torch
from torch import nn

from .blocks import BilinearUpsample, ConvBNReLU, resize_to
from .vgg import check_backbone, compact_vgg_encoder, vgg16, vgg16_encoder


class FCNHead(nn.Sequential):
    """fc6 (a ``kernel_size`` conv to ``width`` channels, ReLU, dropout), fc7 (1x1 conv, ReLU,
    dropout) and ``score_fr`` (1x1 conv to the classes); the defaults are the paper's.
    ``(N, in_channels, h, w) -> (N, num_classes, h, w)``."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 4096, kernel_size: int = 7,
                 batch_norm: bool = False, dropout: float = 0.5):
        super().__init__(
            ConvBNReLU(in_channels, width, kernel_size, batch_norm=batch_norm),  # fc6
            nn.Dropout(dropout),
            ConvBNReLU(width, width, 1, batch_norm=batch_norm),  # fc7
            nn.Dropout(dropout),
            nn.Conv2d(width, num_classes, 1))  # score_fr

    def load_vgg_classifier(self, classifier: nn.Sequential):
        """Copy VGG's fc6 and fc7 ``Linear`` weights (``[4096, 512 * 7 * 7]``, ``[4096, 4096]``)
        into the 7x7 and 1x1 convolutions: on a 7x7 map the conv computes the Linear layer."""
        with torch.no_grad():
            for conv, linear in ((self[0][0], classifier[0]), (self[2][0], classifier[3])):
                conv.weight.copy_(linear.weight.view_as(conv.weight))
                conv.bias.copy_(linear.bias)


class FCN(nn.Module):
    """``FCN(num_classes, in_channels=3, stride=8, backbone=None, base_channels=16,
    pretrained=False, learn_upsampling=True, learn_final_upsampling=True)``: FCN-32s, -16s
    or -8s by ``stride``.

    ``backbone=None`` is the compact CPU encoder of ``base_channels * (1, 2, 4, 8, 8)``
    channels; ``backbone="vgg16"`` the paper's configuration (ImageNet weights with
    ``pretrained=True``).  ``(N, in_channels, H, W) -> (N, num_classes, H, W)``.

    ``learn_upsampling=False`` freezes every upsampling layer at bilinear interpolation;
    ``learn_final_upsampling=False`` freezes only the final one (``upscore``), as the paper
    does, and the 2x ones are still learnt.
    """

    def __init__(self, num_classes: int, in_channels: int = 3, stride: int = 8, backbone: str | None = None,
                 base_channels: int = 16, pretrained: bool = False, learn_upsampling: bool = True,
                 learn_final_upsampling: bool = True):
        super().__init__()
        if stride not in (8, 16, 32):
            raise ValueError(f"stride must be 8, 16 or 32, got {stride!r}")
        check_backbone(backbone, pretrained)
        self.stride = stride
        self.size_divisor = self.input_divisor()
        if backbone is None:
            self.encoder = compact_vgg_encoder(in_channels, base_channels)
            width = self.encoder.channels[-1]
            self.head = FCNHead(width, num_classes, width=4 * width, kernel_size=3, batch_norm=True)
        else:
            vgg = vgg16(pretrained)
            self.encoder = vgg16_encoder(vgg, in_channels)
            self.head = FCNHead(self.encoder.channels[-1], num_classes)  # 7x7 4096, 1x1 4096
            if pretrained:
                self.head.load_vgg_classifier(vgg.classifier)
        channels = self.encoder.channels  # before pool1..pool5
        # The layers keep the reference's names; the skip scorers start at zero, as in the
        # paper, so FCN-16s and FCN-8s start from the coarser net's prediction.
        if stride <= 16:
            self.upscore2 = BilinearUpsample(num_classes, 2)
            self.score_pool4 = nn.Conv2d(channels[3], num_classes, 1)
            nn.init.zeros_(self.score_pool4.weight)
        if stride == 8:
            self.upscore_pool4 = BilinearUpsample(num_classes, 2)
            self.score_pool3 = nn.Conv2d(channels[2], num_classes, 1)
            nn.init.zeros_(self.score_pool3.weight)
        self.upscore = BilinearUpsample(num_classes, stride)
        for module in self.modules():
            if isinstance(module, BilinearUpsample):
                module.weight.requires_grad_(learn_upsampling)
        if not learn_final_upsampling:
            self.upscore.weight.requires_grad_(False)  # the paper's fixed bilinear x32 / x16 / x8

    @staticmethod
    def input_divisor(**_) -> int:
        """32: five max-pools, so that pool3, pool4 and pool5 are exactly 1/8, 1/16 and 1/32."""
        return 32

    def forward(self, x):
        features = self.encoder(x)  # 5 maps before each pool, strides 1, 2, 4, 8, 16
        pool3, pool4, pool5 = (self.encoder.pool(f) for f in features[2:])  # strides 8, 16, 32
        score = self.head(pool5)  # (N, K, H/32, W/32)
        if self.stride <= 16:
            skip = self.score_pool4(pool4)  # (N, K, H/16, W/16)
            score = resize_to(self.upscore2(score), skip.shape[-2:]) + skip
        if self.stride == 8:
            skip = self.score_pool3(pool3)  # (N, K, H/8, W/8)
            score = resize_to(self.upscore_pool4(score), skip.shape[-2:]) + skip
        return resize_to(self.upscore(score), x.shape[-2:])  # (N, K, H, W)


class FCN32s(FCN):
    """FCN-32s: the stride-32 scores upsampled x32 in one step.  Options as ``FCN``.

    Counting every parameter, the most of the three: its final transposed convolution is
    K x K x 64 x 64 (kernel 2 * 32, K classes), against 32 x 32 for FCN-16s and 16 x 16 for
    FCN-8s, more than the small skip layers those add (331,776 of 2,112,249 at the compact
    default with the notebooks' 9 synthetic classes, against 2,457 and 4,338 skip weights).
    The paper fixes that layer to bilinear (sec. 4.3, ``learn_final_upsampling=False``): by
    trained weights the three are then about equal (notebook 01 prints both counts)."""

    def __init__(self, num_classes: int, in_channels: int = 3, **options):
        super().__init__(num_classes, in_channels, stride=32, **options)


class FCN16s(FCN):
    """FCN-16s: x2, add the pool4 scores, x16.  Options as ``FCN``."""

    def __init__(self, num_classes: int, in_channels: int = 3, **options):
        super().__init__(num_classes, in_channels, stride=16, **options)


class FCN8s(FCN):
    """FCN-8s: x2, add the pool4 scores, x2, add the pool3 scores, x8.  Options as ``FCN``."""

    def __init__(self, num_classes: int, in_channels: int = 3, **options):
        super().__init__(num_classes, in_channels, stride=8, **options)
