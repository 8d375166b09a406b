"""The official Cityscapes label table (``cityscapesscripts/helpers/labels.py``), all 35 rows,
and the lookup tables that turn ``labelIds`` into the label sets the course trains on.

* ``"19"``: the 19 evaluated classes (``trainId``); every other id is ignored (255).
* ``"categories"``: the 7 categories flat, construction, object, nature, sky, human,
  vehicle; the void category is ignored.
* ``"19+misc"``: the 19 classes plus a 20th class ``misc`` that takes every id the
  benchmark ignores (what one of the course's source projects trained on: an easy,
  large class that flatters the mean IoU).
"""

from collections import namedtuple

import numpy as np

Label = namedtuple("Label", "name id train_id category cat_id has_instances ignore_in_eval color")

LABELS = (
    #     name                    id  trainId  category       catId  inst   ignore  color
    Label("unlabeled",             0, 255, "void",          0, False, True,  (0, 0, 0)),
    Label("ego vehicle",           1, 255, "void",          0, False, True,  (0, 0, 0)),
    Label("rectification border",  2, 255, "void",          0, False, True,  (0, 0, 0)),
    Label("out of roi",            3, 255, "void",          0, False, True,  (0, 0, 0)),
    Label("static",                4, 255, "void",          0, False, True,  (0, 0, 0)),
    Label("dynamic",               5, 255, "void",          0, False, True,  (111, 74, 0)),
    Label("ground",                6, 255, "void",          0, False, True,  (81, 0, 81)),
    Label("road",                  7, 0,   "flat",          1, False, False, (128, 64, 128)),
    Label("sidewalk",              8, 1,   "flat",          1, False, False, (244, 35, 232)),
    Label("parking",               9, 255, "flat",          1, False, True,  (250, 170, 160)),
    Label("rail track",           10, 255, "flat",          1, False, True,  (230, 150, 140)),
    Label("building",             11, 2,   "construction",  2, False, False, (70, 70, 70)),
    Label("wall",                 12, 3,   "construction",  2, False, False, (102, 102, 156)),
    Label("fence",                13, 4,   "construction",  2, False, False, (190, 153, 153)),
    Label("guard rail",           14, 255, "construction",  2, False, True,  (180, 165, 180)),
    Label("bridge",               15, 255, "construction",  2, False, True,  (150, 100, 100)),
    Label("tunnel",               16, 255, "construction",  2, False, True,  (150, 120, 90)),
    Label("pole",                 17, 5,   "object",        3, False, False, (153, 153, 153)),
    Label("polegroup",            18, 255, "object",        3, False, True,  (153, 153, 153)),
    Label("traffic light",        19, 6,   "object",        3, False, False, (250, 170, 30)),
    Label("traffic sign",         20, 7,   "object",        3, False, False, (220, 220, 0)),
    Label("vegetation",           21, 8,   "nature",        4, False, False, (107, 142, 35)),
    Label("terrain",              22, 9,   "nature",        4, False, False, (152, 251, 152)),
    Label("sky",                  23, 10,  "sky",           5, False, False, (70, 130, 180)),
    Label("person",               24, 11,  "human",         6, True,  False, (220, 20, 60)),
    Label("rider",                25, 12,  "human",         6, True,  False, (255, 0, 0)),
    Label("car",                  26, 13,  "vehicle",       7, True,  False, (0, 0, 142)),
    Label("truck",                27, 14,  "vehicle",       7, True,  False, (0, 0, 70)),
    Label("bus",                  28, 15,  "vehicle",       7, True,  False, (0, 60, 100)),
    Label("caravan",              29, 255, "vehicle",       7, True,  True,  (0, 0, 90)),
    Label("trailer",              30, 255, "vehicle",       7, True,  True,  (0, 0, 110)),
    Label("train",                31, 16,  "vehicle",       7, True,  False, (0, 80, 100)),
    Label("motorcycle",           32, 17,  "vehicle",       7, True,  False, (0, 0, 230)),
    Label("bicycle",              33, 18,  "vehicle",       7, True,  False, (119, 11, 32)),
    Label("license plate",        -1, -1,  "vehicle",       7, False, True,  (0, 0, 142)),
)

TRAIN_LABELS = sorted((lab for lab in LABELS if 0 <= lab.train_id < 255), key=lambda lab: lab.train_id)
CATEGORIES = ("flat", "construction", "object", "nature", "sky", "human", "vehicle")
# A representative colour per category (that of its first evaluated class), for display.
CATEGORY_COLORS = tuple(next(lab.color for lab in TRAIN_LABELS if lab.category == c) for c in CATEGORIES)
MISC_COLOR = (81, 0, 81)

LABEL_SETS = {
    "19": (tuple(lab.name for lab in TRAIN_LABELS), tuple(lab.color for lab in TRAIN_LABELS)),
    "categories": (CATEGORIES, CATEGORY_COLORS),
    "19+misc": (tuple(lab.name for lab in TRAIN_LABELS) + ("misc",),
                tuple(lab.color for lab in TRAIN_LABELS) + (MISC_COLOR,)),
}


def label_lut(label_set: str = "19") -> np.ndarray:
    """A 256-entry uint8 table: ``lut[label_id]`` is the class in ``label_set`` (255 ignore).

    Ids that are not in the table at all (34..254) map to 255 too; the loader reports them."""
    if label_set not in LABEL_SETS:
        raise ValueError(f"label_set must be one of {', '.join(map(repr, LABEL_SETS))}, got {label_set!r}")
    lut = np.full(256, 255, dtype=np.uint8)
    for lab in LABELS:
        if lab.id < 0:
            continue  # license plate (-1) never appears in a labelIds image
        if label_set == "19":
            lut[lab.id] = 255 if lab.train_id < 0 else lab.train_id
        elif label_set == "categories":
            lut[lab.id] = 255 if lab.cat_id == 0 else lab.cat_id - 1
        else:
            lut[lab.id] = 19 if lab.train_id in (255, -1) else lab.train_id
    return lut


def to_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """``labelIds`` array -> ``labelTrainIds`` array (what cityscapesscripts' createTrainIdLabelImgs writes)."""
    return label_lut("19")[label_ids]


MAX_LABEL_ID = max(lab.id for lab in LABELS)
