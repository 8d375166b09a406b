"""Resumable HTTP download into ``<file>.part``, with a progress bar.

If ``<file>.part`` is already there (an earlier download was cut off), the server is asked
for the rest with a ``Range: bytes=N-`` header: ``206 Partial Content`` means append to
the part file, a plain ``200`` means the server ignores ranges, so start again. The caller
renames the part file to its final name only once its checksum is verified.
"""

import http.client
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from data_scripts import DataScriptError

CHUNK_SIZE = 1 << 20  # 1 MiB
TIMEOUT_S = 60
USER_AGENT = "seglib-data-scripts/0.1 (Python urllib)"


class DownloadError(DataScriptError):
    """The server could not be reached, refused the file, or did not send all of it."""


def part_path(dest: Path) -> Path:
    """Where the download of ``dest`` is written until it is verified."""
    return dest.with_name(dest.name + ".part")


def download(url: str, dest: Path) -> Path:
    """Download ``url`` into ``dest``'s part file, resuming what it holds; return the part file."""
    part = part_path(dest)
    start = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if start:
        request.add_header("Range", f"bytes={start}-")
    manual = f"download it in a browser, save it as {dest}, then re-run this command"
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            resuming = response.status == 206
            _save(response, part, start if resuming else 0, dest.name)
    except urllib.error.HTTPError as error:
        if error.code == 416 and start:  # nothing left to send: the part file is complete
            return part
        raise DownloadError(f"could not download {url}: HTTP {error.code} {error.reason}; {manual}") from None
    except urllib.error.URLError as error:
        raise DownloadError(f"could not download {url}: {error.reason}; {manual}") from None
    except (http.client.HTTPException, OSError) as error:
        got = part.stat().st_size if part.exists() else 0
        raise DownloadError(f"the download of {url} stopped after {got} bytes ({error}); "
                            f"re-run this command to resume it, or {manual}") from None
    return part


def _save(response, part: Path, start: int, label: str) -> None:
    """Copy the response body into ``part`` (appended after ``start`` bytes when resuming).

    ``response.read`` just returns b"" when the server closes early: the length is checked here."""
    length = response.headers.get("Content-Length")
    total = start + int(length) if length is not None else None
    with open(part, "ab" if start else "wb") as file, \
            tqdm(total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024, desc=label) as bar:
        while chunk := response.read(CHUNK_SIZE):
            file.write(chunk)
            bar.update(len(chunk))
        if total is not None and bar.n < total:
            raise ConnectionError(f"the server closed the connection {total - bar.n} bytes before the end")
