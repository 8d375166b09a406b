"""BoundaryIoU against a pixel-by-pixel reference, and the behaviour the notebooks rely on."""

import math

import numpy as np
import pytest
import torch

from seglib.boundary import BoundaryIoU, boundary_band
from seglib.metrics import ConfusionMatrix

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def band_reference(mask, d):
    """Pixels of ``mask`` (bool (H, W)) with a pixel outside it, inside the image, at Chebyshev distance <= d."""
    h, w = mask.shape
    band = np.zeros_like(mask)
    for i in range(h):
        for j in range(w):
            near = [mask[y, x] for y in range(h) for x in range(w) if max(abs(y - i), abs(x - j)) <= d]
            band[i, j] = mask[i, j] and not all(near)
    return band


def boundary_iou_reference(pred, target, num_classes, d, ignore_index=255):
    """Per-class boundary IoU over a batch; void pixels belong to no class in either map."""
    pred, target = pred.numpy(), target.numpy()
    iou = []
    for c in range(num_classes):
        intersection = union = 0
        for p, t in zip(pred, target):
            target_band = band_reference(t == c, d)
            pred_band = band_reference((p == c) & (t != ignore_index), d)
            intersection += (target_band & pred_band).sum()
            union += (target_band | pred_band).sum()
        iou.append(intersection / union if union else math.nan)
    return iou


def blocky_case(seed, num_classes=3, shape=(2, 12, 14)):
    """Labels made of 3x2 blocks with some void blocks; a prediction with some blocks wrong."""
    g = torch.Generator().manual_seed(seed)
    n, h, w = shape
    coarse = torch.randint(num_classes, (n, h // 3, w // 2), generator=g)
    target = coarse.repeat_interleave(3, dim=1).repeat_interleave(2, dim=2)  # (N, H, W)
    pred = torch.where(torch.rand(shape, generator=g) < 0.1, torch.randint(num_classes, shape, generator=g), target)
    target[:, :3, 6:10] = 255
    return pred, target


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("d", [1, 2])
def test_matches_a_pixel_by_pixel_reference(d, device):
    for seed in range(2):
        pred, target = blocky_case(seed)
        metric = BoundaryIoU(3, dilation=d)
        metric.update(pred.to(device), target.to(device))
        assert metric.union.device.type == device  # counted where the tensors are
        expected = boundary_iou_reference(pred, target, 3, d)
        np.testing.assert_allclose(metric.compute()["iou"].numpy(), expected)
        assert metric.compute()["miou"] == pytest.approx(np.nanmean(expected))


def test_band_of_one_mask_by_hand():
    mask = torch.zeros(1, 5, 6, dtype=torch.bool)
    mask[:, 1:, :4] = True  # touches the bottom and left image edges: those are not contours
    expected = [[0, 0, 0, 0, 0, 0],
                [1, 1, 1, 1, 0, 0],
                [0, 0, 0, 1, 0, 0],
                [0, 0, 0, 1, 0, 0],
                [0, 0, 0, 1, 0, 0]]
    assert boundary_band(mask, 1)[0].int().tolist() == expected
    assert not boundary_band(torch.ones(1, 4, 4, dtype=torch.bool), 1).any()  # a full image has no contour


def test_perfect_prediction_scores_one_and_logits_are_accepted():
    _, target = blocky_case(0)
    labels = target.clamp(max=2)
    metric = BoundaryIoU(3)
    metric.update(20.0 * torch.nn.functional.one_hot(labels, 3).permute(0, 3, 1, 2), target)  # logits
    out = metric.compute()
    assert out["iou"].tolist() == [1.0, 1.0, 1.0] and out["miou"] == 1.0


def test_a_shifted_square_keeps_its_iou_but_loses_its_boundary_iou():
    target = torch.zeros(1, 64, 64, dtype=torch.int64)
    target[:, 12:52, 12:52] = 1
    pred = target.roll(3, dims=2)  # 3 pixels to the right
    plain, boundary = ConfusionMatrix(2), BoundaryIoU(2)  # d = 2 % of the diagonal = 2 pixels
    plain.update(pred, target)
    boundary.update(pred, target)
    assert boundary.radius(64, 64) == 2
    assert plain.compute()["iou"][1] > 0.85
    assert boundary.compute()["iou"][1] < 0.4


def test_void_pixels_are_in_neither_band():
    pred, target = blocky_case(1)
    void = target == 255
    metric = BoundaryIoU(3, dilation=1)
    metric.update(torch.where(void, 0, target), target)
    reference = metric.compute()["iou"]
    assert reference.tolist() == [1.0, 1.0, 1.0]  # right everywhere but at void pixels
    metric.reset()
    metric.update(torch.where(void, 2, target), target)  # another guess at the void pixels
    assert metric.compute()["iou"].tolist() == reference.tolist()


def test_absent_class_is_nan_and_left_out_of_the_mean():
    target = torch.zeros(1, 8, 8, dtype=torch.int64)
    target[:, :, 4:] = 1
    metric = BoundaryIoU(3, dilation=1)
    metric.update(target, target)
    out = metric.compute()
    assert out["iou"][:2].tolist() == [1.0, 1.0] and math.isnan(out["iou"][2]) and out["miou"] == 1.0
    assert math.isnan(BoundaryIoU(3).compute()["miou"])  # nothing counted yet


def test_two_updates_equal_one_update_of_the_whole_batch():
    pred, target = blocky_case(2, shape=(4, 12, 14))
    whole, parts = BoundaryIoU(3), BoundaryIoU(3)
    whole.update(pred, target)
    parts.update(pred[:1], target[:1])
    parts.update(pred[1:], target[1:])
    assert parts.intersection.tolist() == whole.intersection.tolist()
    assert parts.union.tolist() == whole.union.tolist()


def test_default_band_width_and_label_errors():
    metric = BoundaryIoU(3)
    assert metric.radius(10, 10) == 1 and metric.radius(128, 256) == 6 and metric.radius(1024, 2048) == 46
    assert BoundaryIoU(3, dilation=5).radius(1024, 2048) == 5
    with pytest.raises(ValueError, match="must lie in 0..2"):
        metric.update(torch.zeros(1, 4, 4, dtype=torch.int64), torch.full((1, 4, 4), 7))
    with pytest.raises(ValueError, match="does not match"):
        metric.update(torch.zeros(1, 4, 4), torch.zeros(1, 4, 5))


def test_boundary_miou_of_a_model_equals_the_metric_updated_image_by_image(stripes, tiny_unet):
    import seglib

    data, model = stripes(length=6, image_size=(32, 32)), tiny_unet(num_classes=3)
    metric = BoundaryIoU(data.num_classes, data.ignore_index)
    for index in range(len(data)):
        image, mask = data[index]
        metric.update(seglib.predict(model, image)[None], mask[None])
    assert seglib.boundary_miou(model, data, batch_size=4) == pytest.approx(metric.compute()["miou"])
    assert model.training  # left as it was
