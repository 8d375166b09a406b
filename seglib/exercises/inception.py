"""Checks for notebook 03's exercises: the Inception stack as a module, the unit with its 1x1
reduction, and the stack's parameter count.

The references are seglib's own: ``InceptionStack`` and ``InceptionUnit``; a module exercise
is compared on :func:`module_facts` (output shape, parameter count) and on whether every
output is a ReLU's (non-negative).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import torch
from torch import nn

from ..models import count_parameters
from ..models.blocks import InceptionStack
from ..models.inception_unet import InceptionUnit
from .checking import Case, Mistake, module_facts, run_check

__all__ = ["check_inception_unit", "check_stack", "check_stack_parameters"]

RELU_LAST = "outputs >= 0"


def facts(build: Callable[[], nn.Module], in_channels: int, size: tuple[int, int]) -> dict:
    """``module_facts`` of the module ``build()`` returns, on a random batch of two ``in_channels`` x
    ``size`` images, and whether every output is non-negative (every branch ends with a ReLU).
    Seeded, without changing the caller's random state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        module = build()
        x = torch.randn(2, in_channels, *size)
        found = module_facts(module, x)
        with torch.no_grad():
            found[RELU_LAST] = bool((module(x) >= 0).all())
    return found


def conv_bn(kernel_area: int, in_channels: int, out_channels: int) -> int:
    """Parameters of a ConvBNReLU: weights (no bias) and batch norm's scale and shift."""
    return kernel_area * in_channels * out_channels + 2 * out_channels


def gap(delta: Callable[..., int], shape: str = "same") -> Callable:
    """A mistake test: the parameter count is off by ``delta(**case.kwargs)``, and the output shape
    is the expected one (``shape="same"``) or not (``"any"``)."""
    def matches(got, expected, case: Case) -> bool:
        if shape == "same" and got["output shape"] != expected["output shape"]:
            return False
        return got["parameters"] - expected["parameters"] == delta(**case.kwargs)
    return matches


def channels(count: Callable[..., int], parameters_equal: bool = False) -> Callable:
    """A mistake test: the output has ``count(**case.kwargs)`` channels (other than the expected
    number) with the expected height and width; with ``parameters_equal``, the expected count."""
    def matches(got, expected, case: Case) -> bool:
        shape, wanted = got["output shape"], expected["output shape"]
        return (shape[1] == count(**case.kwargs) != wanted[1] and shape[2:] == wanted[2:]
                and (not parameters_equal or got["parameters"] == expected["parameters"]))
    return matches


def size_changes(got, expected, case: Case) -> bool:
    """The branches' outputs differ in height or width (concatenating them failed), or the
    output's height and width are not the input's."""
    if isinstance(got, RuntimeError):
        return "Sizes of tensors must match" in str(got)
    return got["output shape"][2:] != expected["output shape"][2:]


def not_relu_last(got, expected, case: Case) -> bool:
    return got[RELU_LAST] is False and got["output shape"] == expected["output shape"]


def stack_kwargs(in_channels: int, filters: int, size: tuple[int, int]) -> dict:
    return {"in_channels": in_channels, "filters": filters, "size": size}


def reference_stack(in_channels: int, filters: int, size: tuple[int, int]) -> dict:
    return facts(lambda: InceptionStack(in_channels, filters), in_channels, size)


def shared(in_channels, filters, size):
    return conv_bn(9, in_channels, filters)


PADDING = ("the height and width change in a branch: every convolution keeps them (\"same\" padding), and a "
           "kernel pads each dimension by half its size, rounded down: 2 for 5, 1 for 3, 0 for 1 (a 3x1 kernel pads "
           "1 row and no column)")

