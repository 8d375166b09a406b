"""Tiny copies of each real dataset, written in the exact on-disk layout of its archive.

Every builder writes random images and labels into ``root`` and returns what it wrote
(the raw label arrays, by file stem), so tests can compare what a loader returns with an
independent computation on the raw values.
"""

import json
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from seglib.data.camvid32 import TABLE as CAMVID32_TABLE
from seglib.data.labels import voc_colormap

SIZE = (12, 16)  # (H, W): small, and not square, so a transposed array is caught


def rng_for(*key):
    return np.random.default_rng([zlib.crc32(k.encode()) if isinstance(k, str) else k for k in key])


def random_image(rng, size=SIZE):
    return rng.integers(0, 256, (*size, 3), dtype=np.uint8)


def write_rgb(path, rgb):
    """An RGB uint8 array -> PNG or JPEG (OpenCV writes BGR)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def write_grey(path, values):
    """An 8-bit (or 16-bit) single-channel PNG of the stored values."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert values.dtype in (np.uint8, np.uint16)
    assert cv2.imwrite(str(path), values)


def write_palette(path, indices, palette):
    """A palette ("P") PNG: indices stored, colours only in the palette (the VOC format)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(indices.astype(np.uint8), mode="P")
    image.putpalette([c for rgb in palette for c in rgb])
    image.save(path)


def make_camvid(root, counts=(("train", 3), ("val", 2), ("test", 2)), size=SIZE):
    """SegNet's CamVid: ``<split>/<stem>.png`` and ``<split>annot/<stem>.png`` (0..10, 11 void)."""
    labels = {}
    for split, count in counts:
        for i in range(count):
            stem = f"0001TP_{split}{i:04d}"
            rng = rng_for("camvid", split, i)
            write_rgb(Path(root) / split / f"{stem}.png", random_image(rng, size))
            labels[stem] = rng.integers(0, 12, size, dtype=np.uint8)  # 11 = void
            write_grey(Path(root) / f"{split}annot" / f"{stem}.png", labels[stem])
    return labels


CAMVID32_STEMS = ("0001TP_006690", "0006R0_f02910", "0016E5_07959", "0016E5_07961", "Seq05VD_f00030")


def camvid32_label(stem, size=SIZE):
    """Random CamVid-32 indices (0..31 in codes.txt order, 30 = Void) for ``stem``."""
    return rng_for("camvid32", stem).integers(0, 32, size, dtype=np.uint8)


def make_camvid32_fastai(root, stems=CAMVID32_STEMS, valid=None, size=SIZE):
    """fastai's ``camvid``: ``images/``, ``labels/<stem>_P.png``, ``codes.txt``, ``valid.txt``."""
    root = Path(root)
    labels = {}
    for stem in stems:
        write_rgb(root / "images" / f"{stem}.png", random_image(rng_for("camvid32 image", stem), size))
        labels[stem] = camvid32_label(stem, size)
        write_grey(root / "labels" / f"{stem}_P.png", labels[stem])
    (root / "codes.txt").write_text("".join(f"{name}\n" for name, _ in CAMVID32_TABLE))
    if valid is not None:
        (root / "valid.txt").write_text("".join(f"{stem}.png\n" for stem in valid))
    return labels


def write_label_colors(path, table=CAMVID32_TABLE):
    """``label_colors.txt`` as CamVid ships it: ``R G B<tab>Name``, some lines with two tabs."""
    lines = [f"{r} {g} {b}{chr(9) * (1 + i % 2)}{name}" for i, (name, (r, g, b)) in enumerate(table)]
    Path(path).write_text("\n".join(lines) + "\n")


def to_colors(indices, table=CAMVID32_TABLE):
    """Index labels -> the RGB colour label image of the same classes."""
    return np.array([color for _, color in table], dtype=np.uint8)[indices]


def make_camvid32_original(root, stems=CAMVID32_STEMS, size=SIZE):
    """The original CamVid: ``701_StillsRaw_full/``, ``LabeledApproved_full/<stem>_L.png``,
    ``label_colors.txt``; same images and classes as ``make_camvid32_fastai``."""
    root = Path(root)
    labels = {}
    for stem in stems:
        write_rgb(root / "701_StillsRaw_full" / f"{stem}.png", random_image(rng_for("camvid32 image", stem), size))
        labels[stem] = camvid32_label(stem, size)
        write_rgb(root / "LabeledApproved_full" / f"{stem}_L.png", to_colors(labels[stem]))
    write_label_colors(root / "label_colors.txt")
    return labels


