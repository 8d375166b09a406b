"""Inference and metrics on real files from ../shared/data (found through SEGLIB_SHARED_DATA).

The real-dataset loaders come with their own tests; these check that what the skeleton
offers (predict at any size, the confusion matrix with a dataset's own void index)
works on real CamVid frames at their native 480x360, which no model divisor fits.
"""

import cv2
import numpy as np
import pytest
import torch

from seglib import ConfusionMatrix, create_model, predict


def read_camvid11(root, split, stem):
    image = cv2.cvtColor(cv2.imread(str(root / "camvid11" / split / f"{stem}.png")), cv2.COLOR_BGR2RGB)
    label = cv2.imread(str(root / "camvid11" / f"{split}annot" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
    return image, label


def test_predict_and_score_real_camvid_frames_at_native_size(shared_data):
    stems = (shared_data / "camvid11" / "val.txt").read_text().split()[:2]
    torch.manual_seed(0)
    model = create_model("unet", num_classes=11).eval()
    cm = ConfusionMatrix(11, ignore_index=11)  # the SegNet release labels void as 11
    for stem in stems:
        image, label = read_camvid11(shared_data, "val", stem)
        assert image.shape == (360, 480, 3) and label.shape == (360, 480)
        assert label.max() <= 11
        pred = predict(model, image)  # 360 is not a multiple of 16: padded, then cropped
        assert pred.shape == (360, 480)
        cm.update(pred[None], torch.from_numpy(label.astype(np.int64))[None])
    result = cm.compute()
    scored = sum(int((read_camvid11(shared_data, "val", s)[1] != 11).sum()) for s in stems)
    assert result["matrix"].sum() == scored  # void pixels are never counted
    matrix = result["matrix"]
    assert result["pixel_acc"] == pytest.approx(float(matrix.diagonal().sum() / matrix.sum()))


# -- The real-dataset loaders on the real files -------------------------------------------------

def raw_label(path):
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def test_camvid11_counts_label_values_and_class_frequencies(shared_data):
    from seglib.data import class_pixel_counts, get_dataset
    train = get_dataset("camvid", "train", root=shared_data / "camvid11")
    val = get_dataset("camvid", "val", root=shared_data / "camvid11")
    assert (len(train), len(val)) == (367, 101)
    assert train.classes[0] == "Sky" and train.classes[10] == "Bicyclist"
    counts = np.zeros(256, dtype=np.int64)
    for _, label_path in train.files:  # independent: raw values by plain numpy
        counts += np.bincount(raw_label(label_path).ravel(), minlength=256)
    assert set(np.flatnonzero(counts)) == set(range(12))  # 0..10 and 11 = void, nothing else
    pixels, _ = class_pixel_counts(train)
    np.testing.assert_array_equal(pixels, counts[:11])
    share = pixels / pixels.sum()
    assert share[3] > 0.25 and share.argmax() == 3  # road is the largest class
    assert share[[2, 6, 9, 10]].max() < 0.02  # pole, sign, pedestrian, bicyclist are rare
    mask = train.load(0)[1]
    assert mask.shape == (360, 480) and set(np.unique(mask)) <= set(range(11)) | {255}


def test_camvid11_median_frequency_weights_versus_segnet(shared_data):
    """Our weights, computed as SegNet describes, are within 20 % of SegNet's published ones for
    every class but SignSymbol, which SegNet weights 2.5x higher (a fact the notebook shows)."""
    from seglib.data import get_dataset, median_frequency_weights
    from seglib.data.camvid import CLASSES, SEGNET_WEIGHTS
    weights = median_frequency_weights(get_dataset("camvid", "train", root=shared_data / "camvid11"))
    ratio = np.array(SEGNET_WEIGHTS) / weights
    sign = CLASSES.index("SignSymbol")
    assert 2.3 < ratio[sign] < 2.7
    others = np.delete(ratio, sign)
    assert (np.abs(others - 1) < 0.2).all(), dict(zip(CLASSES, ratio.round(2)))


def test_camvid32_sample_index_and_colour_decoding_agree(shared_data, tmp_path):
    from seglib.data import get_dataset
    from seglib.data.camvid32 import TABLE
    tiny = shared_data / "camvid_tiny"
    index = get_dataset("camvid32", "train", root=tiny)
    index_val = get_dataset("camvid32", "val", root=tiny)
    assert len(index) + len(index_val) == 100 and index.options()["labels"] == "index"
    # The same labels rendered to RGB with the colour table, in the original colour layout.
    palette = np.array([color for _, color in TABLE], dtype=np.uint8)
    (tmp_path / "LabeledApproved_full").mkdir()
    (tmp_path / "701_StillsRaw_full").symlink_to(tiny / "images")
    for image_path, label_path in index.files + index_val.files:
        stored = raw_label(label_path)
        cv2.imwrite(str(tmp_path / "LabeledApproved_full" / f"{image_path.stem}_L.png"),
                    cv2.cvtColor(palette[stored], cv2.COLOR_RGB2BGR))
    (tmp_path / "label_colors.txt").write_text("".join(f"{r} {g} {b}\t{n}\n" for n, (r, g, b) in TABLE))
    for split, by_index in (("train", index), ("val", index_val)):
        by_color = get_dataset("camvid32", split, root=tmp_path)
        assert by_color.options()["labels"] == "color" and len(by_color) == len(by_index)
        for i in range(len(by_index)):
            np.testing.assert_array_equal(by_color.load(i)[1], by_index.load(i)[1])
    void = [i for i, (name, _) in enumerate(TABLE) if name == "Void"]
    assert void == [30]


def test_kitti_road_frame_pixel_counts(shared_data):
    from seglib.data import get_dataset
    root = shared_data / "kitti_road_sample"
    dataset = get_dataset("kitti_road", "trainval", root=root, category="um_lane")
    assert len(dataset) == 1 and dataset.files[0][0].name == "um_000000.png"
    rgb = cv2.cvtColor(raw_label(root / "data_road/training/gt_image_2/um_lane_000000.png"), cv2.COLOR_BGR2RGB)
    road = (rgb == (255, 0, 255)).all(-1).sum()
    not_road = (rgb == (255, 0, 0)).all(-1).sum()
    void = (rgb == 0).all(-1).sum()
    assert road + not_road + void == rgb.shape[0] * rgb.shape[1]  # only the three documented colours
    image, mask = dataset.load(0)
    assert image.shape == (375, 1242, 3)
    assert [(mask == 1).sum(), (mask == 0).sum(), (mask == 255).sum()] == [road, not_road, void]
