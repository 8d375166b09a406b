"""Timing helpers the benchmarks share: alternate baseline and candidate, report medians."""

import time

import torch


def sync(device):
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize()


def timed_lists(baseline, ours, repeats, warmup=2, device=None):
    """Seconds of each call of ``baseline()`` and of ``ours()``, called alternately so that
    both see the same machine state (turbo, caches, other load); warm-up calls left out."""
    times = ([], [])
    for i in range(warmup + repeats):
        for fn, bucket in zip((baseline, ours), times):
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            if i >= warmup:
                bucket.append(time.perf_counter() - start)
    return times


def timed_pair(baseline, ours, repeats, warmup=2, device=None):
    """Median seconds of ``baseline()`` and of ``ours()`` (see ``timed_lists``)."""
    return tuple(sorted(t)[len(t) // 2] for t in timed_lists(baseline, ours, repeats, warmup, device))


def print_table(rows):
    """Rows of (label, baseline, ours, baseline name) -> an aligned table with the ratio."""
    print(f"\n{'benchmark':<56} {'baseline':>9} {'seglib':>9} {'ratio':>7}  baseline is")
    for label, base, ours, base_name in rows:
        print(f"{label:<56} {base:9.1f} {ours:9.1f} {ours / base:6.2f}x  {base_name}")
