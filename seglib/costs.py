"""What a model costs: parameters, FLOPs per image and images per second.

FLOPs come from ``torch.utils.flop_counter.FlopCounterMode``, which counts the matrix
multiplications and convolutions (the bulk of the work) and nothing else: no biases, norms,
activations or pooling.  It counts a multiply-add as 2 FLOPs, so MACs (the unit most papers
quote, often calling them FLOPs) are FLOPs / 2.  Throughput is measured, not estimated:
it depends on the machine, the batch size and the input size.
"""

import copy
import time
from collections.abc import Callable, Mapping

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .device import autocast, autocast_dtype, eval_mode, model_device, select_device
from .models import count_parameters
from .train.step import make_loss, train_step

__all__ = ["best_within_budget", "count_flops", "count_macs", "measure_throughput", "model_costs"]


def random_images(input_size: tuple[int, int], in_channels: int, batch_size: int,
                  device: torch.device) -> torch.Tensor:
    """Random float images ``[batch_size, in_channels, H, W]``."""
    return torch.randn(batch_size, in_channels, *input_size, device=device)


@torch.no_grad()
def count_flops(model: nn.Module, input_size: tuple[int, int] = (256, 256), in_channels: int = 3,
                batch_size: int = 1) -> int:
    """FLOPs of one forward pass per image of size ``input_size=(H, W)``, in eval mode."""
    images = random_images(input_size, in_channels, batch_size, model_device(model))
    counter = FlopCounterMode(display=False)
    with eval_mode(model), counter:
        model(images)
    return counter.get_total_flops() // batch_size


def count_macs(model: nn.Module, input_size: tuple[int, int] = (256, 256), in_channels: int = 3,
               batch_size: int = 1) -> int:
    """Multiply-accumulates of one forward pass per image: ``count_flops(...) // 2``."""
    return count_flops(model, input_size, in_channels, batch_size) // 2


def seconds_per_call(function: Callable[[], object], steps: int, warmup: int, device: torch.device) -> float:
    """Mean wall time of ``function()`` over ``steps`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        function()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        function()
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # GPU work is asynchronous: wait for it before reading the clock
    return (time.perf_counter() - start) / steps


def measure_throughput(model: nn.Module, input_size: tuple[int, int] = (256, 256), batch_size: int = 4,
                       mode: str = "train", steps: int = 5, warmup: int = 2, device: str | torch.device | None = None,
                       in_channels: int = 3, amp: bool | str | None = "auto") -> float:
    """Images per second on random ``[batch_size, in_channels, H, W]`` batches.

    ``mode="inference"``: forward passes in eval mode without gradients.  ``mode="train"``:
    ``train_step`` as ``fit`` runs it (forward, cross-entropy, backward, AdamW step, mixed
    precision by ``amp``) on a copy of the model.  The model's weights and modes are left as
    they were.  ``device``: the model's own by default; another device runs a copy."""
    if mode not in ("train", "inference"):
        raise ValueError(f"unknown mode {mode!r}; valid: 'train', 'inference'")
    if device is not None or mode == "train":  # train steps change weights; .to(device) moves them
        model = copy.deepcopy(model).to(select_device(device or model_device(model)))
    device = model_device(model)
    amp_dtype = autocast_dtype(device, amp)
    images = random_images(input_size, in_channels, batch_size, device)
    if mode == "train":
        seconds = train_step_seconds(model, images, amp_dtype, steps, warmup)
    else:
        with eval_mode(model), torch.no_grad(), autocast(device, amp_dtype):
            seconds = seconds_per_call(lambda: model(images), steps, warmup, device)
    return batch_size / seconds


def train_step_seconds(model: nn.Module, images: torch.Tensor, amp_dtype: torch.dtype | None, steps: int,
                       warmup: int) -> float:
    """Seconds per ``train_step`` on ``images [N, C, H, W]``; it trains ``model``: pass a copy."""
    masks = torch.zeros(images.shape[0], *images.shape[2:], dtype=torch.int64, device=images.device)  # (N, H, W)
    optimizer = torch.optim.AdamW(model.parameters())
    scaler = torch.amp.GradScaler(images.device.type, enabled=amp_dtype == torch.float16)
    loss_fn = make_loss()
    model.train()
    return seconds_per_call(lambda: train_step(model, images, masks, optimizer, loss_fn, scaler, amp_dtype),
                            steps, warmup, images.device)


def model_costs(model: nn.Module, input_size: tuple[int, int] = (256, 256), batch_size: int = 4,
                in_channels: int = 3, steps: int = 5, warmup: int = 2,
                device: str | torch.device | None = None) -> dict[str, float]:
    """``params``, ``flops`` (per image, forward), ``train_images_per_s`` and
    ``inference_images_per_s``: one row of a notebook's comparison table."""
    def throughput(mode):
        return measure_throughput(model, input_size, batch_size, mode, steps=steps, warmup=warmup, device=device,
                                  in_channels=in_channels)

    return {
        "params": count_parameters(model),
        "flops": count_flops(model, input_size, in_channels),
        "train_images_per_s": throughput("train"),
        "inference_images_per_s": throughput("inference"),
    }


def best_within_budget(scores: Mapping[str, float], costs: Mapping[str, float], budget: float) -> str | None:
    """The name with the highest score among those whose cost is at most ``budget`` (a model
    exactly at the budget fits); None when none fits.  ``scores`` and ``costs`` map the same
    names, e.g. val mIoU and GMACs per image."""
    fitting = [name for name in scores if costs[name] <= budget]
    return max(fitting, key=lambda name: scores[name]) if fitting else None
