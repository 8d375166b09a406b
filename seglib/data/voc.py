"""``voc``: PASCAL VOC segmentation, 2012 (default) or 2007 (Everingham et al. 2010).

Layout under ``VOCdevkit/VOC<year>/``: ``ImageSets/Segmentation/{train,val,trainval}.txt``
(one id per line; 2007 also ``test.txt``), ``JPEGImages/<id>.jpg``,
``SegmentationClass/<id>.png``.  The masks are palette PNGs: the stored *indices* are the
labels (0 background, 1..20 the classes, 255 the object borders, ignored), the palette is
only for display.  Sizes: 2012 train 1464 / val 1449; 2007 train 209 / val 213 / test 210.
"""

from pathlib import Path

from .files import read_index_label
from .folder import FileDataset
from .labels import apply_lut, make_lut, voc_colormap

CLASSES = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
           "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
           "train", "tvmonitor")
YEARS = (2007, 2012)


class VOC(FileDataset):
    """PASCAL VOC.  Splits: train, val, trainval (and test for 2007).  Option ``year``."""

    name, title, script = "voc", "PASCAL VOC", "voc2012"
    classes, colors = CLASSES, voc_colormap(len(CLASSES))
    splits = ("train", "val", "trainval", "test")
    layout = """
  VOCdevkit/VOC<year>/ImageSets/Segmentation/<split>.txt
  VOCdevkit/VOC<year>/JPEGImages/<id>.jpg
  VOCdevkit/VOC<year>/SegmentationClass/<id>.png   (palette PNG: indices 0..20, 255 border)"""
    lut = make_lut({**{k: k for k in range(len(CLASSES))}, 255: 255})

    def __init__(self, split: str = "train", root: str | Path | None = None, year: int = 2012, **options):
        if int(year) not in YEARS:
            raise ValueError(f"year must be 2007 or 2012, got {year!r}")
        self.year = int(year)
        self.subfolders = (f"VOCdevkit/VOC{self.year}", f"VOC{self.year}")
        self.script = f"voc{self.year}"
        super().__init__(split, root, **options)

    def options(self):
        return {"year": self.year}

    def is_root(self, folder):
        return (folder / "ImageSets" / "Segmentation").is_dir() and (folder / "JPEGImages").is_dir()

    def find_files(self, split):
        listing = self.root / "ImageSets" / "Segmentation" / f"{split}.txt"
        if not listing.is_file():
            raise self.not_found(f"VOC {self.year} has no {split} split: {listing} is missing")
        ids = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
        return [self.pair(self.root / "JPEGImages" / f"{i}.jpg", self.root / "SegmentationClass" / f"{i}.png")
                for i in ids]

    def read_label(self, path):
        return apply_lut(read_index_label(path), self.lut, path, "(0..20, and 255 = border)")
