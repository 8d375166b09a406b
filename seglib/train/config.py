"""What ``fit`` can be told: ``FitConfig``, and the settings ``"auto"`` resolves to on a device.

``fit(model, train, val, steps=200, lr=3e-3)`` and ``fit(model, train, val, FitConfig(steps=200,
lr=3e-3))`` are the same run.  ``FitConfig`` is the one list of the options, their defaults
and what they do; ``device_settings`` is the one place that decides what ``"auto"`` means.
"""

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import torch

from ..device import autocast_dtype
from .history import History

Loss = str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Callback = Callable[[History], None]


@dataclass(frozen=True)
class FitConfig:
    """Every option of ``fit``, with its default.  Change some with ``config.with_options(lr=...)``."""

    # how long
    steps: int | None = None
    """Optimizer steps to train for (give this or ``epochs``)."""
    epochs: int | None = None
    """Passes over the training set, instead of ``steps``."""
    max_minutes: float | None = None
    """Stop early after this wall-clock time (``History.stopped == "time limit"``)."""

    # the optimization
    batch_size: int = 8
    """Images per step and process (a step sees ``batch_size x processes`` images)."""
    lr: float = 1e-3
    """Peak learning rate of the poly schedule."""
    optimizer: str = "adamw"
    """``"adamw"`` or ``"sgd"``."""
    weight_decay: float = 1e-4
    """L2 weight decay (decoupled for AdamW)."""
    momentum: float = 0.9
    """SGD's momentum (AdamW ignores it)."""
    poly_power: float = 0.9
    """Power of the poly schedule: ``lr * (1 - step / steps) ** poly_power`` (DeepLab's)."""
    warmup_steps: int = 0
    """Steps of linear warm-up from ``lr / warmup_steps`` to ``lr`` before the poly decay."""
    grad_clip: float | None = None
    """Clip the gradients' global norm to this value (None: no clipping)."""

    # the loss
    loss: Loss = "cross_entropy"
    """``"cross_entropy"``, ``"dice"``, ``"focal"``, ``"cross_entropy+dice"`` or a callable
    ``loss(logits, target) -> scalar`` (see ``make_loss``)."""
    class_weights: Sequence[float] | torch.Tensor | None = None
    """Per-class weights (C,) of the cross-entropy and focal terms (e.g. median frequency)."""
    aux_weight: float = 0.4
    """Weight of the auxiliary head's loss, for models that return ``(logits, aux_logits)``."""

    # the device and its speed-ups ("auto": see device_settings)
    device: str = "auto"
    """``"auto"`` (cuda, then mps, then cpu), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``."""
    amp: bool | str = "auto"
    """Mixed precision: ``"auto"`` is bf16 (or fp16 with a grad scaler) on GPUs, off on CPUs;
    ``True`` forces bf16 on a CPU; ``False`` is full fp32."""
    channels_last: bool | str = "auto"
    """NHWC memory layout for the model and the batches (``"auto"``: on CUDA)."""
    fused: bool | str = "auto"
    """One-kernel optimizer step (``"auto"``: on CUDA, where it exists)."""
    pin_memory: bool | str = "auto"
    """Page-locked loader batches and non-blocking copies (``"auto"``: on CUDA)."""
    compile: bool = False
    """``torch.compile`` the model (minutes of compiling on a CPU; pays off on long GPU runs)."""
    num_workers: int = 0
    """DataLoader worker processes."""
    batch_augment: Callable | None = None
    """``batch_augment(images, masks, seed) -> (images, masks)`` run on each batch on the device
    (e.g. ``BatchAugment()``), seeded per step so that a resume replays it."""

    # evaluation, reproducibility, saving
    eval_every: int | None = None
    """Evaluate on the val data every this many steps (default: once per epoch) and at the end."""
    eval_items: int | None = None
    """Score only the first this many val items at the evaluations before the last (a cheaper
    training curve; the record's ``val_items`` says how many); the last evaluation scores all."""
    seed: int = 0
    """Seed of the data order, the augmentation and the model's own randomness (dropout)."""
    checkpoint: str | Path | None = None
    """File saved (atomically) at every evaluation."""
    resume: bool = False
    """Continue from ``checkpoint`` when it exists (same steps, global batch, seed and lr)."""
    callbacks: Sequence[Callback] = ()
    """Functions called as ``callback(history)`` after each evaluation (on rank 0)."""
    progress: bool = True
    """Show a progress bar."""

    def with_options(self, **options) -> "FitConfig":
        """A copy with ``options`` changed; an unknown name is a ``TypeError`` listing the valid ones."""
        unknown = sorted(set(options) - set(option_names()))
        if unknown:
            raise TypeError(f"fit got unknown option(s) {', '.join(unknown)}; valid options: "
                            f"{', '.join(option_names())}")
        return replace(self, **options)

    def record(self) -> dict:
        """The options as plain values (a checkpoint stores them): a callable by its name or repr."""
        return {name: plain(value) for name, value in asdict(self).items()}


def option_names() -> list[str]:
    return [f.name for f in fields(FitConfig)]


def plain(value):
    """``value`` as str / int / float / bool / None, or lists and dicts of them."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return getattr(value, "__name__", None) or repr(value)


@dataclass(frozen=True)
class DeviceSettings:
    """What ``FitConfig``'s ``"auto"`` options are on one device."""

    amp_dtype: torch.dtype | None
    channels_last: bool
    fused: bool
    pin_memory: bool

    def record(self) -> dict:
        return {"amp_dtype": None if self.amp_dtype is None else str(self.amp_dtype).removeprefix("torch."),
                "channels_last": self.channels_last, "fused": self.fused, "pin_memory": self.pin_memory}


def device_settings(config: FitConfig, device: torch.device) -> DeviceSettings:
    """Resolve ``config``'s ``"auto"`` options for ``device``: each is on for CUDA only, and
    mixed precision follows ``autocast_dtype``.  A pure function: nothing is built or moved."""
    def on_cuda(value):
        return device.type == "cuda" if value == "auto" else bool(value)

    return DeviceSettings(amp_dtype=autocast_dtype(device, config.amp), channels_last=on_cuda(config.channels_last),
                          fused=on_cuda(config.fused), pin_memory=on_cuda(config.pin_memory))
