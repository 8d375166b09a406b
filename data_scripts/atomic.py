"""Write a file so that it is either complete or absent, never half written.

The bytes go to a temporary file in the same folder, which is then renamed over the
destination: a rename within one file system is atomic, so an interrupted run leaves the
old file (or none), and a later run can trust every file it finds.
"""

import json
import os
import tempfile
from pathlib import Path


def write_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_json(path, value) -> None:
    """Write ``value`` as indented JSON to ``path`` atomically."""
    write_atomic(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())


def read_json(path, default=None):
    """The JSON value in ``path``, or ``default`` if there is no such file."""
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else default
