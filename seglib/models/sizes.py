"""Input sizes: what a model needs its height and width to be multiples of, and the one check.

Pooling and strided models only fit inputs whose height and width are multiples of their
total stride (``size_divisor``: 32 for FCN, 2 ** levels for the U-Nets, the output stride
for DeepLab and PSPNet).  ``size_divisor(name, **options)`` answers it from the model's own
rule without building the model; every size check (the models' forward, ``fit``, the
notebook parameters) words its error with ``size_error``.
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
