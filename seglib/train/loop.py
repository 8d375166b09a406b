"""``fit``: the training loop, and the few pieces it is made of.

``plan`` (how many steps, how often to evaluate), ``prepare`` (the model on its device, the
optimizer, the loss, a resumed checkpoint), ``train_batch`` (one optimizer step),
``evaluate_and_record`` (one history record) and ``save`` (one checkpoint).  ``fit`` only
loops over the data and calls them; ``benchmarks/bench_train.py`` times ``train_batch`` itself.

The same code is correct on a CPU and fast on a GPU: mixed precision (bf16, or fp16 with a
grad scaler), channels_last, fused optimizers, pinned memory and ``torch.compile`` switch on
by device (``device_settings``).

Data parallel: under ``torchrun --nproc_per_node=N`` each process trains a replica on its
share of every global batch (``batch_size`` per process) and DistributedDataParallel
averages the gradients; only rank 0 prints, calls the callbacks and saves.  BatchNorm
layers become SyncBatchNorm on GPUs; on CPUs (gloo) their statistics stay per process.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from ..checkpoint import load_checkpoint, save_checkpoint
from ..data.base import SegmentationDataset
from ..device import select_device
from ..distributed import all_reduce_sum, any_rank, barrier, init, is_main, rank, world_size
from ..inference import evaluate
from ..models import size_error
from ..seeding import derived_seed
from .config import DeviceSettings, FitConfig, device_settings
from .history import History
from .sampler import EpochSampler
from .step import make_loss, make_optimizer, poly_lr, train_step


def fit(model: nn.Module, train_data: Dataset, val_data: Dataset | None = None, config: FitConfig | None = None,
        **options) -> History:
    """Train ``model`` on ``train_data`` for ``steps`` optimizer steps (or ``epochs`` passes).

    ``config`` (a ``FitConfig``) holds the options; keywords override its fields, so
    ``fit(model, train, val, steps=200, lr=3e-3)`` is enough.  ``FitConfig`` documents every
    option; an unknown one is a ``TypeError``.  Evaluates on ``val_data`` every ``eval_every``
    steps (default: one epoch) and at the end, calls the ``callbacks``, saves ``checkpoint``,
    and stops early after ``max_minutes``.  Returns the ``History``."""
    config = (config or FitConfig()).with_options(**options)
    device = init(select_device(config.device))  # joins the torchrun processes, if any
    schedule = plan(config, len(train_data), world_size())
    check_size(model, train_data)
    training = prepare(model, config, device, schedule, getattr(train_data, "ignore_index", 255))
    loader = make_loader(train_data, training)

    model.train()
    start = time.perf_counter() - training.history.last.get("seconds", 0.0)
    deadline = None if config.max_minutes is None else time.perf_counter() + 60 * config.max_minutes
    bar = tqdm(total=schedule.total_steps, initial=training.step, desc="train", mininterval=2,
               disable=not (config.progress and is_main()))
    window = LossWindow()
    try:
        while training.step < schedule.total_steps:
            loader.sampler.epoch, epoch_step = divmod(training.step, schedule.steps_per_epoch)
            loader.sampler.start = epoch_step * schedule.global_batch
            for images, masks in loader:
                window.add(train_batch(training, images, masks))
                bar.update()
                timed_out = deadline is not None and any_rank(time.perf_counter() > deadline, device)
                step = training.step
                if step % schedule.eval_every == 0 or step == schedule.total_steps or timed_out:
                    record = evaluate_and_record(training, val_data, window, time.perf_counter() - start,
                                                 final=step == schedule.total_steps or timed_out)
                    bar.set_postfix(loss=f"{record['train_loss']:.3f}", miou=f"{record.get('miou', math.nan):.3f}")
                    if config.checkpoint:
                        save(training, config.checkpoint)
                    if is_main():
                        for callback in config.callbacks:
                            callback(training.history)
                    window = LossWindow()
                    if timed_out:
                        training.history.stopped = "time limit"
                        return training.history
                if step == schedule.total_steps:
                    break
    finally:
        bar.close()
    return training.history


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Schedule:
    """How long a run is and when it evaluates, in steps."""

    total_steps: int
    steps_per_epoch: int
    eval_every: int
    global_batch: int  # images per step over all processes


def plan(config: FitConfig, num_items: int, processes: int = 1) -> Schedule:
    """The ``Schedule`` of ``config`` on a training set of ``num_items``; clear errors for
    impossible requests."""
    global_batch = config.batch_size * processes
    steps_per_epoch = num_items // global_batch
    if steps_per_epoch == 0:
        shared = f" x {processes} processes" if processes > 1 else ""
        raise ValueError(f"the training set has {num_items} items, fewer than batch_size={config.batch_size}{shared}")
    if (config.steps is None) == (config.epochs is None):
        raise ValueError("give exactly one of steps=... or epochs=... (and optionally max_minutes=...)")
    total_steps = config.steps if config.steps is not None else config.epochs * steps_per_epoch
    if total_steps < 1:
        raise ValueError(f"steps must be >= 1, got {total_steps}")
    return Schedule(total_steps, steps_per_epoch, config.eval_every or min(steps_per_epoch, total_steps), global_batch)


def check_size(model: nn.Module, dataset) -> None:
    """Fail before training when the data's image size does not suit the model."""
    size = getattr(dataset, "image_size", None)
    problem = size and size_error(size, getattr(model, "size_divisor", 1), type(model).__name__)
    if problem:
        raise ValueError(problem)


