"""The command line: train one model with the notebooks' parameters.

    python -m seglib.train --model unet --dataset camvid --data_root ~/data/camvid --steps 2000 --out runs/unet
    torchrun --nproc_per_node=2 -m seglib.train --model unet --dataset camvid --steps 2000 --out runs/unet

``--batch_size`` is per process (a step sees ``batch_size x processes`` images).  ``--out``
gets ``metrics.json`` (final val metrics, per-class IoU by name, steps, seconds, processes,
device) and ``model.pt`` (reload with ``seglib.load_model``).  ``--help`` lists the options.
"""

import argparse
import math
import sys
from pathlib import Path

from ..atomic import write_json
from ..checkpoint import save_checkpoint
from ..data import list_datasets
from ..device import select_device
from ..distributed import close, init, is_main, main_first, world_size
from ..models import list_models
from ..params import check_params
from .recipe import load_data, train_model

PARAMS = ("model", "dataset", "data_root", "image_size", "batch_size", "steps", "max_minutes", "lr", "device", "seed")


def number_or_text(text):
    """``"8"`` -> 8, ``"3e-3"`` -> 0.003, anything else unchanged, so that ``check_params``
    judges every value and gives the notebooks' error messages."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


class HelpFormat(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """``--help`` shows the module docstring as written and each option's default."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m seglib.train", description=__doc__, formatter_class=HelpFormat)
    add = parser.add_argument
    add("--model", default="unet", help="one of: " + ", ".join(list_models()))
    add("--dataset", default="synthetic", help="one of: " + ", ".join(list_datasets()))
    add("--data_root", default=None, help="a real dataset's folder; None: ~/seglib-data/<dataset>")
    add("--image_size", default="96x128", help="height x width the model trains at")
    add("--batch_size", type=number_or_text, default=8, help="images per process and step")
    add("--steps", type=number_or_text, default=250, help="optimizer steps")
    add("--max_minutes", type=number_or_text, default=None, help="stop after this wall-clock time")
    add("--lr", type=number_or_text, default=3e-3, help="peak learning rate")
    add("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    add("--seed", type=number_or_text, default=0)
    add("--checkpoint", default=None, help="checkpoint file, saved at every evaluation")
    add("--resume", action="store_true", help="continue from --checkpoint")
    add("--out", default=None, help="folder for metrics.json and model.pt")
    add("--workers", type=int, default=0, help="DataLoader worker processes per training process")
    add("--compile", action="store_true", help="torch.compile the model")
    add("--evaluations", type=int, default=5, help="evaluations on the val split during training")
    return parser.parse_args(argv)


def finite_or_none(value):
    return None if math.isnan(value) else value  # JSON has no NaN


def results(params, history, classes, device) -> dict:
    """The final record of a run, as ``metrics.json`` stores it."""
    last = history.last
    return {"model": params["model"], "dataset": params["dataset"], "image_size": list(params["image_size"]),
            "batch_size": params["batch_size"], "world_size": world_size(), "device": str(device),
            "steps": last["step"], "seconds": round(last["seconds"], 2), "stopped": history.stopped,
            "miou": finite_or_none(last["miou"]), "pixel_acc": finite_or_none(last["pixel_acc"]),
            "iou": {name: finite_or_none(iou) for name, iou in zip(classes, last["iou"])}}


def main(argv: list[str] | None = None) -> dict:
    """Parse, check, train, write ``--out``; returns the results (on every process)."""
    args = parse_args(argv)
    try:
        params = check_params(**{name: getattr(args, name) for name in PARAMS})
    except ValueError as error:
        sys.exit(f"python -m seglib.train: {error}")  # exit status 1, the message on stderr
    device = init(select_device(params["device"]))  # joins the torchrun processes, if any
    with main_first():  # rank 0 builds a real dataset's cache, the others then read it
        train_data, val_data = load_data(params["dataset"], params["data_root"], params["image_size"])
    fit_options = {"checkpoint": args.checkpoint, "resume": args.resume, "num_workers": args.workers,
                   "compile": args.compile}
    model, history = train_model(params["model"], train_data, val_data, {**params, "device": str(device)},
                                 args.evaluations, fit_options)
    result = results(params, history, train_data.classes, device)
    if is_main():
        if args.out:
            write_json(Path(args.out) / "metrics.json", result)
            save_checkpoint(Path(args.out) / "model.pt", model, steps=result["steps"])
        print(f"{result['model']} on {result['dataset']}: val mIoU {last_value(result, 'miou')}, pixel accuracy "
              f"{last_value(result, 'pixel_acc')} after {result['steps']} steps in {result['seconds']:.0f} s "
              f"({result['world_size']} x {result['device']})" + (f"; wrote {args.out}" if args.out else ""))
    close()
    return result


def last_value(result, key):
    return "-" if result[key] is None else f"{result[key]:.3f}"


if __name__ == "__main__":
    main()
