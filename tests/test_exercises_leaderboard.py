"""Notebook 06's exercise check: it accepts the notebook's solution, names the known mistakes of
wrong ones, and its reference picks what a person reading the leaderboard would."""

import pytest
from exercise_helpers import diagnosis, solution

from seglib.costs import best_within_budget
from seglib.exercises import check_best_under_budget

NOTEBOOK = "06_comparison.ipynb"


def test_the_notebooks_solution_passes(capsys):
    check_best_under_budget(solution(NOTEBOOK, "best_under_budget"))
    assert capsys.readouterr().out.splitlines()[-1] == "all 7 cases pass"


def test_best_within_budget_on_the_committed_leaderboard():
    miou = {"deeplabv3plus": 0.486, "fcn8s": 0.484, "pspnet": 0.447, "unet": 0.408, "deeplabv3": 0.396,
            "dilated_unet": 0.374}
    gmacs = {"deeplabv3plus": 0.12, "fcn8s": 0.25, "pspnet": 0.15, "unet": 0.57, "deeplabv3": 0.06,
             "dilated_unet": 0.04}
    assert best_within_budget(miou, gmacs, 1.0) == "deeplabv3plus"
    assert best_within_budget(miou, gmacs, 0.12) == "deeplabv3plus"  # exactly at the budget
    assert best_within_budget(miou, gmacs, 0.1) == "deeplabv3"
    assert best_within_budget(miou, gmacs, 0.05) == "dilated_unet"
    assert best_within_budget(miou, gmacs, 0.01) is None
    assert best_within_budget({}, {}, 1.0) is None


# Wrong answers, written as a student would.

def ignores_budget(rows, max_gmacs):
    return max(rows, key=lambda row: row[1])[0]


def strict_budget(rows, max_gmacs):
    fitting = [row for row in rows if row[4] < max_gmacs]
    return max(fitting, key=lambda row: row[1])[0] if fitting else None


def by_pixel_accuracy(rows, max_gmacs):
    fitting = [row for row in rows if row[4] <= max_gmacs]
    return max(fitting, key=lambda row: row[2])[0] if fitting else None


def cheapest(rows, max_gmacs):
    fitting = sorted((row for row in rows if row[4] <= max_gmacs), key=lambda row: row[4])
    return fitting[0][0] if fitting else None


def budget_on_parameters(rows, max_gmacs):
    best = None
    for name, miou, _, params, _, _, _ in rows:
        if params <= max_gmacs and (best is None or miou > best[1]):
            best = (name, miou)
    return best[0] if best else None


def first_that_fits(rows, max_gmacs):
    for row in rows:
        if row[4] <= max_gmacs:
            return row[0]
    return None


def whole_row(rows, max_gmacs):
    fitting = [row for row in rows if row[4] <= max_gmacs]
    return max(fitting, key=lambda row: row[1]) if fitting else None


def max_of_nothing(rows, max_gmacs):
    return max((row for row in rows if row[4] <= max_gmacs), key=lambda row: row[1])[0]


def best_miou_value(rows, max_gmacs):  # no known mistake: the score, not the name
    fitting = [row[1] for row in rows if row[4] <= max_gmacs]
    return max(fitting) if fitting else None


@pytest.mark.parametrize(("wrong", "expected"), [
    (ignores_budget, "case 2 (four models, the best one is over the budget): the budget is ignored"),
    (strict_budget, "case 3 (a model exactly at the budget): a model exactly at the budget fits it"),
    (by_pixel_accuracy, "case 1 (four models, all fit): the best model is the one with the highest val mIoU"),
    (cheapest, "case 1 (four models, all fit): that is the cheapest model that fits"),
    (budget_on_parameters, "case 2 (four models, the best one is over the budget): the budget is on the "
                           "multiply-adds"),
    (first_that_fits, "case 7 (nine models in no particular order, budget 0.2 GMACs): the rows may come in any order"),
    (whole_row, "case 1 (four models, all fit): return the model's name"),
    (max_of_nothing, "case 4 (no model fits the budget): when no model fits the budget, return None"),
    (best_miou_value, "case 1 (four models, all fit), the smallest that fails: 0.52, expected 'unet'"),
])
def test_best_under_budget_names_the_mistake(wrong, expected):
    assert expected in diagnosis(check_best_under_budget, wrong)


def test_an_unwritten_exercise_says_so():
    def best_under_budget(rows, max_gmacs):
        raise NotImplementedError()
    assert "not written yet" in diagnosis(check_best_under_budget, best_under_budget)
