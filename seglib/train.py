"""Training: ``fit`` and the small pieces it is made of.

Read top to bottom: the learning-rate schedule, the loss, the data order, one train
step, then ``fit``, which loops over steps, evaluates every ``eval_every`` steps (an
epoch by default), calls the callbacks and saves a resumable checkpoint.
The same code is correct on a CPU and fast on a GPU: mixed precision (bf16, or fp16
with a grad scaler), channels_last and ``torch.compile`` switch on by device.
"""

import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .checkpoint import load_checkpoint, save_checkpoint
from .data.base import SegmentationDataset
from .device import autocast_dtype, select_device
from .inference import evaluate
from .losses import DiceLoss, FocalLoss

# ---------------------------------------------------------------- schedule and loss


def poly_lr(step, total_steps, base_lr, power=0.9, warmup_steps=0):
    """Poly schedule (DeepLab): ``base_lr * (1 - step / total) ** power``, after a linear warm-up."""
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    progress = min(step, total_steps) / max(1, total_steps)
    return base_lr * (1 - progress) ** power


LOSSES = ("cross_entropy", "dice", "focal", "cross_entropy+dice")


def make_loss(loss="cross_entropy", class_weights=None, ignore_index=255):
    """``loss(logits [N, C, H, W], target [N, H, W]) -> scalar``; a callable is returned as is.

    Names: ``"cross_entropy"``, ``"dice"`` (``DiceLoss``), ``"focal"`` (``FocalLoss``, gamma 2)
    and ``"cross_entropy+dice"`` (their sum).  ``class_weights`` weight the cross-entropy and
    focal terms; Dice, which already counts every class equally, does not use them."""
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; valid: {', '.join(map(repr, LOSSES))} or a callable")
    weight = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)

    def cross_entropy(logits, target):
        w = None if weight is None else weight.to(logits.device)
        return F.cross_entropy(logits.float(), target, weight=w, ignore_index=ignore_index)

    dice = DiceLoss(ignore_index)

    def cross_entropy_plus_dice(logits, target):
        return cross_entropy(logits, target) + dice(logits, target)

    if loss == "cross_entropy":
        return cross_entropy
    if loss == "dice":
        return dice
    if loss == "focal":
        return FocalLoss(weight=weight, ignore_index=ignore_index)
    return cross_entropy_plus_dice


# ---------------------------------------------------------------- data order


class EpochSampler(torch.utils.data.Sampler):
    """Shuffles ``range(length)`` anew each epoch from ``(seed, epoch)`` alone, and pairs each
    index with a seed for its random augmentation (``SegmentationDataset`` accepts
    ``dataset[(index, seed)]``), so that any step can be replayed exactly (resume) whatever
    the number of workers.  ``start`` skips that many items.  ``with_seeds=False`` yields
    plain indices, for datasets of other kinds."""

    def __init__(self, length, seed=0, with_seeds=True):
        self.length, self.seed, self.with_seeds, self.epoch, self.start = length, seed, with_seeds, 0, 0

    def __len__(self):
        return self.length - self.start

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.length, generator=g)
        item_seeds = torch.randint(2**62, (self.length,), generator=g)
        for i in range(self.start, self.length):
            yield (int(order[i]), int(item_seeds[i])) if self.with_seeds else int(order[i])


# ---------------------------------------------------------------- one step


