"""benchmarks/gpu_check.sh, the one script a lent GPU runs, in its CPU dry run at tiny sizes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_gpu_check_dry_run_writes_every_table(tmp_path):
    env = {**os.environ, "OUT_DIR": str(tmp_path), "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--dry-run"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# GPU check (dry run on the CPU)")
    assert "## GPU tests" in report and ("skipped" in report or "deselected" in report or "passed" in report)
    assert "## Training speed" in report and "plain fp32 loop (baseline)" in report
    assert "## ConfusionMatrix.update" in report and "torchmetrics" in report
