"""DiceLoss and FocalLoss against plain formulas, and every make_loss name inside fit."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seglib import fit
from seglib.losses import DiceLoss, FocalLoss
from seglib.train import LOSSES, make_loss


def random_case(seed=0, num_classes=4, shape=(2, 5, 6)):
    """Random logits (N, C, H, W) and labels (N, H, W) with some void (255) pixels."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape[0], num_classes, *shape[1:], generator=g)
    target = torch.randint(num_classes, shape, generator=g)
    target[torch.rand(shape, generator=g) < 0.2] = 255
    return logits, target


def dice_loss_reference(logits, target, smooth=1.0, ignore_index=255):
    """Soft Dice in numpy, one class at a time, over the classes in the target or the argmax."""
    logits, target = logits.numpy().astype(np.float64), target.numpy()
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # (N, C, H, W)
    valid = target != ignore_index
    argmax = probs.argmax(axis=1)
    scores = []
    for c in range(logits.shape[1]):
        p = probs[:, c][valid]
        g = (target[valid] == c).astype(np.float64)
        if g.sum() == 0 and (argmax[valid] == c).sum() == 0:
            continue  # absent from the target and the prediction: left out of the mean
        scores.append((2 * (p * g).sum() + smooth) / (p.sum() + g.sum() + smooth))
    return 1 - np.mean(scores)


def test_dice_matches_a_numpy_computation():
    for seed in range(3):
        logits, target = random_case(seed)
        assert DiceLoss()(logits, target).item() == pytest.approx(dice_loss_reference(logits, target), rel=1e-5)


def test_dice_leaves_out_classes_absent_from_target_and_prediction():
    target = torch.tensor([[[0, 0, 1, 1]]])                  # (1, 1, 4); class 2 absent
    logits = 10.0 * F.one_hot(target, 3).permute(0, 3, 1, 2).float()
    logits[:, 2] = -10.0                                      # class 2 never predicted
    two_class_loss = DiceLoss(smooth=0.0)(logits, target).item()
    assert two_class_loss == pytest.approx(dice_loss_reference(logits, target, smooth=0.0), abs=1e-6)
    assert two_class_loss < 1e-3                              # a third class scoring ~0 would give ~1/3


def test_dice_of_a_perfect_prediction_is_near_zero():
    _, target = random_case()
    logits = 20.0 * F.one_hot(target.clamp(max=3), 4).permute(0, 3, 1, 2).float()
    assert DiceLoss()(logits, target).item() < 1e-6


def test_focal_with_gamma_zero_is_cross_entropy():
    logits, target = random_case()
    weight = torch.tensor([1.0, 2.0, 0.5, 3.0])
    for w in (None, weight):
        expected = F.cross_entropy(logits, target, weight=w, ignore_index=255)
        torch.testing.assert_close(FocalLoss(gamma=0, weight=w)(logits, target), expected)


def test_focal_loss_of_one_pixel_by_hand():
    logits = torch.tensor([2.0, 0.0, -1.0]).reshape(1, 3, 1, 1)
    p_true = math.exp(2) / (math.exp(2) + 1 + math.exp(-1))
    expected = (1 - p_true) ** 2 * -math.log(p_true)
    assert FocalLoss()(logits, torch.zeros(1, 1, 1, dtype=torch.int64)).item() == pytest.approx(expected)


@pytest.mark.parametrize("loss_fn", [DiceLoss(), FocalLoss(weight=[1.0, 2.0, 0.5, 3.0])], ids=["dice", "focal"])
def test_void_pixels_change_nothing_and_gradients_flow(loss_fn):
    logits, target = random_case()
    void = (target == 255).unsqueeze(1).expand_as(logits)    # (N, C, H, W)
    changed = logits.masked_fill(void, 50.0).requires_grad_()
    logits.requires_grad_()
    loss = loss_fn(logits, target)
    torch.testing.assert_close(loss_fn(changed, target), loss)
    loss.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    assert (logits.grad[void] == 0).all()


@pytest.mark.parametrize("loss_fn", [DiceLoss(), FocalLoss()], ids=["dice", "focal"])
def test_half_precision_logits_give_a_float32_loss(loss_fn):
    logits, target = random_case()
    low = logits.to(torch.bfloat16)
    loss = loss_fn(low, target)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, loss_fn(low.float(), target))


def test_make_loss_names():
    logits, target = random_case()
    weight = [1.0, 2.0, 0.5, 3.0]
    cross_entropy = F.cross_entropy(logits, target, weight=torch.tensor(weight), ignore_index=255)
    torch.testing.assert_close(make_loss("cross_entropy", weight)(logits, target), cross_entropy)
    torch.testing.assert_close(make_loss("cross_entropy+dice", weight)(logits, target),
                               cross_entropy + DiceLoss()(logits, target))
    torch.testing.assert_close(make_loss("focal", weight)(logits, target), FocalLoss(weight=weight)(logits, target))
    with pytest.raises(ValueError, match="unknown loss 'dcie'; valid: 'cross_entropy', 'dice', 'focal'"):
        make_loss("dcie")


@pytest.mark.parametrize("loss", LOSSES)
def test_fit_trains_with_each_loss(stripes, tiny_unet, loss):
    history = fit(tiny_unet(), stripes(4, image_size=(16, 16)), steps=2, batch_size=2, loss=loss,
                  class_weights=[1.0, 2.0, 1.0], progress=False)
    assert history["step"] == [2] and math.isfinite(history.last["train_loss"])