# ---------------------------------------------------------------- the pieces


@dataclass
class Training:
    """One run in progress: what ``prepare`` built and where the run is (``step``, ``history``)."""

    config: FitConfig
    settings: DeviceSettings
    schedule: Schedule
    device: torch.device
    model: nn.Module       # the model itself: evaluated and saved
    run_model: nn.Module   # what the batches go through: the model, compiled and/or DDP-wrapped
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    step: int = 0
    history: History = field(default_factory=History)

    def must_match(self) -> dict:
        """The settings a checkpoint of this run must have been saved with to resume it."""
        return {"steps": self.schedule.total_steps, "global_batch": self.schedule.global_batch,
                "seed": self.config.seed, "lr": self.config.lr}


def prepare(model: nn.Module, config: FitConfig, device: torch.device, schedule: Schedule,
            ignore_index: int = 255) -> Training:
    """Seed, put the model on ``device`` in the device's layout, build its optimizer, grad
    scaler and loss, resume ``config.checkpoint`` when asked, then compile and wrap for DDP."""
    settings = device_settings(config, device)
    torch.manual_seed(config.seed)  # dropout and other randomness inside the model
    if world_size() > 1 and device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)  # BatchNorm over the global batch
    model.to(device, memory_format=torch.channels_last if settings.channels_last else torch.preserve_format)
    optimizer = make_optimizer(model, config.optimizer, config.lr, config.weight_decay, config.momentum,
                               settings.fused)
    scaler = torch.amp.GradScaler(device.type, enabled=settings.amp_dtype == torch.float16)
    loss_fn = make_loss(config.loss, config.class_weights, ignore_index)
    training = Training(config, settings, schedule, device, model, model, optimizer, scaler, loss_fn)
    if config.resume and config.checkpoint and Path(config.checkpoint).exists():
        restore(training, config.checkpoint)
    run_model = torch.compile(model) if config.compile else model
    if world_size() > 1:  # averages the gradients over the processes during backward
        run_model = torch.nn.parallel.DistributedDataParallel(
            run_model, device_ids=[device.index] if device.type == "cuda" else None)
    training.run_model = run_model
    return training


def make_loader(train_data, training: Training) -> torch.utils.data.DataLoader:
    """The training batches in ``EpochSampler``'s resumable order, this process's share."""
    config = training.config
    sampler = EpochSampler(len(train_data), config.seed, with_seeds=isinstance(train_data, SegmentationDataset),
                           batch_size=config.batch_size, rank=rank(), world_size=world_size())
    return torch.utils.data.DataLoader(
        train_data, batch_size=config.batch_size, sampler=sampler, drop_last=True, num_workers=config.num_workers,
        pin_memory=training.settings.pin_memory, persistent_workers=config.num_workers > 0)


