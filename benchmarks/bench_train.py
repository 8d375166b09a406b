"""What each of fit's speed-ups buys: training images/s against a plain fp32 loop.

    python benchmarks/bench_train.py                                  # GPU: 352x480, U-Net and DeepLabV3+
    python benchmarks/bench_train.py --dataset camvid --num_workers 8  # the loader column on real data
    python benchmarks/bench_train.py --device cpu --size 96x128 --batch 4 --steps 2 --skip compile

The measured step is fit's own: ``seglib.train.loop.prepare`` builds the run from a
``FitConfig`` and ``train_batch`` does one step (learning rate, copy of a host (CPU) batch to
the device, batch augmentation, layout, forward, backward, optimizer), at 352x480 by default (CamVid's 360x480
is not a multiple of 16, which U-Net's four poolings need).  The baseline is a plain loop on
the same model and data: fp32, NCHW, no autocast, no compile, default backend flags, AdamW,
pageable memory, augmentation on the CPU per item.  Each row switches one optimisation on, then
"fit defaults" is what ``fit`` does on this device without options and "all on" is every
optimisation the device has.  A row and the baseline run alternately (``common.timed_pair``):
medians of ``--repeats`` windows of ``--steps`` steps, after a warm-up (compiling included).
The baseline's own row pairs it with a second copy of itself: how far its ratio is from 1
is the noise of the measurement.

Columns, per model (its forward GFLOPs per image are in the table's title):

* ``step img/s`` and ``vs plain``: training images per second, and its ratio to the baseline
  measured in the same pairs (> 1 is faster);
* ``loader img/s`` and ``loader/step``: what the real DataLoader (``--num_workers``, the
  config's augmentation and pinning) delivers; below 1 the loader cannot feed the step and
  training runs at the loader's rate;
* ``peak MB``: the config's model, optimizer and activations (GPU: ``max_memory_allocated``;
  CPU: growth of the resident set, sampled with psutil);
* ``TFLOP/s`` and ``MFU``: 3 x forward FLOPs (forward + backward) x images/s, and that as a
  share of the GPU's dense bf16 peak (``n/a`` on a CPU or a GPU not in ``PEAK_TFLOPS``).

A row that the device cannot run says ``n/a`` and why in its note.  The tables are also saved to
``runs/bench_train.md`` and ``.json``.
"""

import argparse
import json
import re
import resource
import shutil
import threading
import time
from importlib.util import find_spec
from pathlib import Path

import torch
from common import default_camvid_root, hardware, markdown, sync, timed_pair
from torch.utils.data import DataLoader

import seglib
from seglib.batch_augment import BatchAugment
from seglib.device import autocast_dtype
from seglib.params import parse_size
from seglib.train import EpochSampler, FitConfig, device_settings
from seglib.train.loop import Schedule, prepare, train_batch

OPTIONS = ("amp", "channels_last", "compile", "fused", "pin_memory", "gpu_augment")
ROWS = {  # label: the options switched on over the plain loop
    "plain fp32 loop (baseline)": (),
    "+ mixed precision (autocast)": ("amp",),
    "+ channels_last": ("channels_last",),
    "+ torch.compile": ("compile",),
    "+ fused AdamW": ("fused",),
    "+ pinned memory, non_blocking copies": ("pin_memory",),
    "+ augmentation on the GPU (BatchAugment)": ("gpu_augment",),
}
PEAK_TFLOPS = (  # dense bf16 (T4: fp16), by a pattern of torch.cuda.get_device_name()
    (r"H100.*PCIe", 756), (r"H100|H200", 989), (r"A100", 312), (r"\bL4\b", 121), (r"\bT4\b", 65),
    (r"RTX 4090", 165),
)


# ---------------------------------------------------------------- what the device can do


def fit_defaults(device) -> tuple:
    """The options ``fit`` switches on by default on ``device`` (``device_settings`` of a
    default ``FitConfig``: the same rule ``fit`` follows)."""
    defaults = FitConfig()
    settings = device_settings(defaults, device)
    chosen = {"amp": settings.amp_dtype is not None, "channels_last": settings.channels_last,
              "compile": defaults.compile, "fused": settings.fused, "pin_memory": settings.pin_memory,
              "gpu_augment": defaults.batch_augment is not None}
    return tuple(name for name in OPTIONS if chosen[name])


def fit_config(options) -> FitConfig:
    """The ``FitConfig`` with exactly ``options`` switched on (the baseline: none of them)."""
    return FitConfig(amp="amp" in options, channels_last="channels_last" in options, compile="compile" in options,
                     fused="fused" in options, pin_memory="pin_memory" in options,
                     batch_augment=BatchAugment() if "gpu_augment" in options else None, progress=False)


