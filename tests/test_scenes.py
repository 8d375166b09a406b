"""Tests for seglib.data.scenes: the procedural Cityscapes-like street scenes."""

import hashlib

import numpy as np
import pytest

from seglib.data.scenes import CLASSES, COLORS, VOID, render_scene

THIN = [CLASSES.index(name) for name in ("pole", "traffic sign", "person")]

# sha256(image bytes + mask bytes) of the scenes from seeds SeedSequence([0, k]), k = 0, 1, 2, at 96x128.
# A change here means every scene of the dataset changed: if that is on purpose, look at some renders
# and then paste the new hashes (they may also move if numpy changes its random streams).
EXPECTED_SHA256 = (
    "04f7fee848ce77146edc863b4f40326e84e9a11db7d21075f5cc68234f5d0b68",
    "d0ef1e83193322f383b01cec331fa9c7962c6c4295c209e65e34b123d7f70a9e",
    "ccff077e099708def36ae39d3530533fb08cd3a7a0abf1b958937fb60248e6b1",
)


def scene(k, height=96, width=128):
    return render_scene(np.random.default_rng(np.random.SeedSequence([0, k])), height, width)


def digest(image, mask):
    return hashlib.sha256(image.tobytes() + mask.tobytes()).hexdigest()


def test_api_constants():
    assert len(CLASSES) == len(COLORS) == 9
    assert VOID == 255


def test_same_seed_gives_identical_bytes():
    (image_a, mask_a), (image_b, mask_b) = scene(7), scene(7)
    assert image_a.tobytes() == image_b.tobytes()
    assert mask_a.tobytes() == mask_b.tobytes()


@pytest.mark.parametrize("k", range(3))
def test_scenes_match_stored_hashes(k):
    assert digest(*scene(k)) == EXPECTED_SHA256[k]


def test_different_seeds_give_different_scenes():
    (image_a, mask_a), (image_b, mask_b) = scene(0), scene(1)
    assert not np.array_equal(image_a, image_b)
    assert not np.array_equal(mask_a, mask_b)


@pytest.mark.parametrize("height, width", [(96, 128), (64, 64), (256, 512), (32, 32)])
def test_shapes_dtypes_and_label_values(height, width):
    image, mask = scene(3, height, width)
    assert image.shape == (height, width, 3) and image.dtype == np.uint8
    assert mask.shape == (height, width) and mask.dtype == np.uint8
    assert set(np.unique(mask).tolist()) <= set(range(len(CLASSES))) | {VOID}


def test_class_statistics_over_many_scenes():
    counts, present = np.zeros(256), np.zeros(256)
    for k in range(100):
        _, mask = scene(1000 + k)
        pixels = np.bincount(mask.ravel(), minlength=256)
        counts += pixels
        present += pixels > 0
    share = counts / counts.sum()
    for index, name in enumerate(CLASSES):
        assert present[index] >= 70, f"{name} appears in only {present[index]:.0f} of 100 scenes"
    assert 0.008 < share[THIN].sum() < 0.025, f"thin classes cover {share[THIN].sum():.2%} of pixels"
    assert present[VOID] >= 60 and 0.02 < share[VOID] < 0.12, "void (the ego hood) should be common but small"
    assert share[CLASSES.index("road")] > 0.2, "road should be the largest class"


@pytest.mark.parametrize("height, width", [(31, 128), (96, 8), (0, 0), (-96, 128),
                                           (96.0, 128), ("96", 128), (96, None), (True, 128)])
def test_bad_sizes_raise_value_error(height, width):
    with pytest.raises(ValueError, match="height|width"):
        render_scene(np.random.default_rng(0), height, width)


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="Generator"):
        render_scene(0, 96, 128)


def test_a_small_split_keeps_its_drawn_scenes_and_gives_the_same_bytes():
    from seglib.data import synthetic

    data = synthetic.SyntheticStreets("val", image_size=(32, 64), length=4)
    image, mask = data.load(1)
    assert 1 in data.drawn
    image[:] = 0  # a caller changing what it got does not change the kept scene
    again, mask_again = data.load(1)
    fresh, fresh_mask = data.draw(1)
    assert np.array_equal(again, fresh) and np.array_equal(mask_again, fresh_mask) and again.any()
    big = synthetic.SyntheticStreets("train", image_size=(512, 1024))  # 2000 scenes: 4 GB, over the budget
    assert big.drawn is None and np.array_equal(big.load(0)[1], big.draw(0)[1])
