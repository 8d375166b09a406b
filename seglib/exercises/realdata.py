"""Checks for notebook 07's exercises (CamVid): predicting at the training size and scoring
at the label's size, and how far the val frames are from the training frames.

The references are seglib's own: ``inference.predict(model, image, size=...)`` (without its
anti-aliasing, so that a plain ``F.interpolate`` answer is right; the test images are smooth
ramps, on which both agree) and ``data.camvid.frame_of``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..data.camvid import frame_of
from .checking import Case, Mistake, run_check

__all__ = ["check_frame_gaps", "check_predict_at_training_size"]


# Exercise 1: predict at the training size, score at the label's size

class RampModel(nn.Module):
    """A tiny stand-in for a trained model: a 1x1 convolution, BatchNorm and a 3x3 convolution
    to 4 classes, so that train mode (batch statistics) and eval mode (running statistics)
    differ, as they do in every real model."""

    def __init__(self, seed: int):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.body = nn.Sequential(nn.Conv2d(3, 6, 1), nn.BatchNorm2d(6), nn.ReLU(), nn.Conv2d(6, 4, 3, padding=1))
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g))
            self.body[1].running_mean.copy_(torch.randn(6, generator=g))
            self.body[1].running_var.copy_(torch.rand(6, generator=g) + 0.5)
        self.train()  # as a model comes out of training

    def forward(self, x):
        return self.body(x)


def ramp_image(height: int, width: int, seed: int) -> torch.Tensor:
    """A smooth normalised image [3, H, W]: each channel a random linear ramp."""
    g = torch.Generator().manual_seed(seed)
    y = torch.linspace(-1, 1, height)[:, None]
    x = torch.linspace(-1, 1, width)[None, :]
    a, b, c = torch.randn(3, 3, generator=g).unbind(1)
    return torch.stack([a[i] * 2 * y + b[i] * 2 * x + c[i] for i in range(3)])


def reference_prediction(model, image, train_size, labels_nearest=False, resize_input=True,
                         align_corners=False, eval_mode=True):
    """The answer (all defaults) and, with a flag changed, the known mistakes."""
    height, width = image.shape[-2:]
    x = image[None]
    if resize_input:
        x = F.interpolate(x, size=tuple(train_size), mode="bilinear", align_corners=align_corners)
    was_training = model.training
    model.train(not eval_mode)
    try:
        with torch.no_grad():
            logits = model(x)
    finally:
        model.train(was_training)
    if labels_nearest:
        labels = logits.argmax(1, keepdim=True).float()
        return F.interpolate(labels, size=(height, width), mode="nearest")[0, 0].long()
    logits = F.interpolate(logits, size=(height, width), mode="bilinear", align_corners=align_corners)
    return logits.argmax(1)[0]


def same_labels(got, expected) -> str | None:
    """None when ``got`` is a label map of ``expected``'s shape that agrees on 99.5% of pixels
    (ties and rounding may flip a pixel on a class border), else what is wrong."""
    if not isinstance(got, torch.Tensor):
        return f"expected a tensor of labels, got {type(got).__name__}"
    if tuple(got.shape) != tuple(expected.shape):
        return f"expected a label map of shape {tuple(expected.shape)}, got shape {tuple(got.shape)}"
    if got.is_floating_point():
        return "expected integer class labels (argmax over the class dimension), got floats"
    agree = (got.cpu() == expected).float().mean().item()
    return None if agree >= 0.995 else f"only {agree:.1%} of the pixels have the expected label"


def variant(**flags) -> Callable:
    def wrong(model, image, train_size):
        return reference_prediction(model, image, train_size, **flags)
    return wrong


def prediction_mistakes() -> list[Mistake]:
    return [
        Mistake("the labels are upsampled, not the scores: upsample the logits (bilinear) to the image's "
                "size and take the argmax there; nearest-neighbour labels make blocky class borders",
                produces=variant(labels_nearest=True)),
        Mistake("the model sees the full-size image: resize it to train_size first, the scale it learnt",
                produces=variant(resize_input=False)),
        Mistake("the model is in training mode: call model.eval() first (BatchNorm then uses the statistics "
                "it learnt, not the batch's)", produces=variant(eval_mode=False)),
        Mistake("the labels are at the training size: upsample the logits back to the image's own size, "
                "where the labels are scored",
                matches=lambda got, expected, case: tuple(got.shape)[-2:] == tuple(case.args[2])),
        Mistake("align_corners=True moves every pixel a little: use align_corners=False, as the model's "
                "training resize did", produces=variant(align_corners=True)),
    ]


def check_predict_at_training_size(predict_at_training_size: Callable) -> None:
    """``predict_at_training_size(model, image, train_size)``: labels [H, W] of the normalised
    image [3, H, W], the model run at ``train_size`` and its logits upsampled to (H, W)."""
    __tracebackhide__ = True
    cases = [
        Case("a 16x24 image, trained at 8x12", (RampModel(0), ramp_image(16, 24, 0), (8, 12))),
        Case("a 36x48 image, trained at 12x16", (RampModel(1), ramp_image(36, 48, 1), (12, 16))),
        Case("a 45x60 image, trained at 16x24 (not a whole factor)", (RampModel(2), ramp_image(45, 60, 2), (16, 24))),
        Case("CamVid's shape: 90x120, trained at 44x60", (RampModel(3), ramp_image(90, 120, 3), (44, 60))),
    ]
    run_check("predict_at_training_size", predict_at_training_size, reference_prediction, cases,
              prediction_mistakes(), compare=same_labels)


# Exercise 2: how far each val frame is from the nearest training frame

def reference_frame_gaps(val_names: Sequence[str], train_names: Sequence[str]) -> list[int | None]:
    by_drive: dict[str, list[int]] = {}
    for name in train_names:
        drive, frame = frame_of(name)
        by_drive.setdefault(drive, []).append(frame)
    gaps = []
    for name in val_names:
        drive, frame = frame_of(name)
        gaps.append(min(abs(frame - f) for f in by_drive[drive]) if drive in by_drive else None)
    return gaps


def gaps_with(gap: Callable[[int, int], int] = lambda v, t: abs(v - t), same_drive: bool = True,
              missing=None) -> Callable:
    """A mistake: frames compared with ``gap(val, train)``, over every drive when not
    ``same_drive``, ``missing`` for a drive without train frames."""
    def wrong(val_names, train_names):
        train = [frame_of(n) for n in train_names]
        gaps = []
        for name in val_names:
            drive, frame = frame_of(name)
            frames = [t for d, t in train if d == drive or not same_drive]
            gaps.append(min((gap(frame, t) for t in frames), key=abs) if frames else missing)
        return gaps
    return wrong


def nearest_frame(val_names, train_names):
    train = [frame_of(n) for n in train_names]
    out = []
    for name in val_names:
        drive, frame = frame_of(name)
        frames = [t for d, t in train if d == drive]
        out.append(min(frames, key=lambda t: abs(frame - t)) if frames else None)
    return out


def gap_mistakes() -> list[Mistake]:
    return [
        Mistake("frame numbers of different drives are compared: only a train frame of the same drive "
                "(the name's part before the _) is a neighbour", produces=gaps_with(same_drive=False)),
        Mistake("a gap is a distance: take the absolute difference (a val frame may lie before the train frame)",
                produces=gaps_with(gap=lambda v, t: v - t)),
        Mistake("that is the nearest train frame's number: return how many frames away it is",
                produces=nearest_frame),
        Mistake("a drive with no train frame has no gap: return None for it, not 0",
                produces=gaps_with(missing=0)),
        Mistake("0006R0 and Seq05VD names put an f before the frame number (0006R0_f02910): strip it "
                "before int()", matches=lambda got, expected, case: isinstance(got, ValueError)
                and "invalid literal for int()" in str(got) and "'f" in str(got)),
    ]


def check_frame_gaps(frame_gaps: Callable) -> None:
    """``frame_gaps(val_names, train_names)``: for each val name, how many frames away the
    nearest train frame of the same drive is (None when that drive has no train frame)."""
    __tracebackhide__ = True
    cases = [
        Case("one drive, one train frame", (["0016E5_07959"], ["0016E5_07920"])),
        Case("val frames before and after the train frames", (["0016E5_00100", "0016E5_00200"],
                                                              ["0016E5_00130", "0016E5_00160"])),
        Case("two drives with close frame numbers", (["0001TP_006700", "0016E5_006700"],
                                                     ["0001TP_006690", "0016E5_006000", "0001TP_008000"])),
        Case("names with an f before the frame", (["0006R0_f02910", "Seq05VD_f00030"],
                                                  ["0006R0_f02940", "Seq05VD_f00060", "0006R0_f01000"])),
        Case("a drive with no train frame", (["Seq05VD_f00030", "0016E5_07959"], ["0016E5_07920", "0001TP_006690"])),
    ]
    run_check("frame_gaps", frame_gaps, reference_frame_gaps, cases, gap_mistakes())
