"""The dataset registry, the synthetic dataset, paired transforms and class statistics."""

import hashlib

import numpy as np
import pytest
import torch
from torchvision import tv_tensors

from seglib.data import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    class_pixel_counts,
    get_dataset,
    list_datasets,
    median_frequency_weights,
    train_transform,
)
from seglib.data.scenes import CLASSES, COLORS


def digest(item):
    image, mask = item
    return hashlib.sha256(image.tobytes() + mask.tobytes()).hexdigest()[:16]


def test_registry_errors_name_the_valid_choices():
    assert "synthetic" in list_datasets()
    with pytest.raises(ValueError, match="unknown dataset 'cityscape'; valid names: .*synthetic"):
        get_dataset("cityscape", "train")
    with pytest.raises(ValueError, match="no split 'training'; valid splits: train, val, test"):
        get_dataset("synthetic", "training")
    with pytest.raises(ValueError, match="image_size must be"):
        get_dataset("synthetic", "train", image_size=(96,))
    with pytest.raises(ValueError, match="length must be"):
        get_dataset("synthetic", "train", length=0)


def test_items_follow_the_contract():
    data = get_dataset("synthetic", "val", image_size=(64, 96), length=5)
    assert data.classes == CLASSES and data.colors == COLORS and data.ignore_index == 255
    assert data.num_classes == 9 and len(data) == 5
    image, mask = data[0]
    assert image.shape == (3, 64, 96) and image.dtype == torch.float32
    assert mask.shape == (64, 96) and mask.dtype == torch.int64
    assert set(mask.unique().tolist()) <= set(range(9)) | {255}
    raw_image, raw_mask = data.load(0)
    expected = (torch.from_numpy(raw_image).permute(2, 0, 1) / 255 - torch.tensor(IMAGENET_MEAN)[:, None, None]) \
        / torch.tensor(IMAGENET_STD)[:, None, None]
    torch.testing.assert_close(image, expected)  # normalised with the ImageNet statistics
    assert torch.equal(mask, torch.from_numpy(raw_mask).long())  # val: no augmentation
    with pytest.raises(IndexError):
        data[5]


# Stored digests: the same (seed, split, index) must give the same bytes on every run with
# the pinned library versions (constraints.txt).  A change here changes every notebook's output.
STORED = {("train", 0): "04f7fee848ce7714", ("train", 1): "5c17e60c55556a6f", ("val", 0): "d0ef1e83193322f3"}


@pytest.mark.parametrize("split,index", list(STORED))
def test_items_are_deterministic(split, index):
    a = get_dataset("synthetic", split).load(index)
    b = get_dataset("synthetic", split).load(index)
    assert digest(a) == digest(b) == STORED[(split, index)]


def test_seed_and_size_options():
    base = get_dataset("synthetic", "train").load(0)
    assert digest(get_dataset("synthetic", "train", seed=1).load(0)) != digest(base)
    image, mask = get_dataset("synthetic", "train", image_size=(256, 512)).load(0)
    assert image.shape == (256, 512, 3) and mask.shape == (256, 512)


def test_splits_never_share_scenes():
    digests = {split: {digest(get_dataset("synthetic", split, image_size=(32, 32)).load(i)) for i in range(150)}
               for split in ("train", "val", "test")}
    assert all(len(d) == 150 for d in digests.values())
    assert not digests["train"] & digests["val"] and not digests["train"] & digests["test"]
    assert not digests["val"] & digests["test"]


def blocks_pair(seed=0, size=(48, 64), block=8):
    """A mask of 8x8 blocks of random classes and an image that is exactly its colours."""
    rng = np.random.default_rng(seed)
    grid = rng.integers(0, 9, (size[0] // block, size[1] // block))
    mask = np.kron(grid, np.ones((block, block), dtype=np.int64))
    image = np.array(COLORS, dtype=np.uint8)[mask]
    return (tv_tensors.Image(torch.from_numpy(image).permute(2, 0, 1)),
            tv_tensors.Mask(torch.from_numpy(mask)))


def decode(image):
    """Nearest palette colour of each pixel -> class index."""
    rgb = image.permute(1, 2, 0).reshape(-1, 1, 3).float()
    return (rgb - torch.tensor(COLORS).float()).norm(dim=2).argmin(1).reshape(image.shape[1:])


@pytest.mark.parametrize("seed", range(4))
def test_paired_transforms_keep_image_and_mask_aligned(seed):
    torch.manual_seed(seed)
    image, mask = blocks_pair(seed)
    out_image, out_mask = train_transform((40, 56), scale=(0.6, 1.6), jitter=0)(image, mask)
    assert out_image.shape[-2:] == out_mask.shape == (40, 56)
    assert set(out_mask.unique().tolist()) <= set(range(9)) | {255}  # nearest: no blended labels
    # away from block edges (where the image is blended) the image's colour gives back the label
    m = out_mask.as_subclass(torch.Tensor)
    padded = torch.nn.functional.pad(m[None, None].float(), (1, 1, 1, 1), mode="replicate")[0, 0]
    interior = torch.ones_like(m, dtype=torch.bool)
    for dy in range(3):
        for dx in range(3):
            interior &= padded[dy:dy + m.shape[0], dx:dx + m.shape[1]] == m
    interior &= m != 255
    assert interior.sum() > 0.2 * (m != 255).sum()
    assert torch.equal(decode(out_image)[interior], m[interior])


def test_crop_pads_masks_with_ignore_and_jitter_leaves_masks_alone():
    image, mask = blocks_pair()
    out_image, out_mask = train_transform((64, 80), scale=None, hflip=0, jitter=0.5)(image, mask)
    assert (out_mask == 255).sum() == 64 * 80 - 48 * 64  # padding is ignore, never a class
    kept = out_mask != 255
    assert torch.equal(out_mask[kept].sort().values, mask.flatten().sort().values)


def test_seeded_items_replay_their_augmentation():
    data = get_dataset("synthetic", "train", length=4, augment=True)
    a, b, c = data[(1, 42)], data[(1, 42)], data[(1, 43)]
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


class MaskList:
    """A stand-in dataset with hand-written masks (only ``load`` and ``num_classes`` are used)."""

    num_classes = 3

    def __init__(self, masks):
        self.masks = [np.array(m, dtype=np.uint8) for m in masks]

    def __len__(self):
        return len(self.masks)

    def load(self, index):
        return None, self.masks[index]


def test_median_frequency_weights_against_a_hand_computation():
    data = MaskList([[[0, 0, 0, 1]], [[0, 0, 255, 255]], [[2, 2, 2, 1]]])
    pixels, image_pixels = class_pixel_counts(data)
    assert pixels.tolist() == [5, 2, 3] and image_pixels.tolist() == [8, 8, 4]
    freq = np.array([5 / 8, 2 / 8, 3 / 4])
    np.testing.assert_allclose(median_frequency_weights(data), np.median(freq) / freq, rtol=1e-6)


def test_class_weights_of_the_synthetic_data_favour_thin_classes():
    weights = median_frequency_weights(get_dataset("synthetic", "train", length=60))
    thin = [CLASSES.index(c) for c in ("pole", "traffic sign", "person")]
    big = [CLASSES.index(c) for c in ("road", "building", "sky")]
    assert weights[thin].min() > 2 * weights[big].max()
