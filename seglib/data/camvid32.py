"""``camvid32`` and ``camseq``: CamVid's original 32 classes (Brostow, Fauqueur & Cipolla 2009).

``Void`` becomes ignore (255); the other 31 classes keep their names and order, so
``Wall`` (32nd in the table) is class 30.  Labels come in two forms, both read exactly:

* index labels, the fastai layout (``camvid.tgz``, ``camvid_tiny``): ``images/<stem>.png``,
  ``labels/<stem>_P.png`` (8-bit indices in ``codes.txt`` order), ``valid.txt``;
* colour labels, the original layout: ``<stem>_L.png`` RGB images decoded with
  ``label_colors.txt`` (``R G B<tab>Name``); an unknown colour is an error naming the file
  and the colour, unless ``nearest_color=True``.

Splits of ``camvid32``: the archive's ``valid.txt`` when present; otherwise the frames of
sequence ``0016E5`` are val (the sequence SegNet's and fastai's val splits are drawn from)
and the rest train.  ``camseq`` (CamSeq01: 101 consecutive frames of ``0016E5`` at
960x720) is split by frame order: the last 20 % of the frames are val, the 5 frames before
them are left out (neighbouring frames are near-duplicates), the rest are train.
"""

from functools import cached_property
from pathlib import Path

import numpy as np

from .files import read_color_label, read_index_label
from .folder import FileDataset
from .labels import apply_lut, decode_colors, make_lut, read_codes, read_color_table

TABLE = (
    ("Animal", (64, 128, 64)), ("Archway", (192, 0, 128)), ("Bicyclist", (0, 128, 192)),
    ("Bridge", (0, 128, 64)), ("Building", (128, 0, 0)), ("Car", (64, 0, 128)),
    ("CartLuggagePram", (64, 0, 192)), ("Child", (192, 128, 64)), ("Column_Pole", (192, 192, 128)),
    ("Fence", (64, 64, 128)), ("LaneMkgsDriv", (128, 0, 192)), ("LaneMkgsNonDriv", (192, 0, 64)),
    ("Misc_Text", (128, 128, 64)), ("MotorcycleScooter", (192, 0, 192)), ("OtherMoving", (128, 64, 64)),
    ("ParkingBlock", (64, 192, 128)), ("Pedestrian", (64, 64, 0)), ("Road", (128, 64, 128)),
    ("RoadShoulder", (128, 128, 192)), ("Sidewalk", (0, 0, 192)), ("SignSymbol", (192, 128, 128)),
    ("Sky", (128, 128, 128)), ("SUVPickupTruck", (64, 128, 192)), ("TrafficCone", (0, 0, 64)),
    ("TrafficLight", (0, 64, 64)), ("Train", (192, 64, 128)), ("Tree", (128, 128, 0)),
    ("Truck_Bus", (192, 128, 192)), ("Tunnel", (64, 0, 64)), ("VegetationMisc", (192, 192, 0)),
    ("Void", (0, 0, 0)), ("Wall", (64, 192, 0)),
)
CLASSES = tuple(name for name, _ in TABLE if name != "Void")
COLORS = tuple(color for name, color in TABLE if name != "Void")
VAL_SEQUENCE = "0016E5"
CAMSEQ_VAL_SHARE, CAMSEQ_GAP = 0.2, 5


def class_of(name, path) -> int:
    """The training index of a CamVid-32 class name (255 for Void)."""
    if name == "Void":
        return 255
    if name not in CLASSES:
        raise ValueError(f"{path}: class {name!r} is not one of CamVid's 32 classes")
    return CLASSES.index(name)


class ColorLabels:
    """Mixin: decode ``*_L.png`` colour labels with the folder's ``label_colors.txt`` (or the
    standard table when the folder has none)."""

    nearest_color = False

    @cached_property
    def color_table(self) -> tuple[tuple[tuple[int, int, int], ...], list[int]]:
        """``(colours, classes)``: each colour of the table and the class index it decodes to."""
        table_file = self.root / "label_colors.txt"
        names, colors = read_color_table(table_file) if table_file.is_file() else zip(*TABLE)
        return colors, [class_of(name, table_file) for name in names]

    def label_table(self):
        """The table that decodes the labels.  ``find_files`` reads it, so that a broken table
        file fails when the dataset is made, not at the first label."""
        return self.color_table

    def decode_color_label(self, path: Path) -> np.ndarray:
        colors, classes = self.color_table
        return decode_colors(read_color_label(path), colors, classes, self.nearest_color, path)


