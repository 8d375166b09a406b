"""ConfusionMatrix against a hand-computed case, numpy, and torchmetrics (the oracle)."""

import importlib
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torchmetrics.classification import MulticlassConfusionMatrix, MulticlassJaccardIndex

from seglib import ConfusionMatrix

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def test_hand_computed_case():
    # 3 classes; class 2 never appears (NaN IoU, left out of the mean); 255 is dropped.
    target = torch.tensor([[0, 0, 0, 1], [1, 1, 255, 255]])
    pred = torch.tensor([[0, 0, 1, 1], [1, 0, 2, 0]])
    cm = ConfusionMatrix(3)
    cm.update(pred, target)
    out = cm.compute()
    assert out["matrix"].tolist() == [[2, 1, 0], [1, 2, 0], [0, 0, 0]]
    # class 0: TP 2, FP 1, FN 1 -> 2/4; class 1: TP 2, FP 1, FN 1 -> 2/4
    assert out["iou"][:2].tolist() == [0.5, 0.5]
    assert math.isnan(out["iou"][2])
    assert out["miou"] == 0.5
    assert out["pixel_acc"] == pytest.approx(4 / 6)
    assert out["mean_acc"] == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert out["fwiou"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.5)


def test_predicted_but_absent_class_has_zero_iou():
    cm = ConfusionMatrix(3)
    cm.update(torch.tensor([[0, 2]]), torch.tensor([[0, 0]]))
    iou = cm.compute()["iou"]
    assert iou[0] == 0.5 and iou[2] == 0.0 and math.isnan(iou[1])


def random_case(seed, num_classes=6, shape=(4, 33, 47)):
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, num_classes - 1, shape, generator=g)  # the last class never appears
    target[torch.rand(shape, generator=g) < 0.1] = 255
    pred = torch.where(torch.rand(shape, generator=g) < 0.6, target.clamp(max=num_classes - 2),
                       torch.randint(0, num_classes - 2, shape, generator=g))  # never predicts the last two
    return pred, target


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_torchmetrics(seed, device):
    num_classes = 6
    pred, target = (t.to(device) for t in random_case(seed, num_classes))
    cm = ConfusionMatrix(num_classes)
    for p, t in zip(pred, target):  # accumulated over batches...
        cm.update(p[None], t[None])
    out = cm.compute()
    oracle_matrix = MulticlassConfusionMatrix(num_classes, ignore_index=255).to(device)(pred, target)
    oracle_iou = MulticlassJaccardIndex(num_classes, average=None, ignore_index=255,
                                        zero_division=float("nan")).to(device)(pred, target)
    assert torch.equal(out["matrix"], oracle_matrix.cpu())
    torch.testing.assert_close(out["iou"].float(), oracle_iou.cpu().float(), equal_nan=True)
    assert math.isnan(out["iou"][-1])  # absent class: NaN, not 1.0 and not 0.0
    assert out["miou"] == pytest.approx(float(np.nanmean(oracle_iou.cpu().numpy())))


def test_other_metrics_against_numpy():
    pred, target = random_case(7)
    cm = ConfusionMatrix(6)
    cm.update(pred, target)
    out = cm.compute()
    t, p = target.numpy().ravel(), pred.numpy().ravel()
    keep = t != 255
    t, p = t[keep], p[keep]
    assert out["pixel_acc"] == pytest.approx(np.mean(t == p))
    recalls = [np.mean(p[t == c] == c) for c in range(6) if np.any(t == c)]
    assert out["mean_acc"] == pytest.approx(np.mean(recalls))
    fw = 0.0
    for c in range(6):
        inter, union = np.sum((t == c) & (p == c)), np.sum((t == c) | (p == c))
        if np.any(t == c):
            fw += np.mean(t == c) * inter / union
    assert out["fwiou"] == pytest.approx(fw)


def test_logits_equal_indices_and_reset():
    pred, target = random_case(3)
    logits = torch.nn.functional.one_hot(pred, 6).permute(0, 3, 1, 2).float()  # (N, C, H, W)
    a, b = ConfusionMatrix(6), ConfusionMatrix(6)
    a.update(logits, target)
    b.update(pred, target)
    assert torch.equal(a.compute()["matrix"], b.compute()["matrix"])
    a.reset()
    assert a.compute()["matrix"].sum() == 0
    assert math.isnan(a.compute()["miou"])