def make_camseq(root, frames=30, size=SIZE, with_table=True):
    """CamSeq01: flat ``0016E5_<frame>.png`` + ``0016E5_<frame>_L.png`` pairs."""
    root = Path(root)
    labels = {}
    for i in range(frames):
        stem = f"0016E5_{7959 + 2 * i:05d}"
        write_rgb(root / f"{stem}.png", random_image(rng_for("camseq", i), size))
        labels[stem] = camvid32_label(stem, size)
        write_rgb(root / f"{stem}_L.png", to_colors(labels[stem]))
    if with_table:
        write_label_colors(root / "label_colors.txt")
    return labels


KITTI_COLORS = np.array([[255, 0, 0], [255, 0, 255], [0, 0, 0]], dtype=np.uint8)  # not road, road, void


def make_kitti_road(root, frames=(("um", 6), ("umm", 3), ("uu", 2)), size=SIZE):
    """``data_road/training/image_2/<cat>_NNNNNN.png`` + ``gt_image_2/<cat>_road_NNNNNN.png``
    (and ``um_lane_``), colours magenta / red / black; also ``testing/`` without labels."""
    base = Path(root) / "data_road"
    labels = {}
    for cat, count in frames:
        for i in range(count):
            rng = rng_for("kitti", cat, i)
            write_rgb(base / "training" / "image_2" / f"{cat}_{i:06d}.png", random_image(rng, size))
            write_rgb(base / "testing" / "image_2" / f"{cat}_{i:06d}.png", random_image(rng, size))
            kinds = ("road", "lane") if cat == "um" else ("road",)
            for kind in kinds:
                stem = f"{cat}_{kind}_{i:06d}"
                labels[stem] = rng.integers(0, 3, size)  # 0 not road, 1 road, 2 void
                write_rgb(base / "training" / "gt_image_2" / f"{stem}.png", KITTI_COLORS[labels[stem]])
    return labels


def make_voc(root, year=2012, splits=(("train", 3), ("val", 2)), size=SIZE):
    """``VOCdevkit/VOC<year>/``: JPEG images, palette PNG labels (0..20, 255 border), ImageSets."""
    base = Path(root) / "VOCdevkit" / f"VOC{year}"
    labels = {}
    for split, count in splits:
        ids = [f"{year}_{split}{i:03d}" for i in range(count)]
        for i, image_id in enumerate(ids):
            rng = rng_for("voc", year, split, i)
            write_rgb(base / "JPEGImages" / f"{image_id}.jpg", random_image(rng, size))
            label = rng.integers(0, 21, size).astype(np.uint8)
            label[0] = 255  # an object border
            labels[image_id] = label
            write_palette(base / "SegmentationClass" / f"{image_id}.png", label, voc_colormap())
        listing = base / "ImageSets" / "Segmentation" / f"{split}.txt"
        listing.parent.mkdir(parents=True, exist_ok=True)
        listing.write_text("".join(f"{i}\n" for i in ids))
    return labels


CITIES = {"train": ("aachen", "bochum"), "val": ("frankfurt",)}


def make_cityscapes(root, size=SIZE, train_ids=False):
    """``leftImg8bit/<split>/<city>/..._leftImg8bit.png`` and ``gtFine/.../_gtFine_labelIds.png``
    (ids 0..33), with the other gtFine files the archive holds (colour, 16-bit instance ids,
    polygons).  ``train_ids=True`` also writes ``_labelTrainIds.png`` (all 7: road)."""
    root = Path(root)
    labels = {}
    for split, cities in CITIES.items():
        for city in cities:
            for frame in (19, 20):
                stem = f"{city}_000000_{frame:06d}"
                rng = rng_for("cityscapes", city, frame)
                write_rgb(root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png", random_image(rng, size))
                ids = rng.integers(0, 34, size, dtype=np.uint8)
                labels[stem] = ids
                gt = root / "gtFine" / split / city
                write_grey(gt / f"{stem}_gtFine_labelIds.png", ids)
                write_rgb(gt / f"{stem}_gtFine_color.png", random_image(rng, size))
                instances = ids.astype(np.uint16) * 1000 + (ids >= 24).astype(np.uint16)
                write_grey(gt / f"{stem}_gtFine_instanceIds.png", instances)
                (gt / f"{stem}_gtFine_polygons.json").write_text(json.dumps({"imgHeight": size[0], "objects": []}))
                if train_ids:
                    write_grey(gt / f"{stem}_gtFine_labelTrainIds.png", np.zeros(size, np.uint8))
    return labels
