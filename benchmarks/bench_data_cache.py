"""The cached data path against decoding the PNGs, on the real CamVid-11 train split.

    python benchmarks/bench_data_cache.py                       # ../shared/data/camvid11, or $SEGLIB_SHARED_DATA
    python benchmarks/bench_data_cache.py --root ~/seglib-data/camvid --sizes 96x128 360x480

For each training size: images/s over one pass of the split, reading raw arrays
(``dataset.load``) and model-ready items (``dataset[i]``: tensors, normalised), for the
loader that decodes and resizes every PNG (the baseline) and for ``cache=True``, passes
alternating.  Also the one-off time to build the cache and its size on disk.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import default_camvid_root, print_table, timed_pair

import seglib
from seglib.params import parse_size


def one_pass(read, n):
    def run():
        for i in range(n):
            read(i)
    return run


def bench_size(root, size, cache_dir, repeats):
    raw = seglib.get_dataset("camvid", "train", root=root, image_size=size)
    start = time.perf_counter()
    cached = seglib.get_dataset("camvid", "train", root=root, image_size=size, cache=True, cache_dir=cache_dir)
    build = time.perf_counter() - start
    os.sync()  # let the cache's writes reach the disk before timing reads
    n = len(raw)
    megabytes = sum(p.stat().st_size for p in Path(cache_dir).glob("*.npy")) / 2**20
    print(f"{size[0]}x{size[1]}: {n} images, cache built in {build:.1f} s, "
          f"{megabytes:.0f} MB on disk (all sizes so far)")
    label = f"camvid train {size[0]}x{size[1]}"
    rows = []
    for what, reader in (("raw arrays", lambda d: d.load), ("model-ready items", lambda d: d.__getitem__)):
        t_raw, t_cached = timed_pair(one_pass(reader(raw), n), one_pass(reader(cached), n), repeats, warmup=1)
        rows.append((f"{label}, {what}, images/s", n / t_raw, n / t_cached, "decode + resize the PNGs"))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None, help="the CamVid-11 folder (SegNet layout)")
    parser.add_argument("--sizes", nargs="+", default=["96x128", "360x480"], help="training sizes HxW")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the split, each")
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args()
    root = args.root or default_camvid_root()
    print(f"CamVid-11 at {root}, 1 process (the DataLoader's workers multiply both columns alike)")
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = args.cache_dir or tmp
        rows = [row for size in args.sizes for row in bench_size(root, parse_size(size), cache_dir, args.repeats)]
    print_table(rows)


if __name__ == "__main__":
    main()