def test_bad_input_is_reported():
    cm = ConfusionMatrix(3)
    with pytest.raises(ValueError, match=r"labels \[7\] are outside 0..2"):
        cm.update(torch.tensor([[0, 1]]), torch.tensor([[0, 7]]))
    with pytest.raises(ValueError, match="does not match"):
        cm.update(torch.zeros(1, 2, 2, dtype=torch.long), torch.zeros(1, 3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="num_classes"):
        ConfusionMatrix(0)


def counted_by_loops(pred, target, num_classes, ignore_index=255):
    """The confusion matrix by a plain loop over the pixels: the independent oracle."""
    mat = np.zeros((num_classes, num_classes), dtype=np.int64)
    for t, p in zip(target.cpu().numpy().ravel().tolist(), pred.cpu().numpy().ravel().tolist()):
        if t != ignore_index:
            mat[t, p] += 1
    return torch.from_numpy(mat)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("seed", range(3))
def test_counts_equal_a_loop_over_the_pixels(seed, device):
    pred, target = (t.to(device) for t in random_case(seed, 6, shape=(2, 17, 23)))
    before = pred.clone(), target.clone()
    cm = ConfusionMatrix(6)
    cm.update(pred, target)
    cm.update(pred[:1], target[:1])  # accumulates
    expected = counted_by_loops(pred, target, 6) + counted_by_loops(pred[:1], target[:1], 6)
    assert torch.equal(cm.compute()["matrix"], expected)
    assert cm.mat.device.type == device
    assert torch.equal(pred, before[0]) and torch.equal(target, before[1])  # the inputs are left alone


@pytest.mark.parametrize("device", DEVICES)
def test_all_ignored_and_empty_inputs_count_nothing(device):
    cm = ConfusionMatrix(4)
    cm.update(torch.full((2, 5, 5), 3, device=device), torch.full((2, 5, 5), 255, device=device))
    empty = torch.zeros(0, 5, 5, dtype=torch.long, device=device)
    cm.update(empty, empty)
    assert torch.equal(cm.compute()["matrix"], torch.zeros(4, 4, dtype=torch.long))
    assert math.isnan(cm.compute()["miou"])


def test_a_single_class():
    target = torch.tensor([[0, 0, 255, 0]])
    cm = ConfusionMatrix(1)
    cm.update(torch.zeros_like(target), target)
    assert cm.compute()["matrix"].tolist() == [[3]] and cm.compute()["miou"] == 1.0


def test_other_ignore_indices():
    target = torch.tensor([[0, 1, 2, 2]])
    pred = torch.tensor([[0, 1, 1, 0]])
    cm = ConfusionMatrix(2, ignore_index=2)  # ignore_index == num_classes: the extra row's own index
    cm.update(pred, target)
    assert cm.compute()["matrix"].tolist() == [[1, 0], [0, 1]]
    cm = ConfusionMatrix(3, ignore_index=-1)
    cm.update(torch.tensor([[0, 2, 1]]), torch.tensor([[0, -1, 1]]))
    assert cm.compute()["matrix"].tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 0]]


@pytest.mark.parametrize("device", DEVICES)
def test_out_of_range_labels_and_predictions_are_reported(device):
    def update(pred, target):
        ConfusionMatrix(3).update(torch.tensor([pred], device=device), torch.tensor([target], device=device))
    with pytest.raises(ValueError, match=r"^labels \[-1, 3, 4, 5, 6\] are outside 0..2 and are not "
                                         r"ignore_index=255: check the dataset's label map or num_classes$"):
        update([0] * 8, [100, 6, 5, 4, 3, -1, 255, 1])  # up to 5 of the bad labels, sorted
    with pytest.raises(ValueError, match=r"labels \[3\] are outside"):
        update([0, 0], [3, 255])  # the label num_classes, next to ignored pixels
    with pytest.raises(ValueError, match=r"labels \[7\] are outside"):
        update([9, 0], [7, 0])  # a bad label is reported before a bad prediction
    for bad_prediction in (3, -1):
        with pytest.raises(ValueError, match=r"^predictions must lie in 0..2$"):
            update([0, bad_prediction], [0, 1])


@pytest.mark.parametrize("device", DEVICES)
def test_bad_predictions_at_ignored_pixels_are_not_counted(device):
    cm = ConfusionMatrix(3)
    cm.update(torch.tensor([[0, 7, -4, 2]], device=device), torch.tensor([[0, 255, 255, 1]], device=device))
    assert cm.compute()["matrix"].tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 0]]


def test_bench_metrics_prints_and_saves_the_three_rows(monkeypatch, tmp_path, capsys):
    benchmarks = Path(__file__).resolve().parents[1] / "benchmarks"
    monkeypatch.syspath_prepend(str(benchmarks))
    threads = torch.get_num_threads()
    try:
        rows = importlib.import_module("bench_metrics").main(
            ["--device", "cpu", "--threads", "1", "--size", "16x16", "--batch", "2", "--repeats", "1",
             "--min-speedup", "0", "--out", str(tmp_path / "bench.md")])
    finally:
        torch.set_num_threads(threads)
    names = [row["implementation"] for row in rows]
    assert len(rows) == 3 and "torchmetrics" in names[0] and "previous" in names[1] and "ConfusionMatrix" in names[2]
    assert all(row["ms"] > 0 and row["speedup"] > 0 for row in rows)
    out = capsys.readouterr().out
    assert all(f"| {name} |" in out for name in names) and "counts identical" in out
    assert all(f"| {name} |" in (tmp_path / "bench.md").read_text() for name in names)


def test_image_metrics_scores_one_image_like_the_matrix():
    from seglib.metrics import image_metrics

    target = np.array([[0, 0, 1], [1, 255, 2]], dtype=np.uint8)
    pred = np.array([[0, 1, 1], [1, 2, 0]], dtype=np.int64)
    metrics = image_metrics(pred, target, num_classes=4)
    assert metrics["pixel_acc"] == pytest.approx(3 / 5)  # the void pixel is not scored
    assert metrics["iou"].tolist()[:3] == pytest.approx([1 / 3, 2 / 3, 0.0]) and math.isnan(metrics["iou"][3])
