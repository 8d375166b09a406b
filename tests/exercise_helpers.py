"""The notebooks' exercise solutions as Python objects, for the checks' unit tests.

``solution("00_data_and_metrics.ipynb", "confusion_matrix")`` executes that notebook's
solution cell (nbgrader ``grade_id``) with the imports the notebooks' set-up cells make and
returns the object the cell defines under that name."""

import functools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def exercise_cells(notebook: str) -> dict[str, dict]:
    """``{grade_id: cell}`` of a notebook's nbgrader cells."""
    cells = json.loads((ROOT / "notebooks" / notebook).read_text())["cells"]
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in cells if "nbgrader" in c["metadata"]}


@functools.cache
def solution(notebook: str, name: str):
    cell = exercise_cells(notebook)[name]
    namespace = {"torch": torch, "np": np, "nn": torch.nn, "F": torch.nn.functional}
    exec(compile("".join(cell["source"]), f"{notebook}:{name}", "exec"), namespace)
    return namespace[name]


def diagnosis(check, answer) -> str:
    """The message of the AssertionError that ``check(answer)`` raises."""
    with pytest.raises(AssertionError) as error:
        check(answer)
    return str(error.value)
