"""Checks for notebook 00's exercises: the confusion matrix, IoU from it, median-frequency weights.

The references are seglib's own: ``ConfusionMatrix`` and ``data.median_frequency``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..data.stats import median_frequency
from ..metrics import ConfusionMatrix
from .checking import Case, Mistake, as_array, difference, run_check

__all__ = ["check_confusion_matrix", "check_iou", "check_median_frequency"]

VOID = 255


def reference_confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int,
                               ignore_index: int = VOID) -> torch.Tensor:
    cm = ConfusionMatrix(num_classes, ignore_index)
    cm.update(pred.reshape(1, -1), target.reshape(1, -1))
    return cm.compute()["matrix"]


def label_maps(seed: int, shape: tuple, num_classes: int, void_share: float = 0.0, classes=None):
    """A random ``(pred, target)`` pair of int64 maps; the target has ``void_share`` void pixels."""
    generator = torch.Generator().manual_seed(seed)
    pool = torch.tensor(classes if classes is not None else range(num_classes))
    target = pool[torch.randint(len(pool), shape, generator=generator)]
    pred = target.clone()
    flip = torch.rand(shape, generator=generator) < 0.4
    pred[flip] = pool[torch.randint(len(pool), shape, generator=generator)][flip]
    target[torch.rand(shape, generator=generator) < void_share] = VOID
    return pred, target


def notebook_example():
    target = torch.tensor([[0, 0, 0, 0], [0, 0, 1, 1], [0, 2, 1, 1], [0, 0, 1, VOID]])
    pred = torch.tensor([[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 1], [0, 1, 1, 1]])
    return pred, target


def void_as_last_class(pred, target, num_classes, ignore_index=VOID):
    return reference_confusion_matrix(pred, target.clamp(max=num_classes - 1), num_classes, ignore_index)


def top_classes_absent(got, expected, case: Case) -> bool:
    """The student's matrix is smaller than ``[n, n]``, or building it failed, on a case whose
    highest flat index ``n * target + pred`` is below ``n * n - 1`` (no minlength)."""
    pred, target, n = case.args
    valid = target != case.kwargs.get("ignore_index", VOID)
    highest = int((n * target[valid] + pred[valid]).max())
    if isinstance(got, Exception):
        return highest < n * n - 1
    return as_array(got).size < n * n


def counting_void(student: Callable):
    """A mistake test: the student's function fails on a case with void pixels, and works
    once those pixels get a real class."""
    def matches(got, expected, case: Case) -> bool:
        pred, target, n = case.args
        void = target == case.kwargs.get("ignore_index", VOID)
        if not isinstance(got, Exception) or not void.any():
            return False
        try:
            student(pred, target.masked_fill(void, 0), n, **case.kwargs)
        except Exception:
            return False
        return True
    return matches


VOID_COUNTED = "void pixels are counted: drop the pixels whose target is ignore_index before counting"


def confusion_mistakes(student: Callable) -> list[Mistake]:
    return [
        Mistake("rows and columns are swapped: row t, column p counts the pixels whose target is t and whose "
                "prediction is p",
                produces=lambda pred, target, n, ignore_index=VOID: reference_confusion_matrix(pred, target, n).T),
        Mistake(VOID_COUNTED, produces=void_as_last_class),
        Mistake(VOID_COUNTED + " (with them the flat index goes past num_classes ** 2)",
                matches=counting_void(student)),
        Mistake("the matrix is too small when the highest classes are absent: torch.bincount needs "
                "minlength=num_classes ** 2", matches=top_classes_absent),
    ]


def check_confusion_matrix(confusion_matrix: Callable) -> None:
    """``confusion_matrix(pred, target, num_classes, ignore_index=255)``: int64 ``[n, n]``, rows
    the true class, void targets dropped."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    cases = [
        Case("2x2 maps, no void, 2 classes", (torch.tensor([[0, 1], [1, 1]]), torch.tensor([[0, 1], [0, 1]]), 2)),
        Case("the notebook's 4x4 example, one void pixel", (*notebook_example(), 3)),
        Case("the top two of 5 classes absent", (*label_maps(1, (6, 6), 5, classes=[0, 1, 2]), 5)),
        Case("random 8x8 maps, 5 classes, 10 % void", (*label_maps(2, (8, 8), 5, 0.1), 5)),
        Case("a batch [2, 7, 9], 4 classes, 20 % void", (*label_maps(3, (2, 7, 9), 4, 0.2), 4)),
        Case("ignore_index=0 (class 0 is void here)", (*label_maps(4, (6, 5), 4), 4), {"ignore_index": 0}),
    ]
    run_check("confusion_matrix", confusion_matrix, reference_confusion_matrix, cases,
              confusion_mistakes(confusion_matrix))


def reference_iou(matrix: torch.Tensor) -> tuple[torch.Tensor, float]:
    cm = ConfusionMatrix(len(matrix))
    cm.mat = torch.as_tensor(matrix).long()
    result = cm.compute()
    return result["iou"], result["miou"]


def iou_filling_absent(value: float):
    def wrong(matrix):
        iou, _ = reference_iou(matrix)
        iou = torch.nan_to_num(iou, nan=value)
        return iou, float(iou.mean())
    return wrong


def iou_with_denominator(dice: bool = False, axis: int | None = None):
    """A mistake test: the per-class values are the precision, the recall or the Dice score."""
    def matches(got, expected, case: Case) -> bool:
        matrix = torch.as_tensor(case.args[0]).double()
        tp = matrix.diag()
        wrong = 2 * tp / (matrix.sum(0) + matrix.sum(1)) if dice else tp / matrix.sum(axis)
        return difference(got[0], wrong) is None
    return matches


def miou_is_nan(got, expected, case):
    return bool(np.isnan(float(got[1]))) and not np.isnan(expected[1])


