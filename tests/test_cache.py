"""The uint8 memmap cache: same items as decoding, built once, keyed, resumable, worker-safe."""

import layouts
import numpy as np
import pytest
import torch

from seglib.data import cache as cache_module
from seglib.data import get_dataset


@pytest.fixture
def camvid(tmp_path):
    layouts.make_camvid(tmp_path / "camvid", counts=(("train", 5),), size=(24, 32))
    return lambda **options: get_dataset("camvid", "train", root=tmp_path / "camvid", image_size=(12, 16),
                                         cache_dir=tmp_path / "cache", **options)


def test_cached_items_equal_decoded_items(camvid):
    plain, cached = camvid(), camvid(cache=True)
    for i in range(len(plain)):
        for a, b in zip(plain.load(i), cached.load(i)):
            np.testing.assert_array_equal(a, b)
        image, mask = cached[i]
        assert torch.equal(image, plain[i][0]) and torch.equal(mask, plain[i][1])
    np.testing.assert_array_equal(cached.load_native(0)[1], plain.load_native(0)[1])  # native still decodes


def test_cache_is_built_once_and_keyed_by_size_and_files(camvid, tmp_path, monkeypatch):
    camvid(cache=True)
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(files) == 3 and all(f.startswith("camvid-train-12x16-") for f in files)
    monkeypatch.setattr(cache_module.ArrayCache, "build", lambda *a: pytest.fail("rebuilt a complete cache"))
    camvid(cache=True)
    monkeypatch.undo()
    get_dataset("camvid", "train", root=tmp_path / "camvid", image_size=(8, 8), cache=True,
                cache_dir=tmp_path / "cache")
    layouts.write_grey(tmp_path / "camvid" / "trainannot" / "0001TP_train0000.png", np.zeros((24, 32), np.uint8))
    camvid(cache=True)  # a changed label file: a new key
    keys = {p.name.split(".")[0] for p in (tmp_path / "cache").iterdir()}
    assert len(keys) == 3


def test_an_interrupted_build_resumes_where_it_stopped(camvid, tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "SAVE_EVERY", 2)
    dataset_cls = type(camvid())
    original = dataset_cls.load_native
    calls = []

    def failing(self, index):
        calls.append(index)
        if index == 3 and len(calls) < 10:
            raise KeyboardInterrupt  # the student stops the cell
        return original(self, index)

    monkeypatch.setattr(dataset_cls, "load_native", failing)
    with pytest.raises(KeyboardInterrupt):
        camvid(cache=True)
    assert not list((tmp_path / "cache").glob("*.images.npy"))  # nothing final yet
    calls.clear()
    calls.extend([None] * 10)  # let it pass now
    resumed = camvid(cache=True)
    assert calls[10:] == [2, 3, 4]  # items 0, 1 were saved before the interruption
    monkeypatch.setattr(dataset_cls, "load_native", original)
    plain = camvid()
    for i in range(len(plain)):
        np.testing.assert_array_equal(resumed.load(i)[0], plain.load(i)[0])


def test_cached_dataset_works_with_dataloader_workers(camvid):
    cached = camvid(cache=True)
    cached.load(0)  # opened in the parent: workers must map their own copy, not pickle the arrays
    loader = torch.utils.data.DataLoader(cached, batch_size=5, num_workers=2)
    images, masks = next(iter(loader))
    assert images.shape == (5, 3, 12, 16) and masks.shape == (5, 12, 16)
    assert torch.equal(masks[2], cached[2][1])


@pytest.mark.slow  # runs the benchmark in a fresh interpreter: 3-5 s on the 2-core machine
def test_cache_benchmark_prints_its_ratio_table(tmp_path):
    """The benchmark itself (speed is its business, not the tests'): it runs and prints the table."""
    import subprocess
    import sys
    from pathlib import Path

    layouts.make_camvid(tmp_path / "camvid", counts=(("train", 3),))
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_data_cache.py"
    out = subprocess.run([sys.executable, str(script), "--root", str(tmp_path / "camvid"), "--sizes", "12x16",
                          "--repeats", "1"], capture_output=True, text=True, check=True).stdout
    assert "camvid train 12x16, raw arrays, images/s" in out and "model-ready items" in out
    assert "x  decode + resize the PNGs" in out
