"""``fit``: the training loop.

It loops over steps, evaluates every ``eval_every`` steps (an epoch by default), calls
the callbacks and saves a resumable checkpoint.  The same code is correct on a CPU and
fast on a GPU: mixed precision (bf16, or fp16 with a grad scaler), channels_last, fused
optimizers, pinned memory and ``torch.compile`` switch on by device.

Data parallel: under ``torchrun --nproc_per_node=N`` each process trains a replica on its
share of every global batch (``batch_size`` per process) and DistributedDataParallel
averages the gradients; only rank 0 prints, calls the callbacks and saves.  BatchNorm
layers become SyncBatchNorm on GPUs; on CPUs (gloo) their statistics stay per process.
"""

import math
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..checkpoint import load_checkpoint, save_checkpoint
from ..data.base import SegmentationDataset
from ..device import autocast_dtype, select_device
from ..distributed import all_reduce_sum, any_rank, barrier, init, is_main, rank, world_size
from ..inference import evaluate
from .history import History
from .sampler import EpochSampler
from .step import make_loss, make_optimizer, poly_lr, train_step

RUN_KEYS = ("steps", "global_batch", "seed", "lr")  # must match to resume a checkpoint


def fit(model, train_data, val_data=None, *, steps=None, epochs=None, max_minutes=None,
        batch_size=8, lr=1e-3, optimizer="adamw", weight_decay=1e-4, momentum=0.9,
        poly_power=0.9, warmup_steps=0, loss="cross_entropy", class_weights=None, aux_weight=0.4,
        device="auto", amp="auto", channels_last="auto", compile=False, grad_clip=None,
        eval_every=None, num_workers=0, seed=0, checkpoint=None, resume=False,
        callbacks=(), progress=True, fused="auto", pin_memory="auto", batch_augment=None) -> History:
    """Train ``model`` on ``train_data`` for ``steps`` optimizer steps (or ``epochs`` passes).

    Evaluates on ``val_data`` every ``eval_every`` steps (default: one epoch) and at the end;
    stops early after ``max_minutes``.  ``checkpoint``: a path saved (atomically) at every
    evaluation; with ``resume=True`` training continues from it.  ``callbacks``: functions
    called as ``callback(history)`` after each evaluation.  Returns the ``History``.

    ``loss``: ``"cross_entropy"``, ``"dice"``, ``"focal"``, ``"cross_entropy+dice"`` or a
    callable ``loss(logits, target) -> scalar`` (see ``make_loss``); ``class_weights`` (C,)
    weight the cross-entropy and focal terms.

    ``batch_size`` is per process: a step sees ``batch_size * processes`` images.
    ``fused`` (optimizer kernels) and ``pin_memory``: ``"auto"`` is on for CUDA only.
    ``batch_augment(images, masks, seed) -> (images, masks)`` transforms each training
    batch on the device, with ``seed = seed * 1_000_003 + step`` so a resume replays it.
    """
    device = init(select_device(device))  # joins the torchrun processes, if any
    world = world_size()
    global_batch = batch_size * world
    steps_per_epoch = len(train_data) // global_batch
    if steps_per_epoch == 0:
        processes = f" x {world} processes" if world > 1 else ""
        raise ValueError(f"the training set has {len(train_data)} items, fewer than batch_size={batch_size}{processes}")
    if (steps is None) == (epochs is None):
        raise ValueError("give exactly one of steps=... or epochs=... (and optionally max_minutes=...)")
    total_steps = steps if steps is not None else epochs * steps_per_epoch
    if total_steps < 1:
        raise ValueError(f"steps must be >= 1, got {total_steps}")
    eval_every = eval_every or min(steps_per_epoch, total_steps)
    check_size(model, train_data)

    amp_dtype = autocast_dtype(device, amp)
    channels_last = device.type == "cuda" if channels_last == "auto" else channels_last
    fused = device.type == "cuda" if fused == "auto" else fused
    pin_memory = device.type == "cuda" if pin_memory == "auto" else pin_memory
    torch.manual_seed(seed)  # dropout and other randomness inside the model
    if world > 1 and device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)  # BatchNorm over the global batch
    model.to(device, memory_format=torch.channels_last if channels_last else torch.preserve_format)
    opt = make_optimizer(model, optimizer, lr, weight_decay, momentum, fused)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
    loss_fn = make_loss(loss, class_weights, getattr(train_data, "ignore_index", 255))
    run = {"steps": total_steps, "global_batch": global_batch, "seed": seed, "lr": lr}

    history, step = History(), 0
    if resume and checkpoint and Path(checkpoint).exists():
        step, history = restore(checkpoint, model, opt, scaler, run)
    run_model = torch.compile(model) if compile else model
    if world > 1:  # averages the gradients over the processes during backward
        run_model = torch.nn.parallel.DistributedDataParallel(
            run_model, device_ids=[device.index] if device.type == "cuda" else None)

    sampler = EpochSampler(len(train_data), seed, with_seeds=isinstance(train_data, SegmentationDataset),
                           batch_size=batch_size, rank=rank(), world_size=world)
    loader = torch.utils.data.DataLoader(
        train_data, batch_size=batch_size, sampler=sampler, drop_last=True, num_workers=num_workers,
        pin_memory=pin_memory, persistent_workers=num_workers > 0)

    model.train()
    start = time.perf_counter() - (history.last.get("seconds", 0.0))
    deadline = None if max_minutes is None else time.perf_counter() + 60 * max_minutes
    bar = tqdm(total=total_steps, initial=step, desc="train", disable=not (progress and is_main()), mininterval=2)
    loss_sum, loss_count, window_start = 0.0, 0, time.perf_counter()
    while step < total_steps:
        sampler.epoch, epoch_step = divmod(step, steps_per_epoch)
        sampler.start = epoch_step * global_batch
        for images, masks in loader:
            for group in opt.param_groups:
                group["lr"] = poly_lr(step, total_steps, lr, poly_power, warmup_steps)
            images = images.to(device, non_blocking=pin_memory)
            masks = masks.to(device, non_blocking=pin_memory)
            if batch_augment is not None:
                images, masks = batch_augment(images, masks, seed * 1_000_003 + step)
            if channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            loss = train_step(run_model, images, masks, opt, loss_fn, scaler, amp_dtype, grad_clip, aux_weight)
            step += 1
            loss_sum, loss_count = loss_sum + loss, loss_count + 1
            bar.update()
            timed_out = deadline is not None and any_rank(time.perf_counter() > deadline, device)
            if step % eval_every == 0 or step == total_steps or timed_out:
                # one sync per evaluation window; the mean over all processes
                mean_loss = float(all_reduce_sum(loss_sum)) / (loss_count * world)
                if not math.isfinite(mean_loss):
                    bar.close()
                    raise_not_finite(mean_loss, step - loss_count + 1, step, lr)
                record = {"step": step, "epoch": step / steps_per_epoch, "lr": opt.param_groups[0]["lr"],
                          "train_loss": mean_loss, "seconds": time.perf_counter() - start,
                          "images_per_s": loss_count * global_batch / (time.perf_counter() - window_start)}
                if val_data is not None:
                    metrics = evaluate(model, val_data, batch_size=2 * batch_size, device=device)
                    record.update({k: metrics[k] for k in ("miou", "pixel_acc", "mean_acc", "fwiou")})
                    record["iou"] = metrics["iou"].tolist()
                history.records.append(record)
                bar.set_postfix(loss=f"{mean_loss:.3f}", miou=f"{record.get('miou', float('nan')):.3f}")
                if checkpoint:
                    if is_main():  # the unwrapped model: no DDP "module." prefix in the keys
                        save_checkpoint(checkpoint, model, optimizer=opt.state_dict(), scaler=scaler.state_dict(),
                                        step=step, history=history.records, rng=torch.get_rng_state(), run=run)
                    barrier()  # the others wait until the file is complete
                if is_main():
                    for callback in callbacks:
                        callback(history)
                loss_sum, loss_count, window_start = 0.0, 0, time.perf_counter()
                if timed_out:
                    history.stopped = "time limit"
                    bar.close()
                    return history
            if step == total_steps:
                break
    bar.close()
    return history


