"""Arrange extracted archives into the layout the loaders read, and mark the dataset done.

Everything happens in a temporary folder inside the data root; the finished folder is then
moved into place with one rename, so an interrupted run never leaves half a dataset where
the loader looks. The marker file ``.seglib-prepared.json`` (source, checksums, date) is
what makes a second run a no-op.

The one dataset-specific step: Cityscapes ships ``*_gtFine_labelIds.png`` (ids 0..33) but
training uses ``*_gtFine_labelTrainIds.png`` (the 19 classes, 255 = ignore), which we write
next to each, as cityscapesscripts' ``createTrainIdLabelImgs`` does.
"""

import shutil
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import cv2
from tqdm import tqdm

from data_scripts import DataScriptError
from data_scripts.sources import Dataset
from seglib.atomic import write_bytes, write_json
from seglib.data.cityscapes_labels import to_train_ids

MARKER_NAME = ".seglib-prepared.json"


def is_prepared(target: Path) -> bool:
    """Whether ``target`` holds a dataset this script finished preparing."""
    return (target / MARKER_NAME).is_file()


def write_train_ids(gtfine: Path) -> int:
    """Write ``*_gtFine_labelTrainIds.png`` next to every ``*_gtFine_labelIds.png`` under
    ``gtfine`` (skipping those already there); return how many were written."""
    written = 0
    for label_ids_path in tqdm(sorted(gtfine.rglob("*_gtFine_labelIds.png")), desc="labelTrainIds", unit="file"):
        train_ids_path = label_ids_path.with_name(label_ids_path.name.replace("_labelIds", "_labelTrainIds"))
        if train_ids_path.exists():
            continue
        label_ids = cv2.imread(str(label_ids_path), cv2.IMREAD_UNCHANGED)
        if label_ids is None or label_ids.ndim != 2 or label_ids.dtype != "uint8":
            raise DataScriptError(f"{label_ids_path} is not an 8-bit labelIds PNG: the archive is corrupt; "
                                  "delete it and re-run this command")
        write_bytes(train_ids_path, cv2.imencode(".png", to_train_ids(label_ids))[1].tobytes())
        written += 1
    return written


EXTRA_STEPS = {"cityscapes": lambda data: write_train_ids(data / "gtFine")}


def install(name: str, dataset: Dataset, extracted: Path, target: Path, sources: list) -> None:
    """Check the extracted data, run its extra step, mark it and move it to ``target``.

    ``sources`` lists what it came from (``{"file", "url", "checksum"}`` per archive)."""
    data = extracted / dataset.archive_dir
    expected = [PurePosixPath(dataset.archive_dir, path) for path in ("", *dataset.expect)]
    missing = [str(path) for path in expected if not (extracted / path).exists()]
    if missing:
        found = sorted(path.name for path in extracted.iterdir())
        files = " and ".join(source["file"] for source in sources)
        raise DataScriptError(f"the {name} archives are not laid out as expected: {missing[0]} is missing "
                              f"(their top level holds {found}); delete {files} and re-run with the right "
                              "URL or mirror")
    if name in EXTRA_STEPS:
        EXTRA_STEPS[name](data)
    write_json(data / MARKER_NAME, {"dataset": name, "archives": sources,
                                     "prepared": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    if target.exists():  # only with --force: the caller refuses otherwise
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    data.replace(target)
