"""``cityscapes``: Cityscapes fine annotations (Cordts et al. 2016).

Layout: ``leftImg8bit/{split}/{city}/{city}_{seq}_{frame}_leftImg8bit.png`` (2048x1024)
and ``gtFine/{split}/{city}/{city}_{seq}_{frame}_gtFine_labelIds.png`` (label ids 0..33).
The ids are mapped with the official label table (``cityscapes_labels``) to one of three
label sets: ``"19"`` (the benchmark's 19 classes), ``"categories"`` (7) or ``"19+misc"``
(20).  For ``"19"``, a ``*_gtFine_labelTrainIds.png`` next to the ids (written by the
data script or cityscapesscripts) is read directly.  2975 train / 500 val / 1525 test
images; the test labels are all void.
"""

from pathlib import Path

from .cityscapes_labels import LABEL_SETS, LABELS, label_lut
from .files import read_index_label
from .folder import FileDataset
from .labels import apply_lut, make_lut

IMAGE_SUFFIX = "_leftImg8bit.png"


class Cityscapes(FileDataset):
    """Cityscapes, fine labels.  Splits: train, val, test.  ``label_set``: "19" (default),
    "categories" or "19+misc"."""

    name, title, script = "cityscapes", "Cityscapes", "cityscapes"
    splits = ("train", "val", "test")
    layout = """
  leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png
  gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png   (from gtFine_trainvaltest.zip)"""

    def __init__(self, split: str = "train", root: str | Path | None = None, label_set: str = "19", **options):
        lut = label_lut(label_set)  # checks the name
        self.label_set = label_set
        self.classes, self.colors = LABEL_SETS[label_set]
        self.lut = make_lut({lab.id: int(lut[lab.id]) for lab in LABELS if lab.id >= 0})
        self.train_id_lut = make_lut({**{k: k for k in range(19)}, 255: 255})
        super().__init__(split, root, **options)

    def options(self):
        return {"label_set": self.label_set}

    def is_root(self, folder):
        return (folder / "leftImg8bit").is_dir() and (folder / "gtFine").is_dir()

    def find_files(self, split):
        images = self.root / "leftImg8bit" / split
        if not images.is_dir():
            raise self.not_found(f"Cityscapes has no {split} split at {images}")
        files = []
        for image in sorted(images.glob(f"*/*{IMAGE_SUFFIX}")):
            stem = image.name[:-len(IMAGE_SUFFIX)]
            label_ids = self.root / "gtFine" / split / image.parent.name / f"{stem}_gtFine_labelIds.png"
            train_ids = label_ids.with_name(f"{stem}_gtFine_labelTrainIds.png")
            files.append(self.pair(image, train_ids if self.label_set == "19" and train_ids.is_file() else label_ids))
        return files

    def read_label(self, path):
        if path.name.endswith("_labelTrainIds.png"):
            return apply_lut(read_index_label(path), self.train_id_lut, path, "(trainIds 0..18, and 255)")
        return apply_lut(read_index_label(path), self.lut, path, "(Cityscapes label ids 0..33)")
