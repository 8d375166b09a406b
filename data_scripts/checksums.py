"""Checksums: verify the published md5/sha256, or record the sha256 of a first download.

VOC publishes md5 sums; the other archives have none, so the sha256 of the first copy (once
it has given a prepared dataset) is written to ``<downloads>/checksums.json`` and every
later copy must match it ("trust on first use": it catches a corrupt re-download or a
changed mirror, not a bad first copy).
"""

import hashlib
import json
from pathlib import Path

from data_scripts import DataScriptError
from data_scripts.sources import Archive
from seglib.atomic import write_json

RECORD_NAME = "checksums.json"


def read_json(path: Path, default=None):
    """The JSON value in ``path``, or ``default`` if there is no such file."""
    return json.loads(path.read_text()) if path.is_file() else default


class ChecksumError(DataScriptError):
    """A file whose checksum is not the published or recorded one."""


def file_hash(path: Path, algorithm: str) -> str:
    """The hex digest of a file, read in 1 MiB blocks (archives can be larger than memory)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, archive: Archive, downloads: Path, url: str | None = None) -> str:
    """Check ``path`` against ``archive``'s published checksum, else the one recorded for it.
    A mismatch deletes ``path`` and raises ``ChecksumError``.

    Returns the checksum it matched, as ``"algorithm:hex"``, or, with nothing to match, the
    file's sha256 (for ``record`` to keep once the dataset is prepared)."""
    record_path = downloads / RECORD_NAME
    expected = archive.checksum or read_json(record_path, default={}).get(archive.name)
    if expected is None:
        return "sha256:" + file_hash(path, "sha256")
    algorithm, want = expected.split(":")
    got = file_hash(path, algorithm)
    if got != want:
        path.unlink()
        origin = "published" if archive.checksum else f"recorded in {record_path} on the first download"
        again = "re-run this command to download it again" if url else "download it again by hand"
        if_changed = "" if archive.checksum else f"; if the archive really changed, delete its entry in {record_path}"
        raise ChecksumError(
            f"{archive.name} (from {url or 'a manual download'}) is corrupt or not the expected file: "
            f"{algorithm} expected {want} ({origin}), got {got}; the file was deleted: {again}{if_changed}")
    return expected


def record(archive: Archive, checksum: str, downloads: Path) -> None:
    """Keep ``checksum`` in ``checksums.json`` if ``archive`` has no published or recorded one.

    Called once the dataset is prepared, so an archive that turned out unusable is not trusted."""
    record_path = downloads / RECORD_NAME
    recorded = read_json(record_path, default={})
    if archive.checksum or archive.name in recorded:
        return
    write_json(record_path, {**recorded, archive.name: checksum})
    print(f"{archive.name}: no published checksum; recorded its {checksum} in {record_path}: "
          "it is trusted from now on")
