"""The exercise checks' machinery, and notebook 00's checks: each accepts the notebook's own
solution and names the mistake of planted wrong ones (written as a student would)."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from exercise_helpers import diagnosis, solution

from seglib.exercises import Case, Mistake, check_confusion_matrix, check_iou, check_median_frequency, run_check
from seglib.exercises.checking import difference

NB = "00_data_and_metrics.ipynb"


def square(x):
    return x * x


def test_a_passing_check_prints_one_line_per_case_and_a_total(capsys):
    run_check("square", square, square, [Case("two", (2,)), Case("minus three", (-3,))])
    assert capsys.readouterr().out == "case 1/2: two: ok\ncase 2/2: minus three: ok\nall 2 cases pass\n"


def test_a_known_mistake_is_named_and_an_unknown_one_shows_the_smallest_failing_input(capsys):
    cases = [Case("small", (3,)), Case("large", (10,))]
    doubled = Mistake("doubled instead of squared", produces=lambda x: 2 * x)
    with pytest.raises(AssertionError, match=r"square, case 1 \(small\): doubled instead of squared"):
        run_check("square", lambda x: x + x, square, cases, [doubled])
    assert "case 1/2: small: WRONG" in capsys.readouterr().out
    message = diagnosis(lambda f: run_check("square", f, square, cases, [doubled]), lambda x: x ** 3)
    assert message == "square, case 1 (small), the smallest that fails: 27, expected 9; input 3: expected 9, got 27"


def test_a_mistake_is_named_only_when_it_explains_the_first_failing_case_or_every_one():
    cases = [Case("one", (1,)), Case("two", (2,)), Case("three", (3,))]
    off_at_three = Mistake("off at three", matches=lambda got, expected, case: case.args == (3,))
    message = diagnosis(lambda f: run_check("square", f, square, cases, [off_at_three]), lambda x: x ** 3)
    assert message.startswith("square, case 2 (two), the smallest that fails")  # not named from case 3
    everywhere = Mistake("cubed", matches=lambda got, expected, case: got == case.args[0] ** 3)
    message = diagnosis(lambda f: run_check("square", f, square, cases, [off_at_three, everywhere]),
                        lambda x: x ** 3)
    assert message == "square, case 2 (two): cubed"


def test_a_stub_says_it_is_not_written_and_an_error_is_reported_with_its_input(capsys):
    def stub(x):
        raise NotImplementedError()

    assert "not written yet: replace `raise NotImplementedError()`" in diagnosis(
        lambda f: run_check("square", f, square, [Case("two", (2,))]), stub)
    assert capsys.readouterr().out == "case 1/1: two: not written yet\n"
    message = diagnosis(lambda f: run_check("square", f, square, [Case("two", (2,))]), lambda x: x.shape)
    assert "raised AttributeError: 'int' object has no attribute 'shape'; input 2" in message
    assert "expected your function or class" in diagnosis(lambda f: run_check("square", f, square, []), None)


def test_the_student_cannot_change_the_reference_s_input():
    def mutating(x):
        x[0] = 99
        return x.sum()

    run_check("sum", mutating, lambda x: x.sum(), [Case("ones", (torch.ones(3),))],
              compare=lambda got, expected: None if got == 99 + 2 and expected == 3 else "changed")


def test_difference_compares_tensors_arrays_numbers_and_nan():
    assert difference(torch.tensor([1.0, float("nan")]), np.array([1.0, np.nan])) is None
    assert difference(torch.zeros(2, 3), torch.zeros(3, 2)) == "shape (2, 3), expected (3, 2)"
    assert difference([1, 2], (1, 2)) is None and difference((1,), (1, 2)) == "1 values, expected 2"
    assert difference(torch.tensor(0.5), 0.5) is None and difference(float("nan"), 0.5) == "nan, expected 0.5"
    assert difference(True, 1) is not None and difference("a", 1) == "returned str, expected a number"


def test_checks_import_no_jupyter_or_plotting_package():
    code = ("import sys, seglib.exercises; bad = {'matplotlib', 'IPython', 'ipywidgets', 'ipykernel'} "
            "& set(sys.modules); assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# Notebook 00: the confusion matrix
def test_confusion_matrix_check_accepts_the_solution(capsys):
    check_confusion_matrix(solution(NB, "confusion_matrix"))
    assert capsys.readouterr().out.endswith("all 6 cases pass\n")


def transposed(pred, target, num_classes, ignore_index=255):
    valid = target != ignore_index
    return torch.bincount(num_classes * pred[valid] + target[valid], minlength=num_classes ** 2).view(
        num_classes, num_classes)


def void_kept(pred, target, num_classes, ignore_index=255):
    return torch.bincount((num_classes * target + pred).flatten(), minlength=num_classes ** 2).view(
        num_classes, num_classes)


def void_clamped(pred, target, num_classes, ignore_index=255):
    target = target.clamp(max=num_classes - 1)
    return torch.bincount((num_classes * target + pred).flatten(), minlength=num_classes ** 2).view(
        num_classes, num_classes)


def no_minlength(pred, target, num_classes, ignore_index=255):
    valid = target != ignore_index
    return torch.bincount(num_classes * target[valid] + pred[valid]).view(num_classes, -1)


def off_by_one(pred, target, num_classes, ignore_index=255):
    valid = target != ignore_index
    return torch.bincount(num_classes * target[valid] + pred[valid] + 1, minlength=num_classes ** 2 + 1)[
        :num_classes ** 2].view(num_classes, num_classes)


@pytest.mark.parametrize("wrong, says", [
    (transposed, "rows and columns are swapped"),
    (void_kept, "void pixels are counted"),
    (void_clamped, "void pixels are counted"),
    (no_minlength, "minlength=num_classes ** 2"),
    (off_by_one, "case 1 (2x2 maps, no void, 2 classes), the smallest that fails: wrong values"),
])
def test_confusion_matrix_check_names_the_mistake(wrong, says):
    assert says in diagnosis(check_confusion_matrix, wrong)


# Notebook 00: IoU from the matrix
def test_iou_check_accepts_the_solution(capsys):
    check_iou(solution(NB, "iou_from_confusion"))
    assert capsys.readouterr().out.endswith("all 5 cases pass\n")


def parts(matrix):
    matrix = torch.as_tensor(matrix).double()
    tp = matrix.diag()
    return tp, matrix.sum(0) - tp, matrix.sum(1) - tp


def absent_as_one(matrix):
    tp, fp, fn = parts(matrix)
    iou = torch.where(tp + fp + fn == 0, torch.ones_like(tp), tp / (tp + fp + fn))
    return iou, iou.mean().item()


def absent_as_zero(matrix):
    tp, fp, fn = parts(matrix)
    iou = tp / (tp + fp + fn).clamp(min=1)
    return iou, iou.mean().item()


def plain_mean(matrix):
    tp, fp, fn = parts(matrix)
    iou = tp / (tp + fp + fn)
    return iou, iou.mean().item()


def unlabelled_as_nan(matrix):
    tp, fp, fn = parts(matrix)
    iou = tp / (tp + fp + fn)
    iou[tp + fn == 0] = float("nan")
    return iou, iou.nanmean().item()


def dice(matrix):
    tp, fp, fn = parts(matrix)
    score = 2 * tp / (2 * tp + fp + fn)
    return score, score.nanmean().item()


def precision(matrix):
    tp, fp, fn = parts(matrix)
    return tp / (tp + fp), (tp / (tp + fp)).nanmean().item()


@pytest.mark.parametrize("wrong, says", [
    (absent_as_one, "not 1.0"),
    (absent_as_zero, "not 0.0"),
    (plain_mean, "the mIoU is NaN"),
    (unlabelled_as_nan, "absent from the target but predicted somewhere has IoU 0"),
    (dice, "Dice (F1) score"),
    (precision, "the precision TP / (TP + FP)"),
])
def test_iou_check_names_the_mistake(wrong, says):
    assert says in diagnosis(check_iou, wrong)


# Notebook 00: median-frequency weights
def test_median_frequency_check_accepts_the_solution(capsys):
    check_median_frequency(solution(NB, "median_frequency_weights"))
    assert capsys.readouterr().out.endswith("all 4 cases pass\n")


def over_all_pixels(pixels, image_pixels):
    freq = pixels / image_pixels.max()
    weights = np.zeros(len(pixels))
    weights[pixels > 0] = np.median(freq[pixels > 0]) / freq[pixels > 0]
    return weights


def inverted(pixels, image_pixels):
    present = pixels > 0
    freq = pixels[present] / image_pixels[present]
    weights = np.zeros(len(pixels))
    weights[present] = freq / np.median(freq)
    return weights


def absent_divided(pixels, image_pixels):
    with np.errstate(divide="ignore", invalid="ignore"):
        freq = pixels / image_pixels
        return np.nanmedian(freq) / freq


def median_with_absent(pixels, image_pixels):
    freq = np.divide(pixels, image_pixels, out=np.zeros(len(pixels)), where=image_pixels > 0)
    weights = np.zeros(len(pixels))
    weights[pixels > 0] = np.median(freq) / freq[pixels > 0]
    return weights


@pytest.mark.parametrize("wrong, says", [
    (over_all_pixels, "not by the pixels of all images"),
    (inverted, "upside down"),
    (absent_divided, "weight 0, not inf or NaN"),
    (median_with_absent, "the median is taken over the classes that appear only"),
])
def test_median_frequency_check_names_the_mistake(wrong, says):
    assert says in diagnosis(check_median_frequency, wrong)
