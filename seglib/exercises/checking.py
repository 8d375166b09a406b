"""The machinery behind every exercise check: run the student's code on cases, compare with
seglib's reference, name a known mistake, never show the solution.

A check is a list of :class:`Case` (smallest first), a reference function and a list of
:class:`Mistake`.  :func:`run_check` prints one line per case, then ``all N cases pass``; on
a wrong answer it raises ``AssertionError`` whose message names the mistake when a known one
explains what the student's code returned (on every failing case, or else on the first, the
smallest: a mistake that only explains a later case may be a coincidence), and otherwise
shows the smallest failing input with the expected and the returned value.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
import torch
from torch import nn

__all__ = ["Case", "Mistake", "difference", "module_facts", "run_check", "show"]

NOT_WRITTEN = ("not written yet: replace `raise NotImplementedError()` in the exercise cell with your code, "
               "run that cell, then this one")


@dataclass(frozen=True)
class Case:
    """One call to try: ``function(*args, **kwargs)``, described in a few words."""

    description: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer and the sentence that names it.

    ``produces`` has the student function's signature and returns what code with this mistake
    returns; or ``matches(got, expected, case)`` says whether ``got`` shows the mistake."""

    message: str
    produces: Callable[..., Any] | None = None
    matches: Callable[[Any, Any, Case], bool] | None = None

    def explains(self, got: Any, expected: Any, case: Case) -> bool:
        try:
            if self.produces is not None:
                wrong = self.produces(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
                if difference(got, wrong) is None and difference(wrong, expected) is not None:
                    return True
            return bool(self.matches is not None and self.matches(got, expected, case))
        except Exception:  # a mistake that does not apply to this answer's type or shape
            return False


def as_array(value: Any) -> np.ndarray | None:
    """A tensor or array (or a nested list of numbers) as a float64 array; None for other values."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy()
    if isinstance(value, np.ndarray):
        return value.astype(np.float64)
    return None


def difference(got: Any, expected: Any, rtol: float = 1e-4, atol: float = 1e-5) -> str | None:
    """None when ``got`` equals ``expected`` (numbers within tolerance, NaN equal to NaN, tensors
    and arrays interchangeable); otherwise a short description of how they differ."""
    expected_array, got_array = as_array(expected), as_array(got)
    if expected_array is not None:
        if got_array is None:
            return f"returned {type(got).__name__}, expected a tensor or array"
        if got_array.shape != expected_array.shape:
            return f"shape {tuple(got_array.shape)}, expected {tuple(expected_array.shape)}"
        if not np.allclose(got_array, expected_array, rtol=rtol, atol=atol, equal_nan=True):
            return "wrong values"
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"returned {type(got).__name__}, expected a dict"
        for key, value in expected.items():
            if key not in got:
                return f"no {key!r}"
            found = difference(got[key], value, rtol, atol)
            if found:
                return f"{key}: {found}"
        return None
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return f"returned {type(got).__name__}, expected a {type(expected).__name__}"
        if len(got) != len(expected):
            return f"{len(got)} values, expected {len(expected)}"
        for index, (g, e) in enumerate(zip(got, expected)):
            found = difference(g, e, rtol, atol)
            if found:
                return f"item {index}: {found}"
        return None
    if isinstance(expected, (bool, str)) or expected is None:
        return None if got == expected and type(got) is type(expected) else f"{show(got)}, expected {show(expected)}"
    if isinstance(expected, (int, float)):
        if isinstance(got, torch.Tensor) and got.numel() == 1 or isinstance(got, np.ndarray | np.generic) \
                and got.size == 1:
            got = float(got)
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            return f"returned {type(got).__name__}, expected a number"
        if math.isnan(expected) and math.isnan(got):
            return None
        if not math.isclose(got, expected, rel_tol=rtol, abs_tol=atol):
            return f"{show(got)}, expected {show(expected)}"
        return None
    return None if got == expected else f"{show(got)}, expected {show(expected)}"


def show(value: Any, limit: int = 400) -> str:
    """A compact, readable form of an input or a result (arrays rounded to 3 decimals)."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        kind = "tensor" if isinstance(value, torch.Tensor) else "array"
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        if array.size > 64:
            return f"{kind} of shape {tuple(array.shape)}"
        text = np.array2string(array, precision=3, suppress_small=True, separator=", ", max_line_width=10**6)
        return f"{kind}({' '.join(text.split())})"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(show(v) for v in value)
        text = f"({inner}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) else f"[{inner}]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k!r}: {show(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, type):
        text = value.__name__
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def module_facts(module: nn.Module, x: torch.Tensor) -> dict:
    """What a module exercise is checked on: its output shape for input ``x`` and its
    parameter count (run in eval mode, without gradients)."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"expected an nn.Module, got {type(module).__name__}")
    module.eval()
    with torch.no_grad():
        out = module(x)
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"forward returned {type(out).__name__}, expected a tensor")
    return {"output shape": tuple(out.shape), "parameters": sum(p.numel() for p in module.parameters())}


@dataclass
class Outcome:
    case: Case
    failure: str | None = None   # None: the case passes
    diagnoses: tuple[str, ...] = ()  # the known mistakes that explain this case's answer
    not_written: bool = False


def try_case(student: Callable, reference: Callable, case: Case, mistakes: Sequence[Mistake],
             compare: Callable[[Any, Any], str | None]) -> Outcome:
    expected = reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
    try:
        got = student(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
    except NotImplementedError:
        return Outcome(case, "not written yet", not_written=True)
    except Exception as error:  # the student's bug, reported as the case's result
        diagnoses = tuple(m.message for m in mistakes if m.explains(error, expected, case))
        return Outcome(case, f"raised {type(error).__name__}: {error}; input {show_input(case)}", diagnoses)
    found = compare(got, expected)
    if found is None:
        return Outcome(case)
    diagnoses = tuple(m.message for m in mistakes if m.explains(got, expected, case))
    return Outcome(case, f"{found}; input {show_input(case)}: expected {show(expected)}, got {show(got)}",
                   diagnoses)


def show_input(case: Case) -> str:
    parts = [show(a) for a in case.args] + [f"{k}={show(v)}" for k, v in case.kwargs.items()]
    return ", ".join(parts)


def fail(message: str) -> NoReturn:
    """Raise the check's verdict.  IPython shows the frame that raises (this short one) and hides
    the check's machinery (``__tracebackhide__``), so the student reads their cell and the message."""
    raise AssertionError(message)


def run_check(name: str, student: Callable, reference: Callable, cases: Sequence[Case],
              mistakes: Sequence[Mistake] = (), compare: Callable[[Any, Any], str | None] = difference) -> None:
    """Run ``student`` and ``reference`` on every case (smallest first), print one line per
    case and ``all N cases pass``; raise ``AssertionError`` naming the mistake otherwise."""
    __tracebackhide__ = True  # IPython shows the student their own cell, not this machinery
    if not callable(student):
        fail(f"{name}: expected your function or class, got {show(student)}")
    outcomes = [try_case(student, reference, case, mistakes, compare) for case in cases]
    for number, outcome in enumerate(outcomes, 1):
        verdict = "ok" if outcome.failure is None else ("not written yet" if outcome.not_written else "WRONG")
        print(f"case {number}/{len(cases)}: {outcome.case.description}: {verdict}")
    failed = [(number, o) for number, o in enumerate(outcomes, 1) if o.failure is not None]
    if not failed:
        print(f"all {len(cases)} cases pass")
        return
    if all(o.not_written for _, o in failed):
        fail(f"{name}: {NOT_WRITTEN}")
    number, outcome = failed[0]
    everywhere = [d for d in outcome.diagnoses if all(d in o.diagnoses for _, o in failed)]
    if everywhere or outcome.diagnoses:  # a mistake that explains every failing case, else the first one
        fail(f"{name}, case {number} ({outcome.case.description}): {(everywhere or outcome.diagnoses)[0]}")
    fail(f"{name}, case {number} ({outcome.case.description}), the smallest that fails: {outcome.failure}")
