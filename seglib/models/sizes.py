"""Input sizes: what a model needs its height and width to be multiples of, and the one check.

Pooling and strided models only fit inputs whose height and width are multiples of their
total stride (``size_divisor``: 32 for FCN, 2 ** levels for the U-Nets, the output stride
for DeepLab and PSPNet).  ``size_divisor(name, **options)`` answers it from the model's own
rule without building the model; every size check (the models' forward, ``fit``, the
notebook parameters) words its error with ``size_error``.  ``receptive_field`` says how wide a
window of the input one output pixel of a stack of convolutions sees.
"""

from collections.abc import Sequence


def suggest_size(size: Sequence[int], divisor: int) -> tuple[int, int]:
    """The nearest size at or below ``size`` that suits ``divisor`` (at least ``divisor``)."""
    return tuple(max(divisor, v // divisor * divisor) for v in size)


def size_error(size: Sequence[int], divisor: int, model_name: str) -> str | None:
    """None when ``size=(height, width)`` suits a model of ``size_divisor=divisor``, else the
    error message: what is wrong and a size that works."""
    height, width = size
    if height % divisor == 0 and width % divisor == 0:
        return None
    example = suggest_size(size, divisor)
    return (f"image size {height}x{width} does not suit {model_name}: height and width must be multiples of "
            f"{divisor}, e.g. image_size={example}")


def receptive_field(layers: Sequence[tuple[int, int, int]]) -> int:
    """Width in input pixels of the window one output pixel of a stack of layers sees.

    ``layers``: ``(kernel_size, dilation, stride)`` per layer, the first layer first (a 2x2
    pooling is ``(2, 1, 2)``).  A layer's kernel spans ``(kernel_size - 1) * dilation + 1`` of
    its input's pixels, which lie ``jump`` input pixels apart, ``jump`` being the product of the
    strides of the layers before it; so each layer widens the window by
    ``(kernel_size - 1) * dilation * jump``."""
    field, jump = 1, 1
    for kernel_size, dilation, stride in layers:
        field += (kernel_size - 1) * dilation * jump
        jump *= stride
    return field