class CamVid32(ColorLabels, FileDataset):
    """CamVid with 31 classes + void.  Splits: train, val.  ``labels``: "auto" (index labels
    when present, else colour labels), "index" or "color"; ``nearest_color``: see module doc."""

    name, title, script = "camvid32", "CamVid (32-class release)", "camvid32"
    classes, colors = CLASSES, COLORS
    splits = ("train", "val")
    subfolders = ("camvid", "CamVid")
    layout = """
  images/<stem>.png + labels/<stem>_P.png + codes.txt (+ valid.txt)   the fastai layout, or
  <images>/<stem>.png + <labels>/<stem>_L.png + label_colors.txt      the original colour labels
    (<images>: images/ or 701_StillsRaw_full/; <labels>: labels/ or LabeledApproved_full/)"""

    def __init__(self, split: str = "train", root: str | Path | None = None, labels: str = "auto",
                 nearest_color: bool = False, **options):
        if labels not in ("auto", "index", "color"):
            raise ValueError(f"labels must be 'auto', 'index' or 'color', got {labels!r}")
        self.labels, self.nearest_color = labels, nearest_color
        super().__init__(split, root, **options)

    def options(self):
        return {"labels": self.label_kind, "nearest_color": self.nearest_color}

    def is_root(self, folder):
        return self.image_dir(folder) is not None and self.label_dir(folder) is not None

    @staticmethod
    def image_dir(folder):
        return next((d for d in (folder / "images", folder / "701_StillsRaw_full") if d.is_dir()), None)

    @staticmethod
    def label_dir(folder):
        return next((d for d in (folder / "labels", folder / "LabeledApproved_full") if d.is_dir()), None)

    @cached_property
    def label_kind(self) -> str:
        """The label format, "index" or "color": ``labels``, with "auto" resolved by what the folder holds."""
        has_index = (self.root / "codes.txt").is_file() and any(self.label_dir(self.root).glob("*_P.png"))
        if self.labels == "index" and not has_index:
            raise self.not_found(f"labels='index' needs codes.txt and labels/<stem>_P.png in {self.root}")
        if self.labels == "auto":
            return "index" if has_index else "color"
        return self.labels

    def label_table(self):
        """``lut`` for index labels, else the colour table."""
        return self.lut if self.label_kind == "index" else super().label_table()

    @cached_property
    def lut(self) -> np.ndarray:
        """Index labels' lookup table: ``codes.txt`` index -> class index (Void -> 255)."""
        codes_file = self.root / "codes.txt"
        return make_lut({i: class_of(name, codes_file) for i, name in enumerate(read_codes(codes_file))})

    def find_files(self, split):
        self.label_table()
        labels = self.label_dir(self.root)
        suffix = "_P.png" if self.label_kind == "index" else "_L.png"
        images = sorted(self.image_dir(self.root).glob("*.png"))
        val = self.val_stems([image.stem for image in images])
        chosen = [image for image in images if (image.stem in val) == (split == "val")]
        return [self.pair(image, labels / f"{image.stem}{suffix}") for image in chosen]

    def val_stems(self, stems) -> set:
        valid = self.root / "valid.txt"
        if valid.is_file():
            return {Path(line.strip()).stem for line in valid.read_text().splitlines() if line.strip()}
        return {stem for stem in stems if stem.startswith(VAL_SEQUENCE)}

    def read_label(self, path):
        if self.label_kind == "index":
            return apply_lut(read_index_label(path), self.lut, path, "(the indices of codes.txt)")
        return self.decode_color_label(path)


class CamSeq(ColorLabels, FileDataset):
    """CamSeq01: 101 frames with CamVid-32 colour labels.  Splits: train, val (by frame order)."""

    name, title, script = "camseq", "CamSeq01", "camseq"
    classes, colors = CLASSES, COLORS
    splits = ("train", "val")
    subfolders = ("CamSeq01",)
    layout = """
  <sequence>_<frame>.png and <sequence>_<frame>_L.png side by side (101 pairs, 960x720),
  optionally label_colors.txt (the standard CamVid colour table otherwise)"""

    def __init__(self, split: str = "train", root: str | Path | None = None, nearest_color: bool = False, **options):
        self.nearest_color = nearest_color
        super().__init__(split, root, **options)

    def options(self):
        return {"nearest_color": self.nearest_color}

    def is_root(self, folder):
        return any(folder.glob("*_L.png"))

    def find_files(self, split):
        self.label_table()
        labels = sorted(self.root.glob("*_L.png"))
        n_val = round(CAMSEQ_VAL_SHARE * len(labels))
        gap = CAMSEQ_GAP if len(labels) >= 50 else 0
        chosen = labels[len(labels) - n_val:] if split == "val" else labels[:max(0, len(labels) - n_val - gap)]
        return [self.pair(label.with_name(label.name[:-len("_L.png")] + ".png"), label) for label in chosen]

    def pair(self, image, label):
        if not image.is_file():
            raise self.not_found(f"label {label} has no image {image}")
        return image, label

    def read_label(self, path):
        return self.decode_color_label(path)
