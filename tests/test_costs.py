"""count_flops against the textbook formulas; measuring leaves the model as it was."""

import pytest
import torch
from torch import nn

from seglib.costs import count_flops, count_macs, measure_throughput, model_costs
from seglib.models import count_parameters


def test_conv_flops_are_two_per_multiply_add_without_bias():
    conv = nn.Conv2d(3, 8, kernel_size=3, padding=1)
    macs = 3 * 8 * 3 * 3 * 16 * 20  # C_in * C_out * K * K * H_out * W_out
    assert count_flops(conv, (16, 20)) == 2 * macs
    assert count_flops(conv, (16, 20), batch_size=3) == 2 * macs  # per image
    assert count_macs(conv, (16, 20)) == macs
    strided = nn.Conv2d(4, 6, kernel_size=3, stride=2, padding=1, groups=2, bias=False)
    assert count_flops(strided, (16, 20), in_channels=4) == 2 * (4 // 2) * 6 * 3 * 3 * 8 * 10


def test_linear_flops():
    linear = nn.Linear(20, 5)  # acts on the last dimension of (N, 3, 16, 20)
    assert count_flops(linear, (16, 20)) == 2 * 3 * 16 * 20 * 5


def small_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5),
                         nn.Conv2d(4, 2, 1))


def test_norms_and_activations_are_not_counted():
    assert count_flops(small_model(), (8, 8)) == 2 * (3 * 4 * 9 + 4 * 2) * 8 * 8


def state(model):
    return {name: value.clone() for name, value in model.state_dict().items()}


@pytest.mark.parametrize("mode", ["train", "inference"])
def test_measuring_leaves_weights_and_modes_as_they_were(mode):
    model = small_model().train()
    model[3].eval()  # modes differ between submodules; the BatchNorm stays in training mode
    modes, before = [m.training for m in model.modules()], state(model)
    speed = measure_throughput(model, (8, 8), batch_size=2, mode=mode, steps=2, warmup=1)
    count_flops(model, (8, 8))
    assert isinstance(speed, float) and speed > 0
    assert [m.training for m in model.modules()] == modes
    for name, value in state(model).items():
        assert torch.equal(value, before[name]), name  # BatchNorm running statistics included


def test_model_costs_row_and_bad_mode():
    model = small_model()
    costs = model_costs(model, (8, 8), batch_size=2, steps=1, warmup=0, device="cpu")
    assert costs["params"] == count_parameters(model) and costs["flops"] == count_flops(model, (8, 8))
    assert costs["train_images_per_s"] > 0 and costs["inference_images_per_s"] > 0
    with pytest.raises(ValueError, match="unknown mode 'eval'; valid: 'train', 'inference'"):
        measure_throughput(model, (8, 8), mode="eval")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("mode", ["train", "inference"])
def test_throughput_on_a_gpu(mode):
    model = small_model()
    assert measure_throughput(model, (32, 32), mode=mode, steps=2, warmup=1, device="cuda") > 0
    assert next(model.parameters()).device.type == "cpu"  # the copy ran on the GPU
