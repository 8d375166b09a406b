"""ConfusionMatrix against a hand-computed case, numpy, and torchmetrics (the oracle)."""

import math

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
