"""Dilated ResNet encoders for DeepLab and PSPNet, and the model skeleton they share.

DeepLab (Chen et al., arXiv:1706.05587) and PSPNet (Zhao et al., CVPR 2017) keep more
resolution than a classifier: the last stages of the ResNet (He et al., arXiv:1512.03385)
trade their stride 2 for a dilation of 2 (then 4), so the features come out at 1/16 or 1/8
of the input instead of 1/32, with the same weights and the same receptive field.
torchvision's ResNet does this with ``replace_stride_with_dilation``; its ResNet-18/34
(BasicBlock) refuse it, hence the small ``CompactResNet`` here, which does the same on
BasicBlock-style units and is the CPU default.

``build_encoder`` gives either one as an ``Encoder``: it returns the named features
``{"low_level": layer1 (1/4), "aux": layer3, "out": layer4}`` (torchvision's
``IntermediateLayerGetter``) and reports their channels, from which the heads are built.
``SegmentationModel`` is torchvision's three slots: backbone, classifier, aux classifier.
"""

from collections import OrderedDict
from collections.abc import Sequence

import torch
import torchvision
from torch import nn
from torchvision.models._utils import IntermediateLayerGetter

from .blocks import ConvBNReLU, resize_to
from .pretrained import torchvision_model

# replace_stride_with_dilation for layer2, layer3, layer4, per output stride
DILATE = {8: (False, True, True), 16: (False, False, True)}
BACKBONES = ("compact", "resnet50", "resnet101")
TAPS = {"layer1": "low_level", "layer3": "aux", "layer4": "out"}


class BasicBlock(nn.Module):
    """ResNet's basic unit, ``relu(x + bn(conv(conv_bn_relu(x))))``, with a 1x1 conv + BN
    shortcut when the shape changes.  Unlike torchvision's it accepts a dilation: the first
    conv (the one that strides) uses ``first_dilation``, the second ``dilation``, which is
    what replacing that stride by dilation means.  ``(N, C, H, W) -> (N, out, H/s, W/s)``."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, dilation: int = 1,
                 first_dilation: int | None = None):
        super().__init__()
        self.conv1 = ConvBNReLU(in_channels, out_channels, 3, dilation=first_dilation or dilation, stride=stride)
        self.conv2 = nn.Sequential(
            nn.Conv2d(out_channels, out_channels, 3, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(out_channels))
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x):
        return torch.relu(self.shortcut(x) + self.conv2(self.conv1(x)))


class CompactResNet(nn.Sequential):
    """A small ResNet: stem (3x3 conv stride 2 + max-pool) then ``layer1`` .. ``layer4`` at
    1/4, 1/8, 1/16, 1/32 with ``base_channels * (1, 2, 4, 8)`` channels and ``layers[i]``
    BasicBlocks each: ResNet-18's layout, at a quarter of its width by default (about 0.7M
    parameters).  ``replace_stride_with_dilation`` (for layer2..4) works as in torchvision's
    ResNet.  ``channels`` gives each stage's width."""

    def __init__(self, in_channels: int = 3, base_channels: int = 16, layers: Sequence[int] = (2, 2, 2, 2),
                 replace_stride_with_dilation: Sequence[bool] = (False, False, False)):
        widths = [base_channels * 2**i for i in range(4)]
        stages = [("stem", nn.Sequential(ConvBNReLU(in_channels, base_channels, 3, stride=2),
                                         nn.MaxPool2d(3, stride=2, padding=1)))]
        dilation, previous = 1, base_channels
        for i, (width, blocks) in enumerate(zip(widths, layers)):
            stride, first_dilation = (1 if i == 0 else 2), dilation
            if i > 0 and replace_stride_with_dilation[i - 1]:
                dilation, stride = dilation * 2, 1
            units = [BasicBlock(previous, width, stride, dilation, first_dilation)]
            units += [BasicBlock(width, width, dilation=dilation) for _ in range(blocks - 1)]
            stages.append((f"layer{i + 1}", nn.Sequential(*units)))
            previous = width
        super().__init__(OrderedDict(stages))
        self.channels = {f"layer{i + 1}": width for i, width in enumerate(widths)}


