"""Building blocks shared by the architectures, each small enough to read in one go.

Blocks that are a plain sequence of layers subclass ``nn.Sequential``; only blocks that
branch (Inception stacks, the dilated block, ASPP, pyramid pooling) write a ``forward``.
Every convolution uses "same" padding unless stated, so sizes change only by stride.
"""

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .sizes import size_error


class ConvBNReLU(nn.Sequential):
    """A (3x3 by default) "same" convolution, optional batch norm, ReLU.

    With batch norm the convolution has no bias (the norm's shift replaces it).
    ``kernel_size`` may be a pair, e.g. (3, 1) for the Inception stack's asymmetric branch."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int] = 3, dilation: int = 1,
                 batch_norm: bool = True, stride: int = 1):
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        padding = (dilation * (kh - 1) // 2, dilation * (kw - 1) // 2)
        layers = [nn.Conv2d(in_channels, out_channels, (kh, kw), stride=stride, padding=padding,
                            dilation=dilation, bias=not batch_norm)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class DoubleConv(nn.Sequential):
    """Two ConvBNReLU in a row: the unit of every U-Net level."""

    def __init__(self, in_channels: int, out_channels: int, batch_norm: bool = True):
        super().__init__(ConvBNReLU(in_channels, out_channels, batch_norm=batch_norm),
                         ConvBNReLU(out_channels, out_channels, batch_norm=batch_norm))


class SeparableConv(nn.Sequential):
    """Depthwise-separable convolution (Sifre & Mallat; used in Xception and MobileNets): a
    depthwise ``kernel_size`` convolution (one filter per input channel, ``groups=in_channels``),
    then a 1x1 pointwise convolution that mixes channels, batch norm and an activation.

    Its multiply-adds are ``1/out_channels + 1/kernel_size**2`` of a standard convolution's
    (MobileNets, Howard et al. 2017, sec. 3.1)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1, dilation: int = 1,
                 padding: int | None = None, activation: Callable[..., nn.Module] = nn.ReLU):
        if padding is None:
            padding = dilation * (kernel_size - 1) // 2
        super().__init__(
            nn.Conv2d(in_channels, in_channels, kernel_size, stride, padding, dilation, groups=in_channels,
                      bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            activation(inplace=True))


# (kernel, dilation, padding) of the dilated block's branches: each halves the size with
# stride 2 and sees a 7x7, 7x7 and 4x4 window; rates 3, 2 and 1.
DILATED_BRANCHES = ((3, 3, 3), (4, 2, 3), (4, 1, 1))


class DilatedSeparableBlock(nn.Module):
    """The dilated U-Net's encoder block: three depthwise-separable branches, (kernel, dilation)
    (3, 3), (4, 2) and (4, 1), windows of 7, 7 and 4 pixels, each with stride 2, run on the
    same input and concatenated.

    ``(N, C, H, W) -> (N, 3 * out_channels, H/2, W/2)``."""

    def __init__(self, in_channels: int, out_channels: int,
                 branches: Sequence[tuple[int, int, int]] = DILATED_BRANCHES):
        super().__init__()
        self.branches = nn.ModuleList(
            SeparableConv(in_channels, out_channels, k, stride=2, dilation=d, padding=p, activation=nn.LeakyReLU)
            for k, d, p in branches)

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class SeparableUpBlock(nn.Module):
    """The dilated U-Net's decoder block: ``branches`` parallel depthwise transposed
    convolutions (kernel 4, stride 2, ``groups=in_channels``), each followed by a 1x1
    convolution, batch norm and LeakyReLU, concatenated.

    ``(N, C, H, W) -> (N, branches * out_channels, 2H, 2W)``."""

    def __init__(self, in_channels: int, out_channels: int, branches: int = 3):
        super().__init__()
        self.branches = nn.ModuleList(nn.Sequential(
            nn.ConvTranspose2d(in_channels, in_channels, 4, stride=2, padding=1, groups=in_channels, bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.LeakyReLU(inplace=True)) for _ in range(branches))

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class InceptionStack(nn.Module):
    """The Inception-UNet's "stack": parallel branches with different kernel shapes on the same
    input, concatenated.  The idea is GoogLeNet's Inception module (Szegedy et al., "Going
    deeper with convolutions", 2015), which also has 1x1 and pooling branches; the factorised
    3x1 / 1x3 kernels come from Inception-v3 (Szegedy et al., 2016).  The widest window is
    5x5, what two stacked 3x3 convolutions see.

    ``branches=4``: a 5x5 conv, and a 3x3 conv followed by a 3x3, a 3x1 and a 1x3 conv,
    giving ``4 * filters`` channels; ``branches=2``: a 5x5 conv and two 3x3 convs in a
    row, ``2 * filters`` channels.  Every conv is conv + BN + ReLU."""

    def __init__(self, in_channels: int, filters: int, branches: int = 4):
        super().__init__()
        if branches not in (2, 4):
            raise ValueError(f"branches must be 2 or 4, got {branches!r}")
        self.wide = ConvBNReLU(in_channels, filters, 5)
        self.first = ConvBNReLU(in_channels, filters, 3)
        heads = [3] if branches == 2 else [3, (3, 1), (1, 3)]
        self.heads = nn.ModuleList(ConvBNReLU(filters, filters, k) for k in heads)

    @property
    def out_channels(self) -> int:
        return self.wide[0].out_channels * (1 + len(self.heads))

    def forward(self, x):
        t = self.first(x)
        return torch.cat([self.wide(x)] + [head(t) for head in self.heads], dim=1)


class Reduction(ConvBNReLU):
    """The Inception-UNet's "reduction": a 1x1 conv + BN + ReLU back to ``filters`` channels."""

    def __init__(self, in_channels: int, filters: int):
        super().__init__(in_channels, filters, kernel_size=1)


class ImagePooling(nn.Sequential):
    """ASPP's image-level branch: global average pool, 1x1 conv, BN, ReLU, upsampled back."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.AdaptiveAvgPool2d(1), nn.Conv2d(in_channels, out_channels, 1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))

    def forward(self, x):
        return F.interpolate(super().forward(x), size=x.shape[-2:], mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """Atrous Spatial Pyramid Pooling (DeepLabV3): a 1x1 conv, one 3x3 atrous conv per rate,
    and image pooling, each to ``out_channels`` with BN + ReLU; concatenated, projected by a
    1x1 conv + BN + ReLU, then dropout.  Rates (6, 12, 18) suit output stride 16; double them
    for output stride 8.  ``(N, C, H, W) -> (N, out_channels, H, W)``."""

    def __init__(self, in_channels: int, rates: Sequence[int] = (6, 12, 18), out_channels: int = 256,
                 dropout: float = 0.5):
        super().__init__()
        self.branches = nn.ModuleList(
            [ConvBNReLU(in_channels, out_channels, 1)]
            + [ConvBNReLU(in_channels, out_channels, 3, dilation=r) for r in rates]
            + [ImagePooling(in_channels, out_channels)])
        self.project = nn.Sequential(ConvBNReLU((len(rates) + 2) * out_channels, out_channels, 1),
                                     nn.Dropout(dropout))

    def forward(self, x):
        return self.project(torch.cat([branch(x) for branch in self.branches], dim=1))


class PyramidPooling(nn.Module):
    """PSPNet's pyramid pooling module: average-pool the map to ``bins`` x ``bins`` grids,
    1x1 conv each to ``in_channels / len(bins)`` + BN + ReLU, upsample, concatenate with
    the input.  ``(N, C, H, W) -> (N, 2C, H, W)`` for four bins."""

    def __init__(self, in_channels: int, bins: Sequence[int] = (1, 2, 3, 6)):
        super().__init__()
        reduced = in_channels // len(bins)
        self.stages = nn.ModuleList(nn.Sequential(nn.AdaptiveAvgPool2d(b), ConvBNReLU(in_channels, reduced, 1))
                                    for b in bins)
        self.out_channels = in_channels + reduced * len(bins)

    def forward(self, x):
        size = x.shape[-2:]
        pooled = [F.interpolate(stage(x), size=size, mode="bilinear", align_corners=False) for stage in self.stages]
        return torch.cat([x] + pooled, dim=1)


def bilinear_kernel(channels: int, kernel_size: int) -> torch.Tensor:
    """Weights ``[channels, channels, k, k]`` that make a transposed convolution upsample each
    channel by bilinear interpolation (channel c only feeds channel c), as FCN initialises it."""
    factor = (kernel_size + 1) // 2
    centre = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    ramp = 1 - (torch.arange(kernel_size, dtype=torch.float32) - centre).abs() / factor
    weight = torch.zeros(channels, channels, kernel_size, kernel_size)
    weight[range(channels), range(channels)] = ramp[:, None] * ramp[None, :]
    return weight


class BilinearUpsample(nn.ConvTranspose2d):
    """``factor``x upsampling by a learnable transposed convolution (kernel ``2 * factor``,
    stride ``factor``), initialised to bilinear interpolation; no bias, as in FCN.
    ``(N, C, H, W) -> (N, C, factor * H, factor * W)``."""

    def __init__(self, channels: int, factor: int):
        super().__init__(channels, channels, 2 * factor, stride=factor, padding=factor // 2, bias=False)
        with torch.no_grad():
            self.weight.copy_(bilinear_kernel(channels, 2 * factor))


def resize_to(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Bilinear resize of a feature or logit map to ``size`` (H, W)."""
    return x if tuple(x.shape[-2:]) == tuple(size) else F.interpolate(x, size=size, mode="bilinear",
                                                                     align_corners=False)


def crop_to(x: torch.Tensor, size: Sequence[int], offset: int = 0) -> torch.Tensor:
    """The ``size`` (H, W) window of ``x`` whose top-left corner is at ``(offset, offset)``: how the
    paper's FCN (Caffe's ``Crop`` layer) aligns a skip's larger score map with the upsampled scores
    before adding them.  seglib's FCN pads every convolution instead, so its maps already align."""
    height, width = size
    if offset < 0 or offset + height > x.shape[-2] or offset + width > x.shape[-1]:
        raise ValueError(f"a {height}x{width} window at offset {offset} does not fit in a "
                         f"{x.shape[-2]}x{x.shape[-1]} map")
    return x[..., offset:offset + height, offset:offset + width]


def check_divisible(x: torch.Tensor, divisor: int, model_name: str) -> None:
    """Raise a clear error when the input's height or width is not a multiple of ``divisor``."""
    problem = size_error(x.shape[-2:], divisor, model_name)
    if problem:
        raise ValueError(f"{problem}; or use seglib.predict, which pads any image to fit")
