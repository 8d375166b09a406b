"""Building blocks shared by the architectures."""

from torch import nn


class ConvBNReLU(nn.Sequential):
    """3x3 (by default) "same" convolution, optional batch norm, ReLU.

    With batch norm the convolution has no bias (the norm's shift replaces it)."""

    def __init__(self, in_channels, out_channels, kernel_size=3, dilation=1, batch_norm=True):
        padding = dilation * (kernel_size - 1) // 2
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding,
                            dilation=dilation, bias=not batch_norm)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class DoubleConv(nn.Sequential):
    """Two ConvBNReLU in a row: the unit of every U-Net level."""

    def __init__(self, in_channels, out_channels, batch_norm=True):
        super().__init__(ConvBNReLU(in_channels, out_channels, batch_norm=batch_norm),
                         ConvBNReLU(out_channels, out_channels, batch_norm=batch_norm))


def check_divisible(x, divisor, model_name):
    """Raise a clear error when the input's height or width is not a multiple of ``divisor``."""
    height, width = x.shape[-2:]
    if height % divisor or width % divisor:
        raise ValueError(
            f"{model_name} needs height and width divisible by {divisor}, got {height}x{width}: "
            f"choose an image_size that is a multiple of {divisor}, or use seglib.predict, which pads")