def raise_not_finite(mean_loss, first_step, last_step, lr):
    raise FloatingPointError(
        f"the training loss became {mean_loss} between steps {first_step} and {last_step} (lr={lr}): "
        "lower the learning rate, set grad_clip=1.0, or check the labels "
        "(every value must be a class index or ignore_index)")


def restore(path, model, optimizer, scaler, run):
    """Load a checkpoint saved by ``fit`` into model / optimizer / scaler; returns (step, history)."""
    ckpt = load_checkpoint(path)
    saved = ckpt.get("run", {})
    different = {k: (saved.get(k), run[k]) for k in RUN_KEYS if saved.get(k) != run[k]}
    if "global_batch" in different and saved.get("global_batch"):
        raise ValueError(f"cannot resume {path}: it was trained with a global batch of {saved['global_batch']} "
                         f"images per step (batch_size x processes), this run has {run['global_batch']}: "
                         f"{batch_size_hint(saved['global_batch'])}")
    if different:
        raise ValueError(f"cannot resume {path}: it was saved with different settings "
                         f"(saved, now) {different}; use the same settings or another checkpoint path")
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scaler.load_state_dict(ckpt["scaler"])
    torch.set_rng_state(ckpt["rng"])
    return ckpt["step"], History(ckpt["history"])


def batch_size_hint(global_batch):
    world = world_size()
    if global_batch % world:
        return f"it cannot be split evenly over {world} processes; use a number of processes that divides it"
    return f"with {world} process{'es' if world > 1 else ''} use batch_size={global_batch // world}"


def check_size(model, dataset):
    """Fail before training when the data's image size does not suit the model."""
    divisor = getattr(model, "size_divisor", 1)
    size = getattr(dataset, "image_size", None)
    if size and (size[0] % divisor or size[1] % divisor):
        raise ValueError(f"image_size {tuple(size)} does not suit {type(model).__name__}: height and width "
                         f"must be multiples of {divisor} (for example {(size[0] // divisor * divisor or divisor, size[1] // divisor * divisor or divisor)})")
