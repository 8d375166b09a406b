"""Real-data results: U-Net and DeepLabV3+ trained from scratch on CamVid-11, scored on val.

    python benchmarks/camvid_results.py                          # 8 minutes per model (a GPU)
    python benchmarks/camvid_results.py --device cpu --minutes 15 --models unet

Each model (``create_model(name, num_classes=11)``, no pretrained weights) trains on the 367
``train`` images with ``seglib.train.recipe.train_model``, i.e. ``fit`` with its defaults for the
device, plus SegNet's median-frequency class weights (``seglib.median_frequency_weights``)
and random scale / crop / flip / jitter done on the device (``BatchAugment``).  Images are
resized to ``--image_size``, 352x480 by default: the nearest size to CamVid's 360x480 that
both models accept (a multiple of 16).  ``--steps`` defaults to what ``--minutes`` allows at
the speed ``seglib.measure_throughput`` measures; ``--minutes`` also stops training early.

The 101 ``val`` images are then scored at their native 360x480 against the full-size labels,
the usual CamVid protocol (``evaluate(..., native_resolution=True)``): each image is predicted
at the training size, the scale the model learnt, and its logits upsampled to 360x480.  The
report also gives the score of the full-size image fed to the model (``size="native"``, padded
to a multiple of 16), which shows the model everything larger than it learnt; ``--eval_resolution
train`` scores at the training size instead (quick).

Output: a markdown table (model, image size, steps, training time, hardware, val mIoU, pixel
accuracy), a table of per-class IoU (void is ignored), and the command line that reproduces
them; also saved to ``runs/camvid_results.md`` and ``.json``.  Read mIoU with the steps and
the time: these are short runs from scratch, far from SegNet's (which starts from VGG
weights and trains for hours).
"""

import argparse
import json
import shlex
from pathlib import Path

import numpy as np
import torch
from common import default_camvid_root, hardware, markdown

import seglib
from seglib.batch_augment import BatchAugment
from seglib.params import check_params, parse_size
from seglib.train.recipe import load_data, train_model


def default_steps(name, num_classes, image_size, batch_size, minutes, device) -> int:
    """The optimizer steps that fit in ``minutes`` (90%) at the measured training speed.
    The first steps of a fresh model are slow (memory allocation, kernel selection): warm up
    well, or the estimate is far too low (3 + 1 steps gave U-Net half its real speed on a CPU)."""
    model = seglib.create_model(name, num_classes=num_classes)
    rate = seglib.measure_throughput(model, image_size, batch_size, "train", steps=8, warmup=4, device=device)
    return max(1, int(0.9 * minutes * 60 * rate / batch_size))


def train_and_score(name, train_data, val_data, params, args, weights, held_out=None):
    """Train model ``name``; return its result row (a dict) with val ``miou``, ``pixel_acc``, ``iou``."""
    augment = None if args.no_augment else BatchAugment(scale=args.scale, crop=args.crop)
    fit_options = {"class_weights": weights, "num_workers": args.num_workers, "progress": args.progress,
                   "batch_augment": augment, "warmup_steps": args.warmup_steps,
                   "amp": args.amp or "auto", "channels_last": args.channels_last or "auto"}
    model, history = train_model(name, train_data, None, params, evaluations=1, fit_options=fit_options,
                                 **args.model_options.get(name, {}))
    native = args.eval_resolution == "native"
    metrics = seglib.evaluate(model, val_data, batch_size=params["batch_size"], native_resolution=native)
    full_input = seglib.evaluate(model, val_data, native_resolution=True, size="native") if native else metrics
    held = held_out and seglib.evaluate(model, held_out, batch_size=params["batch_size"], native_resolution=native)
    return {"model": name, "image_size": params["image_size"], "steps": history.last["step"],
            "seconds": history.last["seconds"], "stopped": history.stopped, "miou": metrics["miou"],
            "pixel_acc": metrics["pixel_acc"], "iou": metrics["iou"].tolist(), "miou_full_input": full_input["miou"],
            "held_out_miou": held and held["miou"], "held_out_iou": held and held["iou"].tolist()}


def report(results, classes, args, device) -> str:
    """The markdown report: one row per model, then per-class IoU, then the command line."""
    size = "x".join(map(str, args.image_size))
    scored = "native 360x480" if args.eval_resolution == "native" else size
    trained = f"{size}, crops {'x'.join(map(str, args.crop))}" if args.crop else size
    held = f"held-out drive {args.held_out_drive} mIoU" if args.held_out_drive else None
    rows = [["model", "trained at", "steps", "training time", "hardware", "val mIoU", "pixel acc",
             "val mIoU, full-size input", *([held] if held else [])]]
    for r in results:
        stop = " (time limit)" if r["stopped"] else ""
        rows.append([r["model"], f"{trained}, scored at {scored}", f"{r['steps']}{stop}",
                     f"{r['seconds'] / 60:.1f} min", hardware(device), f"{r['miou']:.3f}", f"{r['pixel_acc']:.3f}",
                     f"{r['miou_full_input']:.3f}", *([f"{r['held_out_miou']:.3f}"] if held else [])])
    per_class = [["class"] + [r["model"] for r in results]]
    per_class += [[c] + [f"{r['iou'][i]:.3f}" for r in results] for i, c in enumerate(classes)]
    return (f"# CamVid-11 val, trained from scratch\n\n{markdown(rows)}\n\nIoU per class:\n\n{markdown(per_class)}\n\n"
            f"Reproduce with:\n\n    {command_line(args, results)}\n")