def unavailable(option, device):
    """Why ``option`` cannot run on ``device``, or None."""
    if option == "pin_memory" and device.type != "cuda":
        return "pinned memory needs a CUDA GPU"
    if option == "fused" and device.type != "cuda":
        return "seglib's make_optimizer fuses on CUDA only"
    if option == "compile" and device.type == "cpu" and not (shutil.which("cc") or shutil.which("gcc")):
        return "torch.compile on a CPU needs a C++ compiler"
    if option == "compile" and device.type == "cuda" and find_spec("triton") is None:
        return "torch.compile on a GPU needs triton"
    return None


def peak_tflops(device):
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else ""
    return next((peak for pattern, peak in PEAK_TFLOPS if re.search(pattern, name)), None)


class PeakMemory:
    """``with PeakMemory(device) as mem: ...`` then ``mem.megabytes``: the block's peak extra
    memory.  GPU: ``torch.cuda.max_memory_allocated``; CPU: the resident set, sampled every
    2 ms with psutil (without psutil: the rise of ``ru_maxrss``, which sees only new records)."""

    def __init__(self, device):
        self.device, self.megabytes, self.thread = device, 0.0, None

    def __enter__(self):
        if self.device.type == "cuda":
            sync(self.device)
            self.base = torch.cuda.memory_allocated(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        elif find_spec("psutil"):
            import psutil
            self.process, self.done = psutil.Process(), threading.Event()
            self.base = self.peak = self.process.memory_info().rss
            self.thread = threading.Thread(target=self.sample, daemon=True)
            self.thread.start()
        else:
            self.base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KB on Linux
        return self

    def sample(self):
        while not self.done.wait(0.002):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            sync(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        elif self.thread:
            self.done.set()
            self.thread.join()
            peak = self.peak
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.megabytes = (peak - self.base) / 2**20


# ---------------------------------------------------------------- data


def make_dataset(args, augment):
    """The training split at ``--size``, with per-item CPU augmentation or without."""
    options = {"image_size": args.size, "augment": augment}
    if args.dataset != "synthetic":
        options["cache"] = True
    return seglib.get_dataset(args.dataset, "train", root=args.data_root, **options)


def host_batches(dataset, batch_size, count=4):
    """``count`` batches as the loader yields them: CPU tensors (images, masks)."""
    sampler = iter(EpochSampler(len(dataset), seed=0))
    batches = []
    for _ in range(count):
        items = [dataset[next(sampler)] for _ in range(batch_size)]
        batches.append((torch.stack([i[0] for i in items]), torch.stack([i[1] for i in items])))
    return batches


def loader_rate(dataset, batch_size, num_workers, pin_memory, batches=10) -> float:
    """Images/s from a DataLoader built as ``fit`` builds it; the first batch (worker start-up)
    is not timed."""
    loader = DataLoader(dataset, batch_size=batch_size, sampler=EpochSampler(len(dataset), seed=0), drop_last=True,
                        num_workers=num_workers, pin_memory=pin_memory)
    batches = min(batches, len(loader) - 1)
    if batches < 1:
        raise ValueError(f"the dataset has {len(dataset)} items: too few for two batches of {batch_size}")
    it = iter(loader)
    next(it)
    start = time.perf_counter()
    for _ in range(batches):
        next(it)
    return batches * batch_size / (time.perf_counter() - start)


# ---------------------------------------------------------------- one configuration


def make_window(model_name, num_classes, options, batches, device, steps):
    """A function that runs ``steps`` of fit's training step (``train_batch``) with ``options``
    switched on, cycling through ``batches`` (pinned first when ``pin_memory`` is on)."""
    torch.manual_seed(0)
    model = seglib.create_model(model_name, num_classes=num_classes)
    config = fit_config(options)
    endless = Schedule(total_steps=10**9, steps_per_epoch=len(batches), eval_every=10**9,
                       global_batch=batches[0][0].shape[0])  # a constant learning rate, in effect
    training = prepare(model, config, device, endless)
    if training.settings.pin_memory:
        batches = [(x.pin_memory(), y.pin_memory()) for x, y in batches]
    model.train()

    def window():
        for _ in range(steps):
            train_batch(training, *batches[training.step % len(batches)])
    return window


# ---------------------------------------------------------------- one model


def bench_model(model_name, rows, args, device, data):
    """One table: a dict per row of ``rows`` (label -> options; None: every option whose own
    row ran), or its ``n/a`` reason."""
    num_classes = data[False].num_classes
    flops = seglib.count_flops(seglib.create_model(model_name, num_classes=num_classes), args.size)
    peak, loaders, results, ran = peak_tflops(device), {}, [], set()
    batches = {aug: host_batches(data[aug], args.batch) for aug in (False, True)}
    plain = make_window(model_name, num_classes, (), batches[True], device, args.steps)
    plain()  # warm-up
    for label, options in rows.items():
        options = tuple(o for o in OPTIONS if o in ran) if options is None else options
        row = {"model": model_name, "config": label, "options": list(options)}
        results.append(row)
        reasons = [r for r in (unavailable(o, device) for o in options) if r]
        if reasons:
            row["n/a"] = "; ".join(reasons)
            continue
        try:
            with PeakMemory(device) as memory:
                window = make_window(model_name, num_classes, options, batches["gpu_augment" not in options],
                                     device, args.steps)
                window()  # warm-up: compiles, picks kernels, allocates
            t_plain, t_row = timed_pair(plain, window, args.repeats, warmup=1, device=device)
        except Exception as error:  # an option this torch / device does not support
            row["n/a"] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
            continue
        ran.update(options)
        pin, aug = "pin_memory" in options, "gpu_augment" not in options
        if (aug, pin) not in loaders:
            loaders[aug, pin] = loader_rate(data[aug], args.batch, args.num_workers, pin, args.loader_batches)
        rate = args.batch * args.steps / t_row
        row.update(images_per_s=rate, vs_plain=t_plain / t_row, plain_images_per_s=args.batch * args.steps / t_plain,
                   loader_images_per_s=loaders[aug, pin], peak_mb=memory.megabytes,
                   tflops=3 * flops * rate / 1e12)
        row["mfu"] = row["tflops"] / peak if peak else None
        del window
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return flops, results


def markdown_table(results) -> str:
    """The rows as an aligned markdown table; the last column says why a row is n/a, or
    which options a combined row has."""
    head = ["config", "step img/s", "vs plain", "loader img/s", "loader/step", "peak MB", "TFLOP/s", "MFU", "note"]
    lines = [head]
    for r in results:
        note = (", ".join(r["options"]) or "none: = plain") if r["config"] in ("fit defaults", "all on") else ""
        if "n/a" in r:
            lines.append([r["config"], "n/a"] + [""] * 6 + [r["n/a"][:100]])
            continue
        mfu = "n/a" if r["mfu"] is None else f"{100 * r['mfu']:.1f}%"
        lines.append([r["config"], f"{r['images_per_s']:.1f}", f"{r['vs_plain']:.2f}x",
                      f"{r['loader_images_per_s']:.1f}", f"{r['loader_images_per_s'] / r['images_per_s']:.2f}",
                      f"{r['peak_mb']:.0f}", f"{r['tflops']:.2f}", mfu, note])
    return markdown(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="352x480", help="image size HxW, a multiple of 16 (CamVid is 360x480)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10, help="training steps per timed window")
    parser.add_argument("--repeats", type=int, default=5, help="timed windows per row (median)")
    parser.add_argument("--models", default="unet,deeplabv3plus")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    parser.add_argument("--dataset", default="synthetic", help="synthetic or camvid (cached at --size)")
    parser.add_argument("--data_root", default=None, help="default for camvid: the shared CamVid-11")
    parser.add_argument("--num_workers", type=int, default=4, help="DataLoader workers for the loader column")
    parser.add_argument("--loader_batches", type=int, default=10, help="timed batches for the loader column")
    parser.add_argument("--skip", default="", help=f"options not to run, comma-separated: {','.join(OPTIONS)}")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_train"), help="saves OUT.md and OUT.json")
    args = parser.parse_args(argv)
    args.size = parse_size(args.size)
    if args.dataset == "camvid" and args.data_root is None:
        args.data_root = default_camvid_root()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = seglib.select_device(args.device)
    skipped = set(filter(None, args.skip.split(",")))
    if skipped - set(OPTIONS):
        parser.error(f"--skip {args.skip}: valid options are {', '.join(OPTIONS)}")
    rows = {label: options for label, options in {**ROWS, "fit defaults": fit_defaults(device)}.items()
            if not skipped & set(options)}
    rows["all on"] = None  # every option whose own row ran
    data = {aug: make_dataset(args, aug) for aug in (False, True)}

    amp = str(autocast_dtype(device, True)).replace("torch.", "")
    title = (f"{hardware(device)}, torch {torch.__version__}, {args.dataset} {args.size[0]}x{args.size[1]}, "
             f"batch {args.batch}, {args.num_workers} loader workers, autocast {amp}; fit defaults here: "
             f"{', '.join(rows['fit defaults']) or 'none (plain)'}; peak MB: "
             f"{'torch.cuda.max_memory_allocated' if device.type == 'cuda' else 'growth of the resident set'}")
    print(title)
    report, records = [f"# Training speed\n\n{title}\n"], []
    for model_name in args.models.split(","):
        flops, results = bench_model(model_name, rows, args, device, data)
        table = f"## {model_name}: {flops / 1e9:.2f} GFLOP per image forward\n\n{markdown_table(results)}\n"
        print("\n" + table)
        report.append(table)
        records += results
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text("\n".join(report))
    args.out.with_suffix(".json").write_text(json.dumps({"title": title, "rows": records}, indent=1))
    print(f"saved {args.out.with_suffix('.md')} and .json")
    return records


if __name__ == "__main__":
    main()
