"""Notebook 03's exercise checks accept the notebook's solutions and name the usual mistakes."""

import pytest
import torch
from exercise_helpers import diagnosis, solution
from torch import nn

from seglib.exercises import check_inception_unit, check_stack, check_stack_parameters
from seglib.models.blocks import InceptionStack

NOTEBOOK = "03_inception_unet.ipynb"


@pytest.mark.parametrize(("name", "check"), [("Stack", check_stack), ("inception_unit", check_inception_unit),
                                             ("stack_parameters", check_stack_parameters)])
def test_the_notebooks_solution_passes(name, check, capsys):
    check(solution(NOTEBOOK, name))
    assert capsys.readouterr().out.splitlines()[-1].startswith("all ")


# Exercise 1: wrong stacks, written as a student would.

class StudentStack(nn.Module):
    """Right, but every piece can be got wrong by a subclass."""

    bias = False

    def __init__(self, in_channels, filters):
        super().__init__()
        self.filters = filters
        self.wide = self.conv(in_channels, (5, 5))
        self.first = self.conv(in_channels, (3, 3))
        self.heads = nn.ModuleList([self.conv(filters, k) for k in [(3, 3), (3, 1), (1, 3)]])

    def conv(self, channels, kernel):
        return nn.Sequential(nn.Conv2d(channels, self.filters, kernel, padding=self.padding(kernel), bias=self.bias),
                             nn.BatchNorm2d(self.filters), nn.ReLU())

    def padding(self, kernel):
        return (kernel[0] // 2, kernel[1] // 2)

    def branches(self, x):
        t = self.first(x)
        return [self.wide(x)] + [head(t) for head in self.heads]

    def forward(self, x):
        return torch.cat(self.branches(x), dim=1)


class PaddingOne(StudentStack):
    def padding(self, kernel):
        return 2 if kernel == (5, 5) else 1  # also for 3x1 and 1x3


class NotShared(StudentStack):
    def __init__(self, in_channels, filters):
        super().__init__(in_channels, filters)
        self.firsts = nn.ModuleList([self.conv(in_channels, (3, 3)) for _ in range(3)])
        del self.first

    def branches(self, x):
        return [self.wide(x)] + [head(first(x)) for head, first in zip(self.heads, self.firsts)]


class Added(StudentStack):
    def forward(self, x):
        return sum(self.branches(x))


class NoOneByThree(StudentStack):
    def __init__(self, in_channels, filters):
        super().__init__(in_channels, filters)
        del self.heads[2]


class WithBias(StudentStack):
    bias = True


class NoReLU(StudentStack):
    def conv(self, channels, kernel):
        return nn.Sequential(nn.Conv2d(channels, self.filters, kernel, padding=self.padding(kernel), bias=False),
                             nn.BatchNorm2d(self.filters))


class WideTwice(StudentStack):
    def __init__(self, in_channels, filters):
        super().__init__(in_channels, filters)
        self.wide = nn.Sequential(nn.Conv2d(in_channels, 2 * filters, 5, padding=2, bias=False),
                                  nn.BatchNorm2d(2 * filters), nn.ReLU())


@pytest.mark.parametrize(("wrong", "expected"), [
    (PaddingOne, "case 1 (1 channel in, 2 filters, a 5x5 input): the height and width change in a branch"),
    (NotShared, "the first 3x3 is not shared"),
    (Added, "the branches are added"),
    (NoOneByThree, "the 3x1 or the 1x3 branch is missing"),
    (WithBias, "the convolutions have a bias"),
    (NoReLU, "some outputs are negative"),
])
def test_stack_names_the_mistake(wrong, expected):
    assert expected in diagnosis(check_stack, wrong)


def test_stack_right_and_unknown_and_unwritten(capsys):
    check_stack(StudentStack)
    assert "all 5 cases pass" in capsys.readouterr().out
    assert "case 1 (1 channel in, 2 filters, a 5x5 input), the smallest that fails: output shape" \
        in diagnosis(check_stack, WideTwice)

    class Unwritten(nn.Module):
        def __init__(self, in_channels, filters):
            super().__init__()
            raise NotImplementedError()

    assert "not written yet" in diagnosis(check_stack, Unwritten)


def test_the_checks_leave_the_random_state_alone():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    check_stack(StudentStack)
    assert torch.equal(torch.rand(3), expected)


# Exercise 2: wrong units.

def reduction_layers(in_channels, out_channels, kernel=1, padding=0, bias=False):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel, padding=padding, bias=bias),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


