"""Safe extraction of tar and zip archives: nothing may land outside the target folder.

An archive is untrusted input: a member named ``../../.bashrc`` or ``/etc/passwd``, or a
symlink to outside followed by a file written through it, would write anywhere
("path traversal", e.g. CVE-2007-4559 for tarfile). Every member is checked before any is
written, and tar archives also go through tarfile's own ``"data"`` filter (Python 3.12, and
patch releases of 3.8 to 3.11), which re-checks links against the real file system.
"""

import os
import stat
import tarfile
import zipfile
from pathlib import Path, PureWindowsPath

from data_scripts import DataScriptError

HAS_DATA_FILTER = hasattr(tarfile, "data_filter")


class UnsafeArchiveError(DataScriptError):
    """An archive member that would be written outside the target folder."""


def check_member(target: Path, archive: Path, name: str, link: str | None = None) -> None:
    """Raise ``UnsafeArchiveError`` unless member ``name`` and, for a link, the path it points
    to (``link``, relative to the archive's root) both stay inside ``target``."""
    what = f"member {name!r}" + (f" (a link to {link!r})" if link is not None else "")
    for path in filter(None, (name, link)):
        if _is_absolute(path):
            problem = "has an absolute path"
        elif not _inside(target, path):
            problem = "points outside the target folder"
        else:
            continue
        raise UnsafeArchiveError(f"refusing to extract {archive}: {what} {problem}; nothing was "
                                 "extracted (the archive is corrupt or malicious: delete it)")


def _is_absolute(path: str) -> bool:
    """``/x``, ``\\x`` or ``C:x``: absolute on Linux, macOS or Windows."""
    return path.startswith(("/", "\\")) or PureWindowsPath(path).drive != ""


def _inside(target: Path, relative: str) -> bool:
    """Whether ``target/relative`` stays inside ``target`` (by its path, before any link)."""
    root = os.path.abspath(target)
    path = os.path.abspath(os.path.join(root, relative))
    return path == root or path.startswith(root + os.sep)


def safe_extract(archive: Path, target: Path) -> None:
    """Extract a ``.zip``, ``.tar``, ``.tgz`` or ``.tar.gz`` file into ``target`` safely."""
    target.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        _extract_zip(archive, target)
    elif tarfile.is_tarfile(archive):
        _extract_tar(archive, target)
    else:
        raise UnsafeArchiveError(f"{archive} is neither a zip nor a tar archive: delete it and re-run this command")


def _extract_zip(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as zip_file:
        for info in zip_file.infolist():
            link = None
            if stat.S_ISLNK(info.external_attr >> 16):  # a symlink stores its target as the content
                link = os.path.join(os.path.dirname(info.filename), zip_file.read(info).decode(errors="replace"))
            check_member(target, archive, info.filename, link)
        zip_file.extractall(target)  # writes symlinks as small text files, never as links


def _extract_tar(archive: Path, target: Path) -> None:
    with tarfile.open(archive) as tar_file:
        for member in tar_file.getmembers():
            link = None
            if member.issym():  # relative to the link's own folder
                link = os.path.join(os.path.dirname(member.name), member.linkname)
            elif member.islnk():  # a hard link names another member: relative to the archive's root
                link = member.linkname
            if link is not None and not HAS_DATA_FILTER:
                raise UnsafeArchiveError(f"refusing to extract links from {archive} ({member.name!r}): "
                                         "this Python has no tarfile data filter; upgrade Python")
            check_member(target, archive, member.name, link)
        if not HAS_DATA_FILTER:
            tar_file.extractall(target)
            return
        try:
            tar_file.extractall(target, filter="data")
        except tarfile.FilterError as error:  # e.g. a chain of links that only escapes on disk
            raise UnsafeArchiveError(f"refusing to extract {archive}: {error} (the archive is corrupt "
                                     "or malicious: delete it)") from None
