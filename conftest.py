"""Root pytest hooks: nbval's notebook cells count as slow tests.

So ``make test-fast`` (``pytest tests -m "not slow"``) gives the quick unit tests alone, while a
plain ``make test`` runs everything (CI does)."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