def command_line(args, results) -> str:
    """The command that reruns these results, with the steps each model ran."""
    steps = ",".join(str(r["steps"]) for r in results)
    parts = ["python", "benchmarks/camvid_results.py", "--image_size", "x".join(map(str, args.image_size)),
             "--models", ",".join(r["model"] for r in results), "--steps", steps, "--batch_size", str(args.batch_size),
             "--lr", str(args.lr), "--seed", str(args.seed), "--device", args.device,
             "--eval_resolution", args.eval_resolution]
    if args.minutes:
        parts += ["--minutes", str(args.minutes)]
    if args.no_augment:
        parts.append("--no_augment")
    else:
        parts += ["--scale", ",".join(map(str, args.scale))] + (["--crop", "x".join(map(str, args.crop))]
                                                                if args.crop else [])
    parts += ["--class_weights", args.class_weights, "--warmup_steps", str(args.warmup_steps)]
    parts += [flag for flag, on in (("--amp", args.amp), ("--channels_last", args.channels_last)) if on]
    if args.held_out_drive:
        parts += ["--held_out_drive", args.held_out_drive]
    if args.model_options:
        parts += ["--model_options", json.dumps(args.model_options)]
    return shlex.join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_root", default=None, help="the CamVid-11 folder (default: the shared copy)")
    parser.add_argument("--image_size", default="352x480", help="training size HxW, a multiple of 16")
    parser.add_argument("--minutes", type=float, default=8.0, help="time limit per model")
    parser.add_argument("--steps", default=None, help="steps per model, or one per model: 3000,2000 "
                                                      "(default: what --minutes allows)")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--models", default="unet,deeplabv3plus")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num_workers", type=int, default=None, help="DataLoader workers (default: 2 on a GPU)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    parser.add_argument("--eval_resolution", choices=("native", "train"), default="native")
    parser.add_argument("--no_augment", action="store_true", help="train without BatchAugment")
    parser.add_argument("--held_out_drive", default=None,
                        help="train without this drive's frames (e.g. 0006R0) and score them too")
    parser.add_argument("--crop", default=None, help="train on HxW windows of the images (BatchAugment's crop)")
    parser.add_argument("--scale", default="0.75,1.25", help="BatchAugment's zoom range min,max")
    parser.add_argument("--warmup_steps", type=int, default=0)
    parser.add_argument("--amp", action="store_true", help="bf16 autocast, also on a CPU (fast where the CPU "
                                                           "has AVX512-BF16 or AMX; GPUs use it by default)")
    parser.add_argument("--channels_last", action="store_true", help="NHWC layout, also on a CPU")
    parser.add_argument("--class_weights", choices=("median", "sqrt", "none"), default="median",
                        help="median-frequency weights, their square roots, or none")
    parser.add_argument("--model_options", type=json.loads, default={},
                        help='JSON keyed by model, e.g. \'{"deeplabv3plus": {"base_channels": 24}}\'')
    parser.add_argument("--no_progress", dest="progress", action="store_false")
    parser.add_argument("--out", type=Path, default=Path("runs/camvid_results"), help="saves OUT.md and OUT.json")
    args = parser.parse_args(argv)
    args.image_size = parse_size(args.image_size)
    args.crop = parse_size(args.crop) if args.crop else None
    args.scale = tuple(float(x) for x in args.scale.split(","))
    if args.threads:
        torch.set_num_threads(args.threads)
    device = seglib.select_device(args.device)
    if args.num_workers is None:
        args.num_workers = 2 if device.type == "cuda" else 0
    names = args.models.split(",")
    steps = [None] * len(names) if args.steps is None else [int(s) for s in args.steps.split(",")]
    steps = steps * len(names) if len(steps) == 1 else steps

    root = str(args.data_root or default_camvid_root())
    drive = {"held_out_drive": args.held_out_drive} if args.held_out_drive else {}
    train_data, val_data = load_data("camvid", root, args.image_size, **drive)
    held_out = seglib.get_dataset("camvid", "held_out", root=root, image_size=args.image_size, cache=True,
                                  **drive) if drive else None
    weights = seglib.median_frequency_weights(train_data)
    weights = {"median": weights, "sqrt": np.sqrt(weights), "none": None}[args.class_weights]
    if weights is not None:
        print(f"{train_data}\n{args.class_weights} class weights: {' '.join(f'{w:.2f}' for w in weights)}")
    results = []
    for name, n in zip(names, steps):
        n = n or default_steps(name, train_data.num_classes, args.image_size, args.batch_size, args.minutes, device)
        params = check_params(dataset="camvid", data_root=root, image_size=args.image_size, batch_size=args.batch_size,
                              steps=n, max_minutes=args.minutes, lr=args.lr, device=args.device, seed=args.seed,
                              model=name)
        print(f"{name}: {params['steps']} steps of {args.batch_size} images, at most {args.minutes} min")
        results.append(train_and_score(name, train_data, val_data, params, args, weights, held_out))

    text = report(results, train_data.classes, args, device)
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps({"hardware": hardware(device), "results": results}, indent=1))
    return results


if __name__ == "__main__":
    main()
