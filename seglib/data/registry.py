"""``get_dataset(name, split, root=None, **options)``: one entry point for every dataset."""

from pathlib import Path

from .base import SegmentationDataset
from .camvid import CamVid
from .camvid32 import CamSeq, CamVid32
from .cityscapes import Cityscapes
from .folder import FileDataset
from .kitti import KittiRoad
from .paths import DatasetNotFoundError, environment_root, get_data_command
from .synthetic import SyntheticStreets
from .voc import VOC

DATASETS = {
    "synthetic": SyntheticStreets,
    "cityscapes": Cityscapes,
    "voc": VOC,
    "camvid": CamVid,
    "camvid32": CamVid32,
    "camseq": CamSeq,
    "kitti_road": KittiRoad,
}


def get_dataset(name: str, split: str, root: str | Path | None = None, **options) -> SegmentationDataset:
    """Build dataset ``name`` for ``split``.  ``root``: a real dataset's folder (default
    ``data_home() / name``); ``options`` go to the dataset (``image_size``, ``cache``, ...)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(sorted(DATASETS))}")
    cls = DATASETS[name]
    if split not in cls.splits:
        raise ValueError(f"dataset {name!r} has no split {split!r}; valid splits: {', '.join(cls.splits)}")
    return cls(split=split, root=root, **options)


def missing_dataset(name: str, root: str | Path | None = None) -> str | None:
    """None when real dataset ``name`` is at ``root`` (default: ``$SEGLIB_<NAME>``, else
    ``data_home() / name``); otherwise the line that says so and how to get it, e.g.
    ``CamVid not found; get it with python data_scripts/get_data.py camvid``."""
    cls = DATASETS[name]
    try:
        cls(split=cls.splits[0], root=environment_root(name, root))
    except DatasetNotFoundError:
        return f"{cls.title.split(' (')[0]} not found; get it with {get_data_command(cls.script or name)}"
    return None


def list_datasets() -> list[str]:
    return sorted(DATASETS)


def real_datasets() -> list[str]:
    """The datasets read from files (everything but ``synthetic``), in registry order."""
    return [name for name, cls in DATASETS.items() if issubclass(cls, FileDataset)]
