"""ConfusionMatrix.update against torchmetrics' MulticlassConfusionMatrix, on Cityscapes-sized batches.

    python benchmarks/bench_metrics.py                     # 8x512x1024, 19 classes, 2 torch threads
    python benchmarks/bench_metrics.py --device cuda --repeats 50
    python benchmarks/bench_metrics.py --size 256x512 --batch 4 --min-speedup 0

One update of a batch of int64 label maps (predictions and targets, about 5% of the target
pixels ignore_index=255) with three implementations: torchmetrics'
``MulticlassConfusionMatrix(num_classes, ignore_index=255)`` (the baseline, with its default
input validation), seglib's previous update (boolean mask of the kept pixels, then a bincount;
kept here as ``masked_update_counts``) and ``seglib.ConfusionMatrix.update`` (ignored pixels
binned in an extra row, no mask).  Each seglib version runs alternately with the baseline
(``common.timed_lists``), the two pairs taking turns; medians, and each speed-up against the
baseline calls of its own pair.  The three must count identically (``torch.equal``), and the
script exits non-zero when the new update is less than ``--min-speedup`` times the baseline.
The table is also saved to ``runs/bench_metrics.md``.
"""

import argparse
import sys
from pathlib import Path

import torch
from common import hardware, median, timed_lists
from torchmetrics import __version__ as torchmetrics_version
from torchmetrics.classification import MulticlassConfusionMatrix

import seglib
from seglib.atomic import write_bytes
from seglib.metrics import as_label_maps
from seglib.params import parse_size


def masked_update_counts(pred, target, num_classes: int, ignore_index: int = 255) -> torch.Tensor:
    """seglib's previous ``ConfusionMatrix.update``: keep the labelled pixels with a boolean
    mask (a copy of both tensors), check their ranges, bincount ``n * n`` bins."""
    pred, target = as_label_maps(pred, target)
    n = num_classes
    keep = target != ignore_index
    target, pred = target[keep], pred[keep]
    if target.numel() and (target.min() < 0 or target.max() >= n):
        bad = target[(target < 0) | (target >= n)].unique()[:5].tolist()
        raise ValueError(f"labels {bad} are outside 0..{n - 1} and are not ignore_index={ignore_index}")
    if pred.numel() and (pred.min() < 0 or pred.max() >= n):
        raise ValueError(f"predictions must lie in 0..{n - 1}")
    return torch.bincount(n * target + pred, minlength=n * n).reshape(n, n)


def make_batch(batch: int, size: tuple[int, int], num_classes: int, device, seed: int = 0):
    """int64 ``(pred, target)`` of shape ``[batch, H, W]``: targets uniform over the classes with
    about 5% of the pixels 255, predictions right about 70% of the time."""
    g = torch.Generator().manual_seed(seed)
    shape = (batch, *size)
    target = torch.randint(0, num_classes, shape, generator=g)
    pred = torch.where(torch.rand(shape, generator=g) < 0.7, target, torch.randint(0, num_classes, shape, generator=g))
    target[torch.rand(shape, generator=g) < 0.05] = 255
    return pred.to(device), target.to(device)


def markdown_table(rows: list[dict]) -> str:
    lines = ["| implementation | ms per update | speed-up vs torchmetrics |", "|---|---:|---:|"]
    lines += [f"| {r['implementation']} | {r['ms']:.2f} | {r['speedup']:.2f}x |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="512x1024", help="label map size HxW")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--classes", type=int, default=19)
    parser.add_argument("--repeats", type=int, default=9, help="timed updates per implementation (median)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch")
    parser.add_argument("--min-speedup", type=float, default=5.0,
                        help="exit non-zero if the new update is not this many times faster than torchmetrics")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_metrics.md"))
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = seglib.select_device(args.device)
    n = args.classes
    pred, target = make_batch(args.batch, size, n, device)

    # The counts first: all three must agree exactly.
    reference = MulticlassConfusionMatrix(n, ignore_index=255).to(device)
    reference.update(pred, target)
    expected = reference.compute()
    checked = seglib.ConfusionMatrix(n, ignore_index=255)
    checked.update(pred, target)
    for name, counts in (("the previous seglib update", masked_update_counts(pred, target, n)),
                         ("ConfusionMatrix.update", checked.mat)):
        if not torch.equal(counts, expected):
            raise SystemExit(f"{name} counts differently from torchmetrics")

    baseline, ours = MulticlassConfusionMatrix(n, ignore_index=255).to(device), seglib.ConfusionMatrix(n)
    pairs = {"old": (lambda: baseline.update(pred, target), lambda: masked_update_counts(pred, target, n)),
             "new": (lambda: baseline.update(pred, target), lambda: ours.update(pred, target))}
    times = {name: ([], []) for name in pairs}  # name: (baseline seconds, seglib seconds)
    for repeat in range(args.repeats):  # the two pairs take turns, so that both see the same load
        for name, (run_baseline, run_seglib) in pairs.items():
            base, seg = timed_lists(run_baseline, run_seglib, 1, warmup=2 if repeat == 0 else 0, device=device)
            times[name][0].extend(base)
            times[name][1].extend(seg)
    (base_old, old), (base_new, new) = times["old"], times["new"]
    rows = [  # each speed-up against the baseline calls of its own pair
        {"implementation": "torchmetrics MulticlassConfusionMatrix (baseline)",
         "ms": 1e3 * median(base_old + base_new), "speedup": 1.0},
        {"implementation": "seglib, previous update (boolean mask)", "ms": 1e3 * median(old),
         "speedup": median(base_old) / median(old)},
        {"implementation": "seglib ConfusionMatrix.update (extra row, no mask)", "ms": 1e3 * median(new),
         "speedup": median(base_new) / median(new)},
    ]
    title = (f"{hardware(device)}, torch {torch.__version__}, torchmetrics {torchmetrics_version}; "
             f"{args.batch}x{size[0]}x{size[1]} int64 label maps, {n} classes, "
             f"{(target == 255).float().mean():.1%} pixels ignored; median of {args.repeats} updates; counts identical")
    table = markdown_table(rows)
    print(f"{title}\n\n{table}")
    command = " ".join(["python benchmarks/bench_metrics.py", *argv])
    write_bytes(args.out, f"# ConfusionMatrix.update\n\n{title}\n\n    {command}\n\n{table}\n".encode())
    if rows[-1]["speedup"] < args.min_speedup:
        raise SystemExit(f"ConfusionMatrix.update is {rows[-1]['speedup']:.2f}x torchmetrics, "
                         f"less than --min-speedup {args.min_speedup}")
    return rows


if __name__ == "__main__":
    main()