STACK_MISTAKES = [
    Mistake(PADDING, matches=size_changes),
    Mistake("the branches are added: the stack concatenates them along the channels (4 * filters channels)",
            matches=channels(lambda filters, **_: filters, parameters_equal=True)),
    Mistake("the shared 3x3's output is concatenated as a fifth branch: the stack concatenates the 5x5 and the "
            "three convolutions that follow the shared 3x3 (4 * filters channels)",
            matches=channels(lambda filters, **_: 5 * filters, parameters_equal=True)),
    Mistake("the shared 3x3's output is concatenated instead of the 3x3 that follows it: the branches are the "
            "5x5, and the 3x3, 3x1 and 1x3 convolutions applied to the shared 3x3's output",
            matches=gap(lambda filters, **_: -conv_bn(9, filters, filters))),
    Mistake("the 5x5 branch is missing: the stack concatenates four branches (4 * filters channels)",
            matches=gap(lambda in_channels, filters, **_: -conv_bn(25, in_channels, filters), shape="any")),
    Mistake("the 3x3 convolution after the shared 3x3 is missing: the stack concatenates four branches "
            "(4 * filters channels)", matches=gap(lambda filters, **_: -conv_bn(9, filters, filters), shape="any")),
    Mistake("the 3x1 or the 1x3 branch is missing: the stack concatenates four branches (4 * filters channels)",
            matches=gap(lambda filters, **_: -conv_bn(3, filters, filters), shape="any")),
    Mistake("the first 3x3 is not shared: one 3x3 convolution on the input feeds all three of the 3x3, 3x1 and 1x3 "
            "branches (you have one per branch)", matches=gap(lambda **k: 2 * shared(**k))),
    Mistake("the first 3x3 is not shared: one 3x3 convolution on the input feeds all three of the 3x3, 3x1 and 1x3 "
            "branches (you have two)", matches=gap(lambda **k: shared(**k))),
    Mistake("the convolutions have a bias: batch norm's shift follows and replaces it, so they have none "
            "(bias=False)", matches=gap(lambda filters, **_: 5 * filters)),
    Mistake("batch norm is missing: every convolution is followed by batch norm, then ReLU",
            matches=gap(lambda filters, **_: -10 * filters)),
    Mistake("some outputs are negative: every branch ends with a ReLU (conv, batch norm, then ReLU)",
            matches=not_relu_last),
]

STACK_CASES = [
    Case("1 channel in, 2 filters, a 5x5 input", kwargs=stack_kwargs(1, 2, (5, 5))),
    Case("3 channels in, 8 filters (the notebook's first level), 8x8", kwargs=stack_kwargs(3, 8, (8, 8))),
    Case("4 channels in, 6 filters, odd size 7x9", kwargs=stack_kwargs(4, 6, (7, 9))),
    Case("8 channels in, 4 filters, even size 10x6", kwargs=stack_kwargs(8, 4, (10, 6))),
    Case("16 channels in, 16 filters, 6x6", kwargs=stack_kwargs(16, 16, (6, 6))),
]


def check_stack(stack_class: Callable) -> None:
    """``Stack(in_channels, filters)``: InceptionStack's four branches as an ``nn.Module``,
    ``(N, in_channels, H, W) -> (N, 4 * filters, H, W)``."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    def student(in_channels, filters, size):
        return facts(lambda: stack_class(in_channels, filters), in_channels, size)
    run_check("Stack", student, reference_stack, STACK_CASES, STACK_MISTAKES)


def unit_kwargs(in_channels: int, filters: int, size: tuple[int, int], out_channels: int | None = None) -> dict:
    given = {"out_channels": out_channels} if out_channels is not None else {}
    return {"in_channels": in_channels, "filters": filters, **given, "size": size}


def reference_unit(in_channels: int, filters: int, size: tuple[int, int], out_channels: int | None = None) -> dict:
    return facts(lambda: InceptionUnit(in_channels, filters, out_channels), in_channels, size)


def reduction_input_wrong(got, expected, case: Case) -> bool:
    """Building or running the unit failed because the 1x1 conv expects other than 4 * filters channels."""
    found = re.search(r"to have (\d+) channels, but got (\d+) channels", str(got))
    return (isinstance(got, RuntimeError) and found is not None
            and int(found.group(2)) == 4 * case.kwargs["filters"] != int(found.group(1)))


def out_of(filters, out_channels=None, **_) -> int:
    return out_channels or filters


UNIT_MISTAKES = [
    Mistake("the 1x1 reduction reads the stack's output, 4 * filters channels (four branches concatenated), not "
            "in_channels or filters", matches=reduction_input_wrong),
    Mistake("the reduction keeps the stack's 4 * filters channels: it brings them down to out_channels "
            "(filters when out_channels is None)", matches=channels(lambda filters, **_: 4 * filters)),
    Mistake("out_channels is ignored: when given, it is the reduction's output width (the decoder projects to its "
            "skip's width); filters only when out_channels is None",
            matches=channels(lambda filters, out_channels=None, **_: filters if out_channels else -1)),
    Mistake("the reduction goes back to in_channels: it goes to out_channels (filters when out_channels is None)",
            matches=channels(lambda in_channels, **_: in_channels)),
    Mistake("the reduction is not a 1x1 convolution: a 1x1 kernel mixes the channels of each pixel alone "
            "(yours is 3x3: 9 times the weights)",
            matches=gap(lambda filters, **k: 8 * 4 * filters * out_of(filters, **k), shape="any")),
    Mistake("the 1x1 convolution has a bias: batch norm's shift follows and replaces it (bias=False)",
            matches=gap(lambda **k: out_of(**k))),
    Mistake("batch norm is missing after the 1x1 convolution: it is conv, batch norm, then ReLU",
            matches=gap(lambda **k: -2 * out_of(**k))),
    Mistake("some outputs are negative: the reduction ends with a ReLU (conv, batch norm, then ReLU)",
            matches=not_relu_last),
]

UNIT_CASES = [
    Case("3 channels in, 2 filters, a 5x5 input", kwargs=unit_kwargs(3, 2, (5, 5))),
    Case("3 channels in, 8 filters (the notebook's first level), 8x8", kwargs=unit_kwargs(3, 8, (8, 8))),
    Case("out_channels=8 from 16 filters (a decoder projection), odd size 7x5",
         kwargs=unit_kwargs(16, 16, (7, 5), out_channels=8)),
    Case("5 channels in, 4 filters, out_channels=12, even size 6x10",
         kwargs=unit_kwargs(5, 4, (6, 10), out_channels=12)),
]


def check_inception_unit(inception_unit: Callable) -> None:
    """``inception_unit(in_channels, filters, out_channels=None)``: InceptionStack, then a 1x1
    conv + BN + ReLU from ``4 * filters`` to ``out_channels`` (``filters`` when None)."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    def student(in_channels, filters, size, **given):
        return facts(lambda: inception_unit(in_channels, filters, **given), in_channels, size)
    run_check("inception_unit", student, reference_unit, UNIT_CASES, UNIT_MISTAKES)


