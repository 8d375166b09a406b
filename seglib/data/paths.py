"""Where real datasets live on disk, and the error raised when one is not there.

Every real dataset has a default folder ``data_home() / name``; ``data_home()`` is the
``SEGLIB_DATA`` environment variable, or ``~/seglib-data``.  The data scripts download
into the same place, so ``get_dataset("camvid", "train")`` finds what
``python data_scripts/get_data.py camvid`` fetched.
"""

import os
from pathlib import Path


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's folder is missing or not laid out as its loader expects."""


def data_home() -> Path:
    """The folder that holds one sub-folder per real dataset."""
    return Path(os.environ.get("SEGLIB_DATA") or Path.home() / "seglib-data").expanduser()


def dataset_root(name: str, root=None) -> Path:
    """``root`` if given, else ``data_home() / name``."""
    return Path(root).expanduser() if root is not None else data_home() / name


def get_data_command(name: str) -> str:
    """The command that downloads and prepares dataset ``name``."""
    return f"python data_scripts/get_data.py {name}"
