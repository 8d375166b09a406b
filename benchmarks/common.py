"""What the benchmarks share: timing (alternate baseline and candidate, report medians), the
hardware line, markdown tables and where the shared real data is.  Benchmarks import each
other's code from here only, never from another benchmark script."""

import os
import re
import time
from pathlib import Path

import torch

import seglib


def sync(device: torch.device | None) -> None:
    """Wait for the GPU's queued work (GPU work is asynchronous); nothing on a CPU."""
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
    return tuple(median(t) for t in timed_lists(baseline, ours, repeats, warmup, device))


def print_table(rows):
    """Rows of (label, baseline, ours, baseline name) -> an aligned table with the ratio."""
    print(f"\n{'benchmark':<56} {'baseline':>9} {'seglib':>9} {'ratio':>7}  baseline is")
    for label, base, ours, base_name in rows:
        print(f"{label:<56} {base:9.1f} {ours:9.1f} {ours / base:6.2f}x  {base_name}")


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def hardware(device: torch.device) -> str:
    """The GPU's name, or the CPU's model name and torch's thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpuinfo = Path("/proc/cpuinfo")
    names = re.findall(r"model name\s*:\s*(.*)", cpuinfo.read_text()) if cpuinfo.exists() else []
    return f"{names[0] if names else 'CPU'}, {torch.get_num_threads()} threads"


def markdown(lines: list[list[str]]) -> str:
    """Rows of cells (the first row is the header) -> a markdown table with aligned columns."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    text = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths)) + " |" for line in lines]
    text.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(text)


def default_camvid_root() -> Path:
    """The shared CamVid-11 copy (``SEGLIB_SHARED_DATA``, else ``../shared/data`` beside the
    repository), or the user's download in ``seglib.data.data_home()``."""
    shared = os.environ.get("SEGLIB_SHARED_DATA")
    shared = Path(shared) if shared else Path(__file__).resolve().parents[2] / "shared" / "data"
    return shared / "camvid11" if (shared / "camvid11").is_dir() else seglib.data.data_home() / "camvid"