def reference_stack_parameters(in_channels: int, filters: int) -> int:
    return count_parameters(InceptionStack(in_channels, filters))


def parameters_plus(extra: Callable[[int, int], int]) -> Callable[[int, int], int]:
    return lambda in_channels, filters: reference_stack_parameters(in_channels, filters) + extra(in_channels, filters)


PARAMETER_MISTAKES = [
    Mistake("batch norm's parameters are missing: each of the five convolutions is followed by a batch norm that "
            "learns a scale and a shift per channel",
            produces=parameters_plus(lambda c, f: -10 * f)),
    Mistake("batch norm learns 2 numbers per channel (a scale and a shift): its running mean and variance are "
            "buffers, statistics it keeps, not parameters",
            produces=parameters_plus(lambda c, f: 10 * f)),
    Mistake("biases are counted: seglib's ConvBNReLU has no bias when batch norm follows (its shift replaces it)",
            produces=parameters_plus(lambda c, f: 5 * f)),
    Mistake("the shared 3x3 is counted once per branch that uses it: it is one convolution, counted once",
            produces=parameters_plus(lambda c, f: 2 * conv_bn(9, c, f))),
    Mistake("the shared 3x3 is counted twice: it is one convolution, counted once",
            produces=parameters_plus(lambda c, f: conv_bn(9, c, f))),
    Mistake("the 3x1 and 1x3 kernels have 3 weights per pair of input and output channels, not 9",
            produces=parameters_plus(lambda c, f: 12 * f * f)),
    Mistake("the 3x3, 3x1 and 1x3 after the shared 3x3 read its filters channels, not in_channels",
            produces=parameters_plus(lambda c, f: 15 * (c - f) * f)),
    Mistake("the shared 3x3 is missing: the 3x3, 3x1 and 1x3 branches start with it",
            produces=parameters_plus(lambda c, f: -conv_bn(9, c, f))),
]


def check_stack_parameters(stack_parameters: Callable) -> None:
    """``stack_parameters(in_channels, filters)``: the parameter count of
    ``InceptionStack(in_channels, filters)``, from a formula."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    cases = [
        Case("1 channel in, 1 filter", (1, 1)),
        Case("3 channels in, 8 filters (the notebook's first level)", (3, 8)),
        Case("16 channels in, 4 filters", (16, 4)),
        Case("34 channels in, 34 filters (the source project's second level)", (34, 34)),
        Case("256 channels in, 256 filters (the source project's bottleneck)", (256, 256)),
    ]
    run_check("stack_parameters", stack_parameters, reference_stack_parameters, cases, PARAMETER_MISTAKES)
