"""Root pytest hooks: nbval's notebook cells count as slow tests.

So ``make test-fast`` (``pytest tests -m "not slow"``) gives the quick unit tests alone, while a
plain ``make test`` runs everything (CI does).  A notebook whose lesson is a real dataset
(07: CamVid) is skipped, with the line that says how to get the data, on a machine that does
not have it; where ``$SEGLIB_<NAME>`` is set (CI sets ``SEGLIB_CAMVID``) it always runs, so
data missing there fails loudly."""

import functools
import json
import os

import pytest


@functools.cache
def missing_data(notebook) -> str | None:
    from seglib.data import missing_dataset
    from seglib.data.paths import environment_variable

    name = json.loads(notebook.read_text())["metadata"].get("seglib", {}).get("dataset")
    if not name or os.environ.get(environment_variable(name)):
        return None
    return missing_dataset(name)


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
            if reason := missing_data(item.path):
                item.add_marker(pytest.mark.skip(reason=reason))
