"""Download, verify, extract and prepare one real dataset into the folder its loader reads.

    python data_scripts/get_data.py camvid              # into $SEGLIB_DATA/camvid (~/seglib-data)
    python data_scripts/get_data.py --list              # the datasets, sizes, licences, URLs
    python data_scripts/get_data.py voc2012 --mirror https://course.example.org/data

The steps, one module each: ``sources`` (what to fetch), ``download`` (resumable),
``checksums`` (verify or record), ``extract`` (safe), ``prepare`` (arrange, mark done).
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``data_scripts`` and ``seglib`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data_scripts import DataScriptError  # noqa: E402
from data_scripts.checksums import record, verify  # noqa: E402
from data_scripts.download import download  # noqa: E402
from data_scripts.extract import safe_extract  # noqa: E402
from data_scripts.prepare import MARKER_NAME, install, is_prepared  # noqa: E402
from data_scripts.sources import SOURCES, Archive, Dataset  # noqa: E402
from seglib.data.paths import data_home  # noqa: E402


def archive_url(archive: Archive, url: str | None = None, mirror: str | None = None) -> str | None:
    """Where to fetch ``archive``: ``url``, else ``mirror/<file name>``, else the table's URL."""
    if url:
        return url
    if mirror:
        return f"{mirror.rstrip('/')}/{archive.name}"
    return archive.url


def fetch(archive: Archive, url: str | None, downloads: Path) -> dict:
    """The verified archive in ``downloads``, downloaded first if it is not there yet."""
    path = downloads / archive.name
    if path.exists():
        checksum = verify(path, archive, downloads, url)
    else:
        part = download(url, path)
        checksum = verify(part, archive, downloads, url)
        part.replace(path)
    return {"file": str(path), "url": url, "checksum": checksum}


def check_manual_downloads(name: str, dataset: Dataset, urls: list, downloads: Path) -> None:
    """Stop with instructions if an archive that has no URL is not in ``downloads`` yet."""
    missing = [f"{archive.name} ({archive.size})" for archive, url in zip(dataset.archives, urls)
               if url is None and not (downloads / archive.name).exists()]
    if missing:
        raise DataScriptError(f"{name} cannot be downloaded by this script: download {' and '.join(missing)} "
                              f"{dataset.manual}, put them in {downloads}/, then re-run this command")


def get(name: str, root=None, *, url=None, mirror=None, downloads=None, force=False) -> Path:
    """Download, verify, extract and prepare dataset ``name``; return its folder.

    Does nothing (and no network) if it is already prepared, unless ``force``."""
    if name not in SOURCES:
        raise DataScriptError(f"unknown dataset {name!r}; valid names: {', '.join(SOURCES)}")
    dataset = SOURCES[name]
    root = Path(root if root is not None else data_home()).expanduser()
    downloads = Path(downloads).expanduser() if downloads is not None else root / "downloads"
    target = root / dataset.target
    if is_prepared(target) and not force:
        print(f"{name} is already prepared in {target} (use --force to prepare it again)")
        return target
    if target.exists() and not force:
        raise DataScriptError(f"{target} exists but has no {MARKER_NAME}, so it was not prepared by this "
                              "script: move it away, or re-run with --force to replace it")
    if url and len(dataset.archives) > 1:
        raise DataScriptError(f"--url needs a dataset with one archive; {name} has {len(dataset.archives)}: "
                              "use --mirror to fetch them all from another server")
    urls = [archive_url(archive, url, mirror) for archive in dataset.archives]
    check_manual_downloads(name, dataset, urls, downloads)
    downloads.mkdir(parents=True, exist_ok=True)
    sources = [fetch(archive, source_url, downloads) for archive, source_url in zip(dataset.archives, urls)]
    unpack(name, dataset, sources, root, target)
    for archive, source in zip(dataset.archives, sources):
        record(archive, source["checksum"], downloads)
    print(f"{name} is ready in {target}")
    return target


def unpack(name: str, dataset: Dataset, sources: list, root: Path, target: Path) -> None:
    """Extract the archives into a temporary folder inside ``root``, then install into ``target``."""
    root.mkdir(parents=True, exist_ok=True)
    for leftover in root.glob(f".{name}-extracting-*"):  # from an interrupted run
        shutil.rmtree(leftover, ignore_errors=True)
    extracted = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}-extracting-"))
    try:
        for source in sources:
            print(f"extracting {source['file']} ...")
            safe_extract(Path(source["file"]), extracted)
        install(name, dataset, extracted, target, sources)
    finally:
        shutil.rmtree(extracted, ignore_errors=True)


def list_sources() -> str:
    """A table of the datasets: folder, size, licence and URLs."""
    lines = []
    for name, dataset in SOURCES.items():
        sizes = " + ".join(archive.size for archive in dataset.archives)
        lines.append(f"{name:<11} -> <root>/{dataset.target}  ({sizes})  licence: {dataset.licence}")
        for archive in dataset.archives:
            lines.append(f"{'':<13}{archive.url or archive.name + ': ' + dataset.manual}")
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", choices=list(SOURCES), help="the dataset to prepare")
    parser.add_argument("--list", action="store_true", help="list the datasets with sizes, licences and URLs")
    parser.add_argument("--root", help="the data root (default: $SEGLIB_DATA or ~/seglib-data)")
    parser.add_argument("--url", help="download the (single) archive from this URL instead")
    parser.add_argument("--mirror", help="download every archive from BASE_URL/<file name> instead",
                        metavar="BASE_URL")
    parser.add_argument("--downloads", help="where archives are kept (default: <root>/downloads)")
    parser.add_argument("--force", action="store_true", help="prepare again even if already prepared")
    args = parser.parse_args(argv)
    if not args.list and args.dataset is None:
        parser.error("name a dataset (or use --list)")
    return args


def main(argv=None) -> int:
    """The command line: 0 on success; 1 with one ``error: ...`` line on stderr on failure."""
    args = parse_args(argv)
    if args.list:
        print(list_sources())
        return 0
    try:
        get(args.dataset, args.root, url=args.url, mirror=args.mirror, downloads=args.downloads, force=args.force)
    except DataScriptError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; re-run this command to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
