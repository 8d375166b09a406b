"""Root pytest hooks: nbval's notebook cells count as slow tests.

So ``make test-fast`` (``pytest tests -m "not slow"``) gives the quick unit tests alone, while a
plain ``make test`` runs everything (CI does).  A notebook whose lesson is a real dataset
(07: CamVid) is skipped, with the line that says how to get the data, on a machine that does
not have it; where ``$SEGLIB_<NAME>`` is set (CI sets ``SEGLIB_CAMVID``) it always runs, so
data missing there fails loudly."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
from run_notebooks import skip_reason  # noqa: E402  (the rule make run follows: one place)


def pytest_collection_modifyitems(items):
    reasons = {}
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
            if item.path not in reasons:
                reasons[item.path] = skip_reason(item.path, {})
            if reasons[item.path]:
                item.add_marker(pytest.mark.skip(reason=reasons[item.path]))
