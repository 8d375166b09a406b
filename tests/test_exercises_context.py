"""Notebook 05's exercise checks: they accept the notebook's solutions, name the known mistakes
of wrong ones, and their references agree with what torch computes."""

import pytest
import torch
import torch.nn.functional as F
from exercise_helpers import diagnosis, solution
from torch import nn

from seglib.exercises import check_pyramid_pooling, check_total_loss, check_useful_rates
from seglib.models.deeplab import useful_rates
from seglib.train.step import make_loss, model_loss

NOTEBOOK = "05_deeplab_pspnet.ipynb"


@pytest.mark.parametrize(("name", "check"), [("useful_rates", check_useful_rates),
                                             ("PyramidPooling", check_pyramid_pooling),
                                             ("total_loss", check_total_loss)])
def test_the_notebooks_solution_passes(name, check, capsys):
    check(solution(NOTEBOOK, name))
    assert capsys.readouterr().out.splitlines()[-1].startswith("all ")


# ------------------------------------------------------------------ the references against torch


def sees_past_its_centre(rate: int, size: tuple[int, int]) -> bool:
    """Whether an actual 3x3 convolution at ``rate`` ("same" padding) on a random ``size`` map
    gives another output than a 1x1 convolution with its centre weight alone."""
    generator = torch.Generator().manual_seed(rate)
    conv = nn.Conv2d(1, 1, 3, padding=rate, dilation=rate, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.rand(1, 1, 3, 3, generator=generator) + 0.5)
        x = torch.rand(1, 1, *size, generator=generator) + 0.5
        return not torch.allclose(conv(x), conv.weight[0, 0, 1, 1] * x)


@pytest.mark.parametrize("size", [(1, 1), (1, 5), (4, 1), (6, 8), (8, 6), (12, 16), (3, 3)])
def test_useful_rates_are_those_whose_convolution_is_not_a_1x1_one(size):
    rates = tuple(range(1, 20))
    assert useful_rates(rates, size) == tuple(r for r in rates if sees_past_its_centre(r, size))


def test_the_model_loss_is_what_train_step_minimises():
    torch.manual_seed(0)
    model = nn.Conv2d(3, 4, 1)
    aux = nn.Conv2d(3, 4, 1)

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.main, self.aux = model, aux

        def forward(self, x):
            return self.main(x), self.aux(x)

    images, masks = torch.randn(2, 3, 5, 5), torch.randint(4, (2, 5, 5))
    masks[0, 0] = 255
    loss_fn = make_loss()
    two = TwoHeads()
    expected = F.cross_entropy(model(images), masks, ignore_index=255) \
        + 0.4 * F.cross_entropy(aux(images), masks, ignore_index=255)
    assert torch.allclose(model_loss(loss_fn, two(images), masks), expected)
    assert torch.allclose(model_loss(loss_fn, model(images), masks), loss_fn(model(images), masks))
    from seglib.train.step import train_step
    optimizer = torch.optim.SGD(two.parameters(), lr=0.0)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    assert torch.allclose(train_step(two, images, masks, optimizer, loss_fn, scaler, None), expected)


# ------------------------------------------------------------------ exercise 1: wrong rates


def rates_or_equal(rates, image_size, output_stride=16):
    h, w = image_size[0] // output_stride, image_size[1] // output_stride
    return tuple(r for r in rates if r <= h or r <= w)