def train_batch(training: Training, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """One optimizer step on a host (or device) batch at ``training.step``: the learning rate of
    that step, the copy to the device, the batch augmentation, the layout; returns the
    detached loss and advances ``training.step``."""
    config, settings, step = training.config, training.settings, training.step
    for group in training.optimizer.param_groups:
        group["lr"] = poly_lr(step, training.schedule.total_steps, config.lr, config.poly_power, config.warmup_steps)
    images = images.to(training.device, non_blocking=settings.pin_memory)
    masks = masks.to(training.device, non_blocking=settings.pin_memory)
    if config.batch_augment is not None:
        images, masks = config.batch_augment(images, masks, derived_seed(config.seed, step))
    if settings.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    loss = train_step(training.run_model, images, masks, training.optimizer, training.loss_fn, training.scaler,
                      settings.amp_dtype, config.grad_clip, config.aux_weight)
    training.step += 1
    return loss


class LossWindow:
    """The training losses since the last evaluation, summed on the device (no sync per step)."""

    def __init__(self):
        self.total, self.count, self.start = 0.0, 0, time.perf_counter()

    def add(self, loss: torch.Tensor) -> None:
        self.total, self.count = self.total + loss, self.count + 1


def evaluate_and_record(training: Training, val_data, window: LossWindow, seconds: float, final: bool = True) -> dict:
    """Append a record to the history: the window's mean training loss over all processes, the
    learning rate, the speed and, with ``val_data``, the val metrics (before the ``final``
    record, on the first ``eval_items`` items when the config says so).  A loss that is not finite
    stops the run with an error that says what to do."""
    schedule, step = training.schedule, training.step
    mean_loss = float(all_reduce_sum(window.total)) / (window.count * world_size())  # one sync per window
    if not math.isfinite(mean_loss):
        raise_not_finite(mean_loss, step - window.count + 1, step, training.config.lr)
    record = {"step": step, "epoch": step / schedule.steps_per_epoch, "lr": training.optimizer.param_groups[0]["lr"],
              "train_loss": mean_loss, "seconds": seconds,
              "images_per_s": window.count * schedule.global_batch / (time.perf_counter() - window.start)}
    if val_data is not None:
        limit = None if final else training.config.eval_items
        metrics = evaluate(training.model, val_data, batch_size=2 * training.config.batch_size,
                           device=training.device, limit=limit)
        record.update({k: metrics[k] for k in ("miou", "pixel_acc", "mean_acc", "fwiou")})
        record["val_items"] = len(val_data) if limit is None else min(limit, len(val_data))
        record["iou"] = metrics["iou"].tolist()
    training.history.records.append(record)
    return record


def raise_not_finite(mean_loss: float, first_step: int, last_step: int, lr: float):
    raise FloatingPointError(
        f"the training loss became {mean_loss} between steps {first_step} and {last_step} (lr={lr}): "
        "lower the learning rate, set grad_clip=1.0, or check the labels "
        "(every value must be a class index or ignore_index)")


# ---------------------------------------------------------------- checkpoints


def save(training: Training, path) -> None:
    """Save the run at its current step (rank 0, atomically; the other processes wait for it).
    The options are stored as plain values, so the file loads with ``weights_only=True``."""
    if is_main():  # the unwrapped model: no DDP "module." prefix in the keys
        save_checkpoint(path, training.model, optimizer=training.optimizer.state_dict(),
                        scaler=training.scaler.state_dict(), step=training.step, history=training.history.records,
                        rng=torch.get_rng_state(), run=training.must_match(),
                        fit_config={**training.config.record(), **training.settings.record()})
    barrier()  # the others wait until the file is complete


def restore(training: Training, path) -> None:
    """Load a checkpoint saved by ``fit`` into the run: weights, optimizer, scaler, random state,
    step and history.  Only ``Training.must_match`` settings are compared (files of older versions too)."""
    ckpt = load_checkpoint(path)
    saved, now = ckpt.get("run", {}), training.must_match()
    different = {k: (saved.get(k), now[k]) for k in now if saved.get(k) != now[k]}
    if "global_batch" in different and saved.get("global_batch"):
        raise ValueError(f"cannot resume {path}: it was trained with a global batch of {saved['global_batch']} "
                         f"images per step (batch_size x processes), this run has {now['global_batch']}: "
                         f"{batch_size_hint(saved['global_batch'])}")
    if different:
        raise ValueError(f"cannot resume {path}: it was saved with different settings "
                         f"(saved, now) {different}; use the same settings or another checkpoint path")
    training.model.load_state_dict(ckpt["model"])
    training.optimizer.load_state_dict(ckpt["optimizer"])
    training.scaler.load_state_dict(ckpt["scaler"])
    torch.set_rng_state(ckpt["rng"])
    training.step, training.history = ckpt["step"], History(ckpt["history"])


def batch_size_hint(global_batch: int) -> str:
    world = world_size()
    if global_batch % world:
        return f"it cannot be split evenly over {world} processes; use a number of processes that divides it"
    return f"with {world} process{'es' if world > 1 else ''} use batch_size={global_batch // world}"