class Encoder(IntermediateLayerGetter):
    """Runs a ResNet up to layer4 and returns its named features (``TAPS``):
    ``{"low_level": (N, channels["low_level"], H/4, W/4), "aux": layer3, "out": layer4}``,
    the last two at ``H / output_stride``.  ``head_channels`` is the width of the heads the
    papers pair with it (256 for ResNet-50/101)."""

    def __init__(self, resnet: nn.Module, stage_channels: dict[str, int], output_stride: int, head_channels: int):
        super().__init__(resnet, return_layers=TAPS)
        self.channels = {name: stage_channels[layer] for layer, name in TAPS.items()}
        self.output_stride, self.head_channels = output_stride, head_channels


def build_encoder(backbone: str = "compact", output_stride: int = 16, in_channels: int = 3, pretrained: bool = False,
                  base_channels: int = 16) -> Encoder:
    """The dilated encoder ``backbone`` (``BACKBONES``) at ``output_stride`` 8 or 16.

    ``"compact"``: ``CompactResNet(base_channels)``, heads ``4 * base_channels`` wide;
    ``"resnet50"`` / ``"resnet101"``: torchvision's, ImageNet weights if ``pretrained``
    (its first conv is replaced, untrained, when ``in_channels != 3``)."""
    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; valid backbones: {', '.join(BACKBONES)}")
    if output_stride not in DILATE:
        raise ValueError(f"output_stride must be 8 or 16, got {output_stride!r}")
    if backbone == "compact":
        if pretrained:
            raise ValueError("the compact backbone has no pretrained weights: use backbone='resnet50' "
                             "or 'resnet101' for ImageNet weights")
        resnet = CompactResNet(in_channels, base_channels, replace_stride_with_dilation=DILATE[output_stride])
        return Encoder(resnet, resnet.channels, output_stride, head_channels=4 * base_channels)
    builder = getattr(torchvision.models, backbone)  # looked up now, so a test can replace it
    resnet = torchvision_model(builder, "IMAGENET1K_V1", pretrained,
                               replace_stride_with_dilation=list(DILATE[output_stride]))
    if in_channels != 3:
        resnet.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    stage_channels = {"layer1": 256, "layer2": 512, "layer3": 1024, "layer4": 2048}  # Bottleneck: 4 * 64 * 2**i
    return Encoder(resnet, stage_channels, output_stride, head_channels=256)


# ---------------------------------------------------------------- shared by DeepLab and PSPNet


class AuxHead(nn.Sequential):
    """The auxiliary head on layer3 (torchvision's ``FCNHead``): 3x3 conv to ``in_channels / 4``,
    BN, ReLU, dropout 0.1, 1x1 classifier.  ``(N, C, h, w) -> (N, num_classes, h, w)``."""

    def __init__(self, in_channels: int, num_classes: int):
        channels = in_channels // 4
        super().__init__(ConvBNReLU(in_channels, channels, 3), nn.Dropout(0.1), nn.Conv2d(channels, num_classes, 1))


class SegmentationModel(nn.Module):
    """torchvision's skeleton: ``backbone`` (an ``Encoder``), ``classifier`` on its "out"
    features, and optionally ``aux_classifier`` on its "aux" (layer3) features.

    ``(N, C, H, W) -> logits (N, num_classes, H, W)``, upsampled bilinearly; in training
    mode with an aux classifier, ``(logits, aux_logits)`` (``fit`` weights the aux loss 0.4)."""

    def __init__(self, backbone: Encoder, classifier: nn.Module, aux_classifier: nn.Module | None = None):
        super().__init__()
        self.backbone, self.classifier, self.aux_classifier = backbone, classifier, aux_classifier
        self.size_divisor = self.input_divisor(output_stride=backbone.output_stride)

    @staticmethod
    def input_divisor(output_stride, **_) -> int:
        """The output stride (8 or 16): the features are exactly 1/output_stride of the input."""
        return output_stride

    def decode(self, features):
        """Logits at the features' resolution (DeepLabV3+ overrides it to use "low_level")."""
        return self.classifier(features["out"])

    def forward(self, x):
        size = x.shape[-2:]
        features = self.backbone(x)
        logits = resize_to(self.decode(features), size)
        if self.aux_classifier is None or not self.training:
            return logits
        return logits, resize_to(self.aux_classifier(features["aux"]), size)