def rates_height_only(rates, image_size, output_stride=16):
    return tuple(r for r in rates if r < image_size[0] // output_stride)


def rates_width_only(rates, image_size, output_stride=16):
    return [r for r in rates if r < image_size[1] // output_stride]


def rates_both_sides(rates, image_size, output_stride=16):
    h, w = image_size[0] // output_stride, image_size[1] // output_stride
    return tuple(r for r in rates if r < min(h, w))


def rates_on_the_image(rates, image_size, output_stride=16):
    return tuple(r for r in rates if r < max(image_size))


def rates_degenerate(rates, image_size, output_stride=16):
    h, w = image_size[0] // output_stride, image_size[1] // output_stride
    return tuple(r for r in rates if r >= h and r >= w)


def rates_sorted_descending(rates, image_size, output_stride=16):  # no known mistake
    h, w = image_size[0] // output_stride, image_size[1] // output_stride
    return tuple(sorted((r for r in rates if r < h or r < w), reverse=True)) + ((0,) if len(rates) > 3 else ())


@pytest.mark.parametrize(("wrong", "expected"), [
    (rates_or_equal, "case 1 (rates (1, 2, 3), a 32x32 image at output stride 16 (a 2x2 map)): off by one"),
    (rates_height_only, "case 2 (the paper's rates on 96x128 images at output stride 16): only the map's height"),
    (rates_width_only, "case 5 (a tall map: a 128x64 image at output stride 8): only the map's width"),
    (rates_both_sides, "smaller than both sides here"),
    (rates_on_the_image, "compared with the image's size"),
    (rates_degenerate, "degenerate into 1x1 convolutions"),
    (rates_sorted_descending, "case 4 (a rate equal to the map's width: 64x96 at output stride 16), the smallest "
                              "that fails"),
])
def test_useful_rates_names_the_mistake(wrong, expected):
    assert expected in diagnosis(check_useful_rates, wrong)


def test_an_unwritten_exercise_says_so():
    def useful_rates(rates, image_size, output_stride=16):
        raise NotImplementedError()
    assert "not written yet" in diagnosis(check_useful_rates, useful_rates)


# ------------------------------------------------------------------ exercise 2: wrong pyramids


class Pyramid(nn.Module):
    """Right, but every piece can be got wrong by a subclass."""

    bias = False

    def __init__(self, in_channels, bins=(1, 2, 3, 6)):
        super().__init__()
        out = self.width(in_channels, bins)
        self.stages = nn.ModuleList(nn.Sequential(nn.AdaptiveAvgPool2d(b), *self.branch(in_channels, out))
                                    for b in self.bins(bins))

    def bins(self, bins):
        return bins

    def width(self, in_channels, bins):
        return in_channels // len(bins)

    def branch(self, in_channels, out):
        return [nn.Conv2d(in_channels, out, 1, bias=self.bias), nn.BatchNorm2d(out), nn.ReLU()]

    def upsample(self, y, x):
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)

    def forward(self, x):
        return torch.cat([x] + [self.upsample(stage(x), x) for stage in self.stages], dim=1)


class NoInput(Pyramid):
    def forward(self, x):
        return torch.cat([self.upsample(stage(x), x) for stage in self.stages], dim=1)


class FullWidth(Pyramid):
    def width(self, in_channels, bins):
        return in_channels


class QuarterWidth(Pyramid):
    def width(self, in_channels, bins):
        return in_channels // 4


class DefaultBins(Pyramid):
    def bins(self, bins):
        return (1, 2, 3, 6)


class DefaultBinsQuarter(DefaultBins):
    def width(self, in_channels, bins):
        return in_channels // 4


class WithBias(Pyramid):
    bias = True


class NoBatchNorm(Pyramid):
    def branch(self, in_channels, out):
        return [nn.Conv2d(in_channels, out, 1), nn.ReLU()]


class ScaleFactor(Pyramid):
    def upsample(self, y, x):
        return F.interpolate(y, scale_factor=x.shape[-1] // y.shape[-1], mode="bilinear", align_corners=False)


class NotUpsampled(Pyramid):
    def upsample(self, y, x):
        return y


class ExtraConv(Pyramid):  # no known mistake: a 3x3 conv on the output
    def __init__(self, in_channels, bins=(1, 2, 3, 6)):
        super().__init__(in_channels, bins)
        self.mix = nn.Conv2d(in_channels, in_channels, 3, padding=1)

    def forward(self, x):
        return super().forward(self.mix(x))


@pytest.mark.parametrize(("wrong", "expected"), [
    (NoInput, "case 1 (6 channels, bins (1, 2, 4), a 4x4 map): the input is missing"),
    (FullWidth, "keep all in_channels channels"),
    (QuarterWidth, "case 1 (6 channels, bins (1, 2, 4), a 4x4 map): the reduced width is in_channels // len(bins)"),
    (DefaultBins, "case 1 (6 channels, bins (1, 2, 4), a 4x4 map): the bins argument is not used"),
    (DefaultBinsQuarter, "case 1 (6 channels, bins (1, 2, 4), a 4x4 map): the bins argument is not used"),
    (WithBias, "case 1 (6 channels, bins (1, 2, 4), a 4x4 map): the 1x1 convolutions have a bias"),
    (NoBatchNorm, "a batch norm is missing"),
    (ScaleFactor, "case 2 (the default bins, 16 channels, a 12x16 map (PSPNet's layer4 at 96x128)): the pooled maps "
                   "must come back"),
    (NotUpsampled, "case 1 (6 channels, bins (1, 2, 4), a 4x4 map): the pooled maps must come back"),
    (ExtraConv, "case 1 (6 channels, bins (1, 2, 4), a 4x4 map), the smallest that fails: parameters"),
])
def test_pyramid_pooling_names_the_mistake(wrong, expected):
    assert expected in diagnosis(check_pyramid_pooling, wrong)


def test_a_pyramid_that_is_not_a_module_is_reported():
    class NotAModule:
        def __init__(self, in_channels, bins=(1, 2, 3, 6)):
            pass
    assert "expected an nn.Module" in diagnosis(check_pyramid_pooling, NotAModule)


# ------------------------------------------------------------------ exercise 3: wrong losses


def ce(logits, target, ignore_index=255, **options):
    return F.cross_entropy(logits, target, ignore_index=ignore_index, **options)


def loss_unweighted(logits, aux_logits, target, aux_weight=0.4, ignore_index=255):
    return ce(logits, target, ignore_index) + ce(aux_logits, target, ignore_index)


def loss_swapped(logits, aux_logits, target, aux_weight=0.4, ignore_index=255):
    return aux_weight * ce(logits, target, ignore_index) + ce(aux_logits, target, ignore_index)


def loss_fixed_weight(logits, aux_logits, target, aux_weight=0.4, ignore_index=255):
    return ce(logits, target, ignore_index) + 0.4 * ce(aux_logits, target, ignore_index)


def loss_averaged(logits, aux_logits, target, aux_weight=0.4, ignore_index=255):
    return (ce(logits, target, ignore_index) + aux_weight * ce(aux_logits, target, ignore_index)) / 2


def loss_void_counted(logits, aux_logits, target, aux_weight=0.4, ignore_index=255):
    return F.cross_entropy(logits, target) + aux_weight * F.cross_entropy(aux_logits, target)


def loss_fixed_void(logits, aux_logits, target, aux_weight=0.4, ignore_index=255):
    return ce(logits, target) + aux_weight * ce(aux_logits, target)


def loss_over_all_pixels(logits, aux_logits, target, aux_weight=0.4, ignore_index=255):
    main = ce(logits, target, ignore_index, reduction="none").mean()
    return main + aux_weight * ce(aux_logits, target, ignore_index, reduction="none").mean()


def loss_summed(logits, aux_logits, target, aux_weight=0.4, ignore_index=255):
    return ce(logits, target, ignore_index, reduction="sum") + aux_weight * ce(aux_logits, target, ignore_index,
                                                                                reduction="sum")


def loss_squared_aux(logits, aux_logits, target, aux_weight=0.4, ignore_index=255):  # no known mistake
    return ce(logits, target, ignore_index) + aux_weight ** 2 * ce(aux_logits, target, ignore_index)


@pytest.mark.parametrize(("wrong", "expected"), [
    (loss_unweighted, "case 1 (one 2x2 image, 3 classes, no void): the auxiliary loss is not weighted"),
    (loss_swapped, "case 1 (one 2x2 image, 3 classes, no void): the weights are swapped"),
    (loss_fixed_weight, "case 4 (aux_weight=1.0): aux_weight is not used"),
    (loss_averaged, "case 1 (one 2x2 image, 3 classes, no void): the two terms are added, not averaged"),
    (loss_void_counted, "case 3 (a batch of 2, 6x8, 9 classes, 20 % void): void pixels are counted"),
    (loss_fixed_void, "case 6 (ignore_index=0 (class 0 is void here)): void pixels are counted"),
    (loss_over_all_pixels, "case 3 (a batch of 2, 6x8, 9 classes, 20 % void): each cross-entropy is the mean over "
                           "the valid pixels only"),
    (loss_summed, "case 1 (one 2x2 image, 3 classes, no void): each cross-entropy is a mean over the valid pixels, "
                  "not a sum"),
    (loss_squared_aux, "case 1 (one 2x2 image, 3 classes, no void), the smallest that fails: wrong values"),
])
def test_total_loss_names_the_mistake(wrong, expected):
    assert expected in diagnosis(check_total_loss, wrong)
