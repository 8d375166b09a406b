"""Smoke tests of benchmarks/bench_train.py, camvid_results.py and bench_pinned_kernels.py at tiny sizes.

Speed is the benchmarks' business, not the tests': these check that they run, fill every
column and mark what the device cannot do as n/a."""

import importlib
import json
import platform
from pathlib import Path

import pytest
import torch

import seglib
import seglib.train.recipe
from seglib.seeding import X86_64

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def bench(monkeypatch):
    """``bench("bench_train")``: a module of benchmarks/, imported as the scripts import each other.
    The scripts' ``--threads`` is undone afterwards."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    threads = torch.get_num_threads()
    yield importlib.import_module
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_models(monkeypatch):
    """Every ``create_model`` call builds a narrow model: the smoke tests time nothing."""
    build = seglib.models.create_model

    def tiny(name, num_classes, **options):
        return build(name, num_classes=num_classes, base_channels=4, **options)
    for module in (seglib, seglib.train.recipe):
        monkeypatch.setattr(module, "create_model", tiny)


def test_fit_defaults_and_what_a_cpu_cannot_do(bench):
    bench_train = bench("bench_train")
    cpu = torch.device("cpu")
    assert bench_train.fit_defaults(cpu) == ()  # fit switches nothing on on a CPU
    assert "CUDA" in bench_train.unavailable("pin_memory", cpu)
    assert bench_train.unavailable("channels_last", cpu) is None
    assert bench_train.peak_tflops(cpu) is None and "threads" in bench_train.hardware(cpu)
    table = bench_train.markdown([["a", "bb"], ["ccc", "d"]]).splitlines()
    assert table == ["| a   | bb |", "|-----|----|", "| ccc | d  |"]


def test_peak_memory_sees_a_large_allocation(bench):
    pytest.importorskip("psutil")
    with bench("bench_train").PeakMemory(torch.device("cpu")) as memory:
        x = torch.ones(64, 2**20)  # 256 MB
        del x
    assert memory.megabytes > 200


def test_bench_train_prints_the_table(bench, tiny_models, tmp_path, capsys):
    rows = bench("bench_train").main(["--device", "cpu", "--threads", "1", "--size", "32x32", "--batch", "2",
                                      "--steps", "1", "--repeats", "1", "--models", "unet", "--num_workers", "0",
                                      "--loader_batches", "1", "--skip", "compile", "--out", str(tmp_path / "t")])
    by_config = {r["config"]: r for r in rows}
    assert by_config["fit defaults"]["options"] == [] and by_config["fit defaults"]["images_per_s"] > 0
    assert "CUDA" in by_config["+ pinned memory, non_blocking copies"]["n/a"]
    assert "gpu_augment" in by_config["all on"]["options"]
    out = capsys.readouterr().out
    assert "| plain fp32 loop (baseline)" in out and "loader/step" in out
    saved = json.loads((tmp_path / "t.json").read_text())  # what was measured, as printed
    assert [r["config"] for r in saved["rows"]] == [r["config"] for r in rows] and saved["title"] in out
    report = (tmp_path / "t.md").read_text()
    assert report.startswith(f"# Training speed\n\n{saved['title']}\n") and "## unet: " in report
    assert report[report.index("## unet: "):].strip() in out  # the table printed is the table saved


@pytest.mark.slow  # builds the data cache of CamVid at 32x48 (about 10 s)
def test_camvid_results_reports_miou_per_class(bench, tiny_models, shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SEGLIB_CACHE", str(tmp_path / "cache"))
    results = bench("camvid_results").main(["--data_root", str(shared_data / "camvid11"), "--image_size", "32x48",
                                            "--steps", "2", "--batch_size", "2", "--models", "unet", "--device", "cpu",
                                            "--threads", "1", "--eval_resolution", "train", "--no_progress", "--out",
                                            str(tmp_path / "r"), "--held_out_drive", "0006R0", "--crop", "16x32"])
    assert results[0]["steps"] == 2 and len(results[0]["iou"]) == 11 and 0 <= results[0]["miou"] <= 1
    assert 0 <= results[0]["held_out_miou"] <= 1 and len(results[0]["held_out_iou"]) == 11
    out = capsys.readouterr().out
    assert "| unet " in out and "| Bicyclist " in out and "held-out drive 0006R0 mIoU" in out
    assert "python benchmarks/camvid_results.py --image_size 32x48" in out
    assert "--crop 16x32" in out and "--held_out_drive 0006R0" in out


@pytest.mark.slow
@pytest.mark.skipif(platform.machine().lower() not in X86_64, reason="the AVX2 pin is x86-64's")
def test_bench_pinned_kernels_times_both_variants_in_child_processes(bench, capsys):
    module = bench("bench_pinned_kernels")
    native = module.child_run("unet", 1, pinned=False)
    pinned = module.child_run("unet", 1, pinned=True)
    assert pinned["capability"] == "AVX2" and len(pinned["losses"]) == 3  # 2 warm-up steps + 1 timed
    assert native["capability"] in {"AVX2", "AVX512", "DEFAULT", "NO AVX"}  # the machine's own choice
    assert pinned["images_per_s"] > 0 and native["images_per_s"] > 0
    module.main(["--models", "unet", "--steps", "1", "--rounds", "1"])
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("unet "))
    assert "img/s" in row and row.rstrip().endswith(("yes", "no"))
