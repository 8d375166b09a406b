"""Checks for notebook 06's exercise: the best model that fits a budget of multiply-adds.

The reference is seglib's own ``costs.best_within_budget``, applied to leaderboard rows as the
notebook builds them: ``(name, val mIoU, pixel accuracy, parameters in M, GMACs per image,
train images/s, inference images/s)``.  The checks run on synthetic leaderboards.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..costs import best_within_budget
from .checking import Case, Mistake, run_check

__all__ = ["check_best_under_budget"]

NAME, MIOU, PIXEL_ACC, PARAMS, GMACS = range(5)
MODELS = ["fcn32s", "fcn16s", "fcn8s", "unet", "inception_unet", "dilated_unet", "deeplabv3", "deeplabv3plus",
          "pspnet"]


def best_by(score: int = MIOU, cost: int = GMACS, fits: Callable[[float, float], bool] = lambda c, b: c <= b,
            pick: Callable = max):
    """The name of the row that ``pick`` chooses by column ``score`` among the rows whose column
    ``cost`` ``fits`` the budget; None when none fits."""
    def choose(rows, max_gmacs):
        fitting = [row for row in rows if fits(row[cost], max_gmacs)]
        return pick(fitting, key=lambda row: row[score])[NAME] if fitting else None
    return choose


def reference_best_under_budget(rows, max_gmacs) -> str | None:
    return best_within_budget({row[NAME]: row[MIOU] for row in rows}, {row[NAME]: row[GMACS] for row in rows},
                              max_gmacs)


def first_fitting(rows, max_gmacs):
    return next((row[NAME] for row in rows if row[GMACS] <= max_gmacs), None)


def returned_row(got, expected, case: Case) -> bool:
    return isinstance(got, (tuple, list)) and len(got) > 0 and got[0] == expected


def none_fits_raises(got, expected, case: Case) -> bool:
    return isinstance(got, Exception) and expected is None


MISTAKES = [
    Mistake("the budget is ignored: choose among the models whose GMACs are at most max_gmacs",
            produces=best_by(fits=lambda c, b: True)),
    Mistake("a model exactly at the budget fits it: keep the GMACs that are at most (<=) max_gmacs",
            produces=best_by(fits=lambda c, b: c < b)),
    Mistake("the best model is the one with the highest val mIoU (the second column), not the highest pixel "
            "accuracy", produces=best_by(score=PIXEL_ACC)),
    Mistake("that is the cheapest model that fits: the answer is the most accurate one (highest val mIoU) "
            "among those that fit", produces=best_by(score=GMACS, pick=min)),
    Mistake("the budget is on the multiply-adds (GMACs, the fifth column), not the parameters",
            produces=best_by(cost=PARAMS)),
    Mistake("the rows may come in any order: compare the val mIoU of the models that fit instead of taking "
            "the first one", produces=first_fitting),
    Mistake("return the model's name (the row's first item), not the whole row", matches=returned_row),
    Mistake("when no model fits the budget, return None (the max of an empty sequence raises)",
            matches=none_fits_raises),
]


def leaderboard(seed: int, names=MODELS, sort: bool = True) -> list[tuple]:
    """Synthetic rows like the notebook's: mIoU and pixel accuracy that rank the models
    differently, parameters and GMACs that do not follow each other; sorted by mIoU like the
    notebook's unless ``sort`` is False."""
    rng = np.random.default_rng(seed)
    rows = []
    for name in names:
        gmacs = float(np.round(10 ** rng.uniform(-1.5, -0.2), 3))
        rows.append((name, float(np.round(rng.uniform(0.33, 0.5), 4)), float(np.round(rng.uniform(0.78, 0.9), 4)),
                     float(np.round(10 ** rng.uniform(-1, 0.35), 2)), gmacs, float(np.round(rng.uniform(20, 400), 1)),
                     float(np.round(rng.uniform(100, 2000), 1))))
    return sorted(rows, key=lambda row: -row[MIOU]) if sort else rows


def check_best_under_budget(best_under_budget: Callable) -> None:
    """``best_under_budget(rows, max_gmacs)``: the name of the highest-mIoU row whose GMACs are at
    most ``max_gmacs``, or None."""
    __tracebackhide__ = True  # the student sees their cell, not the check's code
    four = [("unet", 0.52, 0.89, 1.94, 0.86, 150.0, 900.0), ("deeplabv3plus", 0.49, 0.91, 1.1, 0.6, 90.0, 600.0),
            ("fcn8s", 0.45, 0.88, 0.9, 0.21, 300.0, 1500.0), ("fcn32s", 0.36, 0.87, 0.5, 0.3, 250.0, 1200.0)]
    boundary = [("deeplabv3plus", 0.49, 0.88, 1.1, 0.6, 90.0, 600.0), ("pspnet", 0.47, 0.90, 1.0, 0.5, 80.0, 500.0),
                ("fcn32s", 0.35, 0.86, 0.7, 0.12, 400.0, 1800.0)]
    cases = [
        Case("four models, all fit", (four, 2.0)),
        Case("four models, the best one is over the budget", (four, 0.7)),
        Case("a model exactly at the budget", (boundary, 0.5)),
        Case("no model fits the budget", (four, 0.1)),
        Case("nine models like the notebook's, budget 0.1 GMACs", (leaderboard(1), 0.1)),
        Case("nine models, budget 0.3 GMACs", (leaderboard(2), 0.3)),
        Case("nine models in no particular order, budget 0.2 GMACs", (leaderboard(6, sort=False), 0.2)),
    ]
    run_check("best_under_budget", best_under_budget, reference_best_under_budget, cases, MISTAKES)
