"""Write a file so that it is either complete or absent, never half written.

The bytes go to a temporary file in the same folder, which is then renamed over the
destination: a rename within one file system is atomic, so an interrupted run leaves the
old file (or none), and a later run can trust every file it finds.  Checkpoints, the data
cache, training results and the data scripts all write through here.
"""

import json
import os
import tempfile
from pathlib import Path


def atomic_write(path, write):
    """Call ``write(file)`` on a temporary binary file beside ``path``, then rename it to
    ``path``: readers see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path, data: bytes):
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda f: f.write(data))


def write_json(path, value):
    """Write ``value`` as indented JSON to ``path`` atomically."""
    write_bytes(path, (json.dumps(value, indent=2) + "\n").encode())
