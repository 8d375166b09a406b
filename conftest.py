"""Root pytest hooks: nbval's notebook cells count as slow tests.

So ``make test-fast`` (``pytest tests -m "not slow"``) gives the quick unit tests alone, while a
plain ``make test`` runs everything (CI does).  A notebook whose lesson is a real dataset
(07: CamVid) is skipped, with the line that says how to get the data, on a machine that does
not have it; where ``$SEGLIB_<NAME>`` is set (CI sets ``SEGLIB_CAMVID``) it always runs, so
data missing there fails loudly.

The suite trains with a training cache of its own, a fresh folder per session (set before
any notebook kernel starts, so they share it): what one test or notebook trained, a later one
with the same recipe loads, and nothing from outside the session is ever read.

On x86-64 every test and notebook kernel runs PyTorch's CPU kernels at AVX2
(``seglib.seeding.pin_cpu_kernels``): set here, before any kernel runs, and inherited by the kernels
nbval and papermill start, so the committed outputs match on CPUs with and without AVX512."""

import os
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
from run_notebooks import skip_reason  # noqa: E402  (the rule make run follows: one place)

from seglib.seeding import pin_cpu_kernels  # noqa: E402

pin_cpu_kernels()  # before any test or kernel runs a tensor operation


def pytest_configure(config):
    os.environ["SEGLIB_TRAINING_CACHE"] = tempfile.mkdtemp(prefix="seglib-training-cache-")


def pytest_collection_modifyitems(items):
    reasons = {}
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
            if item.path not in reasons:
                reasons[item.path] = skip_reason(item.path, {})
            if reasons[item.path]:
                item.add_marker(pytest.mark.skip(reason=reasons[item.path]))
