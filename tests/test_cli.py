"""The command line ``python -m seglib.train``: the notebooks' parameters, their checks, ``--out``."""

import json
import os
import subprocess
import sys

import pytest
import torch

from seglib import get_dataset, load_model
from seglib.train import __main__ as cli

ARGS = ["--model", "unet", "--dataset", "synthetic", "--image_size", "32x64", "--steps", "4", "--batch_size", "2",
        "--evaluations", "1"]


def small_splits(dataset, data_root, image_size):
    """``load_data`` with 8 train and 4 val scenes, to keep the test short."""
    return tuple(get_dataset(dataset, split, root=data_root, image_size=image_size, length=length)
                 for split, length in (("train", 8), ("val", 4)))


def run_cli(*args, launcher=(sys.executable,)):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([*launcher, "-m", "seglib.train", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_the_command_line_writes_metrics_and_weights(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "load_data", small_splits)
    cli.main([*ARGS, "--out", str(tmp_path)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "model.pt"]  # no temporary files
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["steps"] == 4 and metrics["world_size"] == 1 and metrics["device"] == "cpu"
    assert list(metrics["iou"]) == list(get_dataset("synthetic", "val", length=1).classes)
    assert 0 <= metrics["miou"] <= 1 and 0 <= metrics["pixel_acc"] <= 1 and metrics["seconds"] > 0
    assert load_model(tmp_path / "model.pt")(torch.zeros(1, 3, 32, 64)).shape == (1, 9, 32, 64)
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and "val mIoU" in printed[0] and "4 steps" in printed[0]


@pytest.mark.slow
def test_a_bad_parameter_exits_with_the_notebook_message():
    done = run_cli("--batch_size", "0", "--image_size", "30x64", "--lr", "fast")
    assert done.returncode != 0
    assert "bad parameter(s)" in done.stderr
    assert "batch_size must be a positive integer, got 0" in done.stderr
    assert "30x64 does not suit unet" in done.stderr and "multiples of 16" in done.stderr
    assert "lr must be a positive number" in done.stderr
    assert "found in sys.modules" not in done.stderr  # runpy's warning: seglib.train is a package


@pytest.mark.slow
def test_torchrun_trains_on_two_cpu_processes(tmp_path):
    done = run_cli(*ARGS, "--steps", "2", "--out", str(tmp_path),  # the last --steps counts
                   launcher=(sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"))
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["steps"] == 2
    assert done.stdout.count("val mIoU") == 1  # rank 0 alone prints


@pytest.mark.slow
def test_the_command_line_loads_no_notebook_or_plotting_code():
    code = ("import sys, seglib.train.__main__; "
            "print(sorted(m for m in sys.modules if m.startswith(('seglib.notebook', 'seglib.viz', 'matplotlib', "
            "'ipywidgets'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