def reduces_from_in_channels(in_channels, filters, out_channels=None):
    out_channels = out_channels or filters
    return nn.Sequential(InceptionStack(in_channels, filters), reduction_layers(in_channels, out_channels))


def keeps_the_width(in_channels, filters, out_channels=None):
    return nn.Sequential(InceptionStack(in_channels, filters), reduction_layers(4 * filters, 4 * filters))


def ignores_out_channels(in_channels, filters, out_channels=None):
    return nn.Sequential(InceptionStack(in_channels, filters), reduction_layers(4 * filters, filters))


def three_by_three(in_channels, filters, out_channels=None):
    out_channels = out_channels or filters
    return nn.Sequential(InceptionStack(in_channels, filters), reduction_layers(4 * filters, out_channels, 3, 1))


def reduction_with_bias(in_channels, filters, out_channels=None):
    out_channels = out_channels or filters
    return nn.Sequential(InceptionStack(in_channels, filters), reduction_layers(4 * filters, out_channels, bias=True))


def reduces_to_double(in_channels, filters, out_channels=None):
    return nn.Sequential(InceptionStack(in_channels, filters), reduction_layers(4 * filters, 2 * filters))


@pytest.mark.parametrize(("wrong", "expected"), [
    (reduces_from_in_channels, "case 1 (3 channels in, 2 filters, a 5x5 input): the 1x1 reduction reads the "
                               "stack's output, 4 * filters channels"),
    (keeps_the_width, "the reduction keeps the stack's 4 * filters channels"),
    (ignores_out_channels, "case 3 (out_channels=8 from 16 filters (a decoder projection), odd size 7x5): "
                           "out_channels is ignored"),
    (three_by_three, "the reduction is not a 1x1 convolution"),
    (reduction_with_bias, "the 1x1 convolution has a bias"),
])
def test_unit_names_the_mistake(wrong, expected):
    assert expected in diagnosis(check_inception_unit, wrong)


def test_unit_unknown_mistake_shows_the_smallest_failing_case():
    found = diagnosis(check_inception_unit, reduces_to_double)
    assert "case 1 (3 channels in, 2 filters, a 5x5 input), the smallest that fails: output shape: " \
           "item 1: 4, expected 2" in found


# Exercise 3: wrong formulas.

def no_batch_norm(c, f):
    return 25 * c * f + 9 * c * f + 9 * f * f + 3 * f * f + 3 * f * f


def shared_per_branch(c, f):
    return (25 * c * f + 2 * f) + 3 * (9 * c * f + 2 * f) + (9 * f * f + 2 * f) + 2 * (3 * f * f + 2 * f)


def with_biases(c, f):
    return (25 * c * f + 3 * f) + (9 * c * f + 3 * f) + (9 * f * f + 3 * f) + 2 * (3 * f * f + 3 * f)


def running_statistics(c, f):
    return 25 * c * f + 9 * c * f + 9 * f * f + 2 * 3 * f * f + 5 * 4 * f


@pytest.mark.parametrize(("wrong", "expected"), [
    (no_batch_norm, "case 1 (1 channel in, 1 filter): batch norm's parameters are missing"),
    (shared_per_branch, "the shared 3x3 is counted once per branch that uses it"),
    (with_biases, "biases are counted"),
    (running_statistics, "running mean and variance are buffers"),
])
def test_stack_parameters_names_the_mistake(wrong, expected):
    assert expected in diagnosis(check_stack_parameters, wrong)


def test_stack_parameters_unknown_mistake_shows_the_smallest_failing_case():
    assert "case 1 (1 channel in, 1 filter), the smallest that fails: 25, expected 59" \
        in diagnosis(check_stack_parameters, lambda c, f: 25 * c * f)