def absent_from_truth_is_nan(got, expected, case):
    truth_absent = torch.as_tensor(case.args[0]).sum(1) == 0
    got_iou, expected_iou = as_array(got[0]), as_array(expected[0])
    return bool((np.isnan(got_iou) & (expected_iou == 0) & truth_absent.numpy()).any())


IOU_MISTAKES = [
    Mistake("a class absent from both target and prediction (zero union) has no IoU: give it NaN and leave it "
            "out of the mean, not 1.0 (that would reward the model for a class that is not there)",
            produces=iou_filling_absent(1.0)),
    Mistake("a class absent from both target and prediction (zero union) has no IoU: give it NaN and leave it "
            "out of the mean, not 0.0 (that would punish the model for a class that is not there)",
            produces=iou_filling_absent(0.0)),
    Mistake("the mIoU is NaN: average only the classes whose IoU is not NaN (torch.nanmean)", matches=miou_is_nan),
    Mistake("a class absent from the target but predicted somewhere has IoU 0 (its union is its false "
            "positives), not NaN: only a zero union gives NaN", matches=absent_from_truth_is_nan),
    Mistake("that is the precision TP / (TP + FP): IoU divides by the union TP + FP + FN",
            matches=iou_with_denominator(axis=0)),
    Mistake("that is the recall TP / (TP + FN): IoU divides by the union TP + FP + FN",
            matches=iou_with_denominator(axis=1)),
    Mistake("that is the Dice (F1) score 2 TP / (2 TP + FP + FN): IoU is TP / (TP + FP + FN)",
            matches=iou_with_denominator(dice=True)),
]


def random_matrix(seed: int, n: int, absent=(), unlabelled=()) -> torch.Tensor:
    """A random confusion matrix; classes in ``absent`` have an empty row and column, classes in
    ``unlabelled`` an empty row only (predicted, never true)."""
    matrix = torch.randint(0, 20, (n, n), generator=torch.Generator().manual_seed(seed))
    matrix[list(absent) + list(unlabelled), :] = 0
    matrix[:, list(absent)] = 0
    return matrix


def check_iou(iou_from_confusion: Callable) -> None:
    """``iou_from_confusion(matrix) -> (iou, miou)``: IoU per class (NaN for a zero union) and
    their mean over the non-NaN classes."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    cases = [
        Case("the notebook's 3x3 matrix", (torch.tensor([[8, 1, 0], [1, 4, 0], [1, 0, 0]]),)),
        Case("a perfect 2-class matrix", (torch.tensor([[5, 0], [0, 3]]),)),
        Case("class 1 of 3 absent from target and prediction", (random_matrix(1, 3, absent=[1]),)),
        Case("class 2 of 4 predicted but never in the target", (random_matrix(2, 4, unlabelled=[2]),)),
        Case("random 6x6 matrix, classes 0 and 4 absent", (random_matrix(3, 6, absent=[0, 4]),)),
    ]
    run_check("iou_from_confusion", iou_from_confusion, reference_iou, cases, IOU_MISTAKES)


def weights_with(frequency: Callable | None = None, average: Callable = np.median, over_all: bool = False,
                 inverted: bool = False):
    def wrong(pixels, image_pixels):
        pixels, image_pixels = np.asarray(pixels, dtype=np.float64), np.asarray(image_pixels, dtype=np.float64)
        present = pixels > 0
        freq = np.zeros(len(pixels))
        with np.errstate(divide="ignore", invalid="ignore"):
            freq[present] = (frequency or (lambda p, i: p / i))(pixels, image_pixels)[present]
        middle = average(freq if over_all else freq[present])
        weights = np.zeros(len(pixels))
        weights[present] = freq[present] / middle if inverted else middle / freq[present]
        return weights
    return wrong


def absent_not_zero(got, expected, case):
    got = as_array(np.asarray(got, dtype=np.float64))
    return bool((~np.isfinite(got[as_array(expected) == 0])).any())


WEIGHT_MISTAKES = [
    Mistake("freq[c] divides the pixels of class c by the pixels of the images in which c appears "
            "(image_pixels[c]), not by the pixels of all images",
            produces=weights_with(frequency=lambda p, i: p / i.max())),
    Mistake("upside down: the weight is median(freq) / freq[c], so that rare classes get large weights",
            produces=weights_with(inverted=True)),
    Mistake("the median is taken over the classes that appear only (a class with no pixel has no frequency)",
            produces=weights_with(over_all=True)),
    Mistake("a class that never appears gets weight 0, not inf or NaN", matches=absent_not_zero),
    Mistake("median, not mean: the weight is median(freq) / freq[c]", produces=weights_with(average=np.mean)),
]


def check_median_frequency(median_frequency_weights: Callable) -> None:
    """``median_frequency_weights(pixels, image_pixels)``: per class ``median(freq) / freq[c]``
    with ``freq = pixels / image_pixels`` over the classes that appear, 0 for the others."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    mixed_sizes = (np.array([500, 40, 300, 8, 150]), np.array([1000, 600, 1000, 200, 800]))
    cases = [
        Case("3 classes in every image", (np.array([600, 300, 100]), np.array([1000, 1000, 1000]))),
        Case("5 classes, each in some images", mixed_sizes),
        Case("class 2 of 4 never appears", (np.array([700, 50, 0, 250]), np.array([1000, 400, 0, 1000]))),
        Case("9 classes like the synthetic scenes, two absent",
             (np.array([3700, 650, 2370, 910, 0, 100, 30, 0, 270]),
              np.array([10000, 9000, 10000, 8000, 0, 6000, 2000, 0, 5000]))),
    ]
    run_check("median_frequency_weights", median_frequency_weights, median_frequency, cases, WEIGHT_MISTAKES)
