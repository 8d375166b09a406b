"""BatchAugment: paired, seeded augmentation of a whole batch on its device."""

import pytest
import torch

from seglib.batch_augment import BatchAugment


def batch(n=6, height=12, width=16, num_classes=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(n, 3, height, width, generator=g)
    masks = torch.randint(0, num_classes, (n, height, width), generator=g)
    masks[:, 0] = 255  # a void row
    return images, masks


def test_flip_moves_image_and_mask_together():
    images, masks = batch()
    augment = BatchAugment(scale=None, hflip=0.5, jitter=0)
    out_images, out_masks = augment(images, masks, seed=1)
    flip = augment.draw(len(images), seed=1)["flip"]
    assert flip.any() and not flip.all()  # this seed draws both cases
    torch.testing.assert_close(out_images[flip], images[flip].flip(-1), atol=1e-5, rtol=0)
    torch.testing.assert_close(out_images[~flip], images[~flip], atol=1e-5, rtol=0)
    assert torch.equal(out_masks[flip], masks[flip].flip(-1))
    assert torch.equal(out_masks[~flip], masks[~flip])


def test_scaled_masks_hold_only_their_labels_or_ignore():
    images, masks = batch(num_classes=3)
    masks[masks == 1] = 4  # labels 0, 2, 4 and 255: blending would create 1 or 3
    augment = BatchAugment(scale=(0.5, 1.5))
    _, out_masks = augment(images, masks, seed=0)
    assert set(out_masks.unique().tolist()) <= {0, 2, 4, 255}
    assert (out_masks == 255).float().mean() > (masks == 255).float().mean()  # zoomed-out items are padded


def test_same_seed_same_output_and_seeds_differ():
    images, masks = batch()
    augment = BatchAugment()
    a, b, c = augment(images, masks, 7), augment(images, masks, 7), augment(images, masks, 8)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0]) and not torch.equal(a[1], c[1])


def test_shapes_dtypes_and_inputs_are_kept():
    images, masks = batch()
    before = images.clone(), masks.clone()
    out_images, out_masks = BatchAugment()(images, masks, seed=0)
    assert out_images.shape == images.shape and out_images.dtype == torch.float32
    assert out_masks.shape == masks.shape and out_masks.dtype == torch.int64
    assert torch.equal(images, before[0]) and torch.equal(masks, before[1])
    bf16, _ = BatchAugment()(images.bfloat16(), masks, seed=0)
    assert bf16.dtype == torch.bfloat16


def test_no_augmentation_is_the_identity():
    images, masks = batch()
    out_images, out_masks = BatchAugment(scale=None, hflip=0, jitter=0)(images, masks, seed=3)
    torch.testing.assert_close(out_images, images, atol=1e-5, rtol=0)
    assert torch.equal(out_masks, masks)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    images, masks = batch()
    augment = BatchAugment()
    cpu = augment(images, masks, seed=5)
    gpu = augment(images.cuda(), masks.cuda(), seed=5)
    assert gpu[0].is_cuda and gpu[1].is_cuda
    torch.testing.assert_close(gpu[0].cpu(), cpu[0], atol=1e-4, rtol=0)
    assert (gpu[1].cpu() != cpu[1]).float().mean() < 0.01  # nearest may round a half-pixel the other way


def window_offset(out, full):
    """The (top, left) at which ``out`` is a window of ``full``, or None."""
    h, w = out.shape[-2:]
    for top in range(full.shape[-2] - h + 1):
        for left in range(full.shape[-1] - w + 1):
            if torch.equal(full[..., top:top + h, left:left + w], out):
                return top, left
    return None


def test_crop_cuts_windows_at_the_images_scale():
    images, masks = batch(height=12, width=16)
    images[:, 0] = torch.arange(16.0)  # channel 0: the column, channel 1: the row
    images[:, 1] = torch.arange(12.0)[:, None]
    out_images, out_masks = BatchAugment(scale=None, hflip=0, jitter=0, crop=(6, 8))(images, masks, seed=2)
    assert out_images.shape == (6, 3, 6, 8) and out_masks.shape == (6, 6, 8)
    offsets = [window_offset(out, full) for out, full in zip(out_masks, masks)]
    assert None not in offsets  # each mask is a 6x8 window of its own mask, not a shrunk copy
    assert len(set(offsets)) > 1  # at different places
    columns, rows = out_images[:, 0], out_images[:, 1]
    torch.testing.assert_close(columns.diff(dim=-1), torch.ones(6, 6, 7), atol=1e-4, rtol=0)  # one pixel apart
    torch.testing.assert_close(rows.diff(dim=-2), torch.ones(6, 5, 8), atol=1e-4, rtol=0)
    for (top, left), item in zip(offsets, out_images):  # the image window is where the mask's is
        assert abs(item[0, 0, 0] - left) <= 0.5 and abs(item[1, 0, 0] - top) <= 0.5


def test_crop_with_scale_keeps_labels_and_a_crop_larger_than_the_images_is_an_error():
    images, masks = batch(height=12, width=16, num_classes=3)
    _, out_masks = BatchAugment(scale=(0.5, 2.0), crop=(8, 8))(images, masks, seed=0)
    assert out_masks.shape == (6, 8, 8) and set(out_masks.unique().tolist()) <= {0, 1, 2, 255}
    with pytest.raises(ValueError, match="larger than the images"):
        BatchAugment(crop=(16, 16))(images, masks, seed=0)
