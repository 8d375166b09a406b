"""Where real datasets live on disk, and the error raised when one is not there.

Every real dataset has a default folder ``data_home() / name``; ``data_home()`` is the
``SEGLIB_DATA`` environment variable, or ``~/seglib-data``.  The data scripts download
into the same place, so ``get_dataset("camvid", "train")`` finds what
``python data_scripts/get_data.py camvid`` fetched.

A notebook whose lesson is one real dataset (07: CamVid) also reads ``SEGLIB_<NAME>``
(``SEGLIB_CAMVID``): the folder of that dataset wherever it is (``environment_root``).
"""

import os
from pathlib import Path


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's folder is missing or not laid out as its loader expects.

    ``dataset``, ``root`` and ``command`` (the data script that gets it) are attributes too."""

    def __init__(self, message, dataset="", root=None, command=""):
        super().__init__(message)
        self.dataset, self.root, self.command = dataset, root, command

    def __str__(self):
        return self.args[0]


def data_home() -> Path:
    """The folder that holds one sub-folder per real dataset."""
    return Path(os.environ.get("SEGLIB_DATA") or Path.home() / "seglib-data").expanduser()


def dataset_root(name: str, root=None) -> Path:
    """``root`` if given, else ``data_home() / name``."""
    return Path(root).expanduser() if root is not None else data_home() / name


def environment_variable(name: str) -> str:
    """``"SEGLIB_CAMVID"`` for ``"camvid"``: the variable that may name dataset ``name``'s folder."""
    return f"SEGLIB_{name.upper()}"


def environment_root(name: str, root=None) -> Path | None:
    """``root`` if given, else the folder ``$SEGLIB_<NAME>`` names, else None (the loader's
    default, ``data_home() / name``)."""
    if root is not None:
        return Path(root).expanduser()
    value = os.environ.get(environment_variable(name))
    return Path(value).expanduser() if value else None


def get_data_command(name: str) -> str:
    """The command that downloads and prepares dataset ``name``."""
    return f"python data_scripts/get_data.py {name}"
