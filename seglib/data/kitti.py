"""``kitti_road``: the KITTI Road benchmark (Fritsch, Kuehnl & Geiger 2013), road vs not road.

Layout (``data_road.zip``): ``training/image_2/{um,umm,uu}_NNNNNN.png`` (about 1242x375)
and ``training/gt_image_2/{um_road,umm_road,uu_road,um_lane}_NNNNNN.png``.  Ground-truth
colours: magenta (255, 0, 255) road (or ego lane for ``um_lane``), red (255, 0, 0) not
road, black outside the valid area (ignored).  The test set has no labels, so the 289
training frames are split: within each category, sorted by frame number, every 5th frame
(positions 4, 9, 14, ...) is val and the rest train; ``trainval`` is all of them.
"""

import re
from pathlib import Path

from .files import read_color_label
from .folder import FileDataset
from .labels import decode_colors

GT_COLORS = ((255, 0, 255), (255, 0, 0), (0, 0, 0))
CATEGORIES = {"road": ("um_road", "umm_road", "uu_road"), "um_road": ("um_road",), "umm_road": ("umm_road",),
              "uu_road": ("uu_road",), "um_lane": ("um_lane",)}
VAL_EVERY = 5


class KittiRoad(FileDataset):
    """KITTI Road.  Splits: train, val, trainval.  ``category``: "road" (all three road
    categories, the default), "um_road", "umm_road", "uu_road", or "um_lane" (ego lane)."""

    name, title, script = "kitti_road", "KITTI Road", "kitti_road"
    splits = ("train", "val", "trainval")
    subfolders = ("data_road",)
    layout = """
  training/image_2/<cat>_NNNNNN.png          (<cat>: um, umm, uu)
  training/gt_image_2/<cat>_road_NNNNNN.png  (and um_lane_NNNNNN.png; magenta road, red not road, black void)"""

    def __init__(self, split: str = "train", root: str | Path | None = None, category: str = "road",
                 nearest_color: bool = False, **options):
        if category not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}, got {category!r}")
        self.category, self.nearest_color = category, nearest_color
        target = "ego lane" if category == "um_lane" else "road"
        self.classes = (f"not {target}", target)
        self.colors = ((255, 0, 0), (255, 0, 255))
        super().__init__(split, root, **options)

    def options(self):
        return {"category": self.category, "nearest_color": self.nearest_color}

    def is_root(self, folder):
        return (folder / "training" / "image_2").is_dir() and (folder / "training" / "gt_image_2").is_dir()

    def find_files(self, split):
        files = []
        for gt_kind in CATEGORIES[self.category]:
            prefix, target = gt_kind.split("_")
            labels = sorted(p for p in (self.root / "training" / "gt_image_2").glob(f"{gt_kind}_*.png")
                            if re.fullmatch(rf"{gt_kind}_\d+\.png", p.name))
            for position, label in enumerate(labels):
                if split == "trainval" or (position % VAL_EVERY == VAL_EVERY - 1) == (split == "val"):
                    number = label.stem.rsplit("_", 1)[1]
                    image = self.root / "training" / "image_2" / f"{prefix}_{number}.png"
                    if not image.is_file():
                        raise self.not_found(f"label {label} has no image {image}")
                    files.append((image, label))
        return files

    def read_label(self, path):
        return decode_colors(read_color_label(path), GT_COLORS, (1, 0, 255), self.nearest_color, path)