def train_step(model, images, masks, optimizer, loss_fn, scaler, amp_dtype, grad_clip=None, aux_weight=0.4):
    """Forward, loss, backward, optimizer step; returns the detached loss."""
    with torch.autocast(images.device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
        out = model(images)  # logits (N, C, H, W), or (logits, aux_logits) in training mode
    if isinstance(out, (tuple, list)):
        loss = loss_fn(out[0], masks) + aux_weight * loss_fn(out[1], masks)
    else:
        loss = loss_fn(out, masks)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if grad_clip:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    return loss.detach()


def make_optimizer(model, optimizer, lr, weight_decay, momentum):
    if optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    if optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {optimizer!r}; valid: 'adamw', 'sgd'")


# ---------------------------------------------------------------- history


class History:
    """One record (dict) per evaluation: step, epoch, lr, train_loss, seconds, the val
    metrics (``miou``, ``pixel_acc``, ...) and per-class ``iou``.  ``history["miou"]``
    lists one key over the records."""

    def __init__(self, records=None):
        self.records = list(records or [])
        self.stopped = None  # "time limit" when max_minutes ended the run

    def __getitem__(self, key):
        return [r.get(key) for r in self.records]

    def __len__(self):
        return len(self.records)

    @property
    def last(self) -> dict:
        return self.records[-1] if self.records else {}

    def __repr__(self):
        last = self.last
        facts = ", ".join(f"{k}={last[k]:.4g}" for k in ("step", "train_loss", "miou", "pixel_acc") if k in last)
        return f"History({len(self)} records; last: {facts})"


# ---------------------------------------------------------------- fit

RUN_KEYS = ("steps", "batch_size", "seed", "lr")  # must match to resume a checkpoint


def fit(model, train_data, val_data=None, *, steps=None, epochs=None, max_minutes=None,
        batch_size=8, lr=1e-3, optimizer="adamw", weight_decay=1e-4, momentum=0.9,
        poly_power=0.9, warmup_steps=0, loss="cross_entropy", class_weights=None, aux_weight=0.4,
        device="auto", amp="auto", channels_last="auto", compile=False, grad_clip=None,
        eval_every=None, num_workers=0, seed=0, checkpoint=None, resume=False,
        callbacks=(), progress=True) -> History:
    """Train ``model`` on ``train_data`` for ``steps`` optimizer steps (or ``epochs`` passes).

    Evaluates on ``val_data`` every ``eval_every`` steps (default: one epoch) and at the end;
    stops early after ``max_minutes``.  ``checkpoint``: a path saved (atomically) at every
    evaluation; with ``resume=True`` training continues from it.  ``callbacks``: functions
    called as ``callback(history)`` after each evaluation.  Returns the ``History``.

    ``loss``: ``"cross_entropy"``, ``"dice"``, ``"focal"``, ``"cross_entropy+dice"`` or a
    callable ``loss(logits, target) -> scalar`` (see ``make_loss``); ``class_weights`` (C,)
    weight the cross-entropy and focal terms.
    """
    steps_per_epoch = len(train_data) // batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"the training set has {len(train_data)} items, fewer than batch_size={batch_size}")
    if (steps is None) == (epochs is None):
        raise ValueError("give exactly one of steps=... or epochs=... (and optionally max_minutes=...)")
    total_steps = steps if steps is not None else epochs * steps_per_epoch
    if total_steps < 1:
        raise ValueError(f"steps must be >= 1, got {total_steps}")
    eval_every = eval_every or min(steps_per_epoch, total_steps)
    check_size(model, train_data)

    device = select_device(device)
    amp_dtype = autocast_dtype(device, amp)
    channels_last = device.type == "cuda" if channels_last == "auto" else channels_last
    torch.manual_seed(seed)  # dropout and other randomness inside the model
    model.to(device, memory_format=torch.channels_last if channels_last else torch.preserve_format)
    run_model = torch.compile(model) if compile else model
    opt = make_optimizer(model, optimizer, lr, weight_decay, momentum)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
    loss_fn = make_loss(loss, class_weights, getattr(train_data, "ignore_index", 255))
    run = {"steps": total_steps, "batch_size": batch_size, "seed": seed, "lr": lr}

    history, step = History(), 0
    if resume and checkpoint and Path(checkpoint).exists():
        step, history = restore(checkpoint, model, opt, scaler, run)

    sampler = EpochSampler(len(train_data), seed, with_seeds=isinstance(train_data, SegmentationDataset))
    loader = torch.utils.data.DataLoader(
        train_data, batch_size=batch_size, sampler=sampler, drop_last=True, num_workers=num_workers,
        pin_memory=device.type == "cuda", persistent_workers=num_workers > 0)

    model.train()
    start = time.perf_counter() - (history.last.get("seconds", 0.0))
    deadline = None if max_minutes is None else time.perf_counter() + 60 * max_minutes
    bar = tqdm(total=total_steps, initial=step, desc="train", disable=not progress, mininterval=2)
    loss_sum, loss_count, window_start = 0.0, 0, time.perf_counter()
    while step < total_steps:
        sampler.epoch, sampler.start = divmod(step, steps_per_epoch)
        sampler.start *= batch_size
        for images, masks in loader:
            for group in opt.param_groups:
                group["lr"] = poly_lr(step, total_steps, lr, poly_power, warmup_steps)
            images = images.to(device, non_blocking=True)
            if channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            masks = masks.to(device, non_blocking=True)
            loss = train_step(run_model, images, masks, opt, loss_fn, scaler, amp_dtype, grad_clip, aux_weight)
            step += 1
            loss_sum, loss_count = loss_sum + loss, loss_count + 1
            bar.update()
            timed_out = deadline is not None and time.perf_counter() > deadline
            if step % eval_every == 0 or step == total_steps or timed_out:
                mean_loss = float(loss_sum) / loss_count  # one sync per evaluation window
                if not math.isfinite(mean_loss):
                    bar.close()
                    raise_not_finite(mean_loss, step - loss_count + 1, step, lr)
                record = {"step": step, "epoch": step / steps_per_epoch, "lr": opt.param_groups[0]["lr"],
                          "train_loss": mean_loss, "seconds": time.perf_counter() - start,
                          "images_per_s": loss_count * batch_size / (time.perf_counter() - window_start)}
                if val_data is not None:
                    metrics = evaluate(model, val_data, batch_size=2 * batch_size, device=device)
                    record.update({k: metrics[k] for k in ("miou", "pixel_acc", "mean_acc", "fwiou")})
                    record["iou"] = metrics["iou"].tolist()
                history.records.append(record)
                bar.set_postfix(loss=f"{mean_loss:.3f}", miou=f"{record.get('miou', float('nan')):.3f}")
                if checkpoint:
                    save_checkpoint(checkpoint, model, optimizer=opt.state_dict(), scaler=scaler.state_dict(),
                                    step=step, history=history.records, rng=torch.get_rng_state(), run=run)
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
    if different:
        raise ValueError(f"cannot resume {path}: it was saved with different settings "
                         f"(saved, now) {different}; use the same settings or another checkpoint path")
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scaler.load_state_dict(ckpt["scaler"])
    torch.set_rng_state(ckpt["rng"])
    return ckpt["step"], History(ckpt["history"])


def check_size(model, dataset):
    """Fail before training when the data's image size does not suit the model."""
    divisor = getattr(model, "size_divisor", 1)
    size = getattr(dataset, "image_size", None)
    if size and (size[0] % divisor or size[1] % divisor):
        raise ValueError(f"image_size {tuple(size)} does not suit {type(model).__name__}: height and width "
                         f"must be multiples of {divisor} (for example {(size[0] // divisor * divisor or divisor, size[1] // divisor * divisor or divisor)})")
