"""The public API is typed: every parameter and return of what ``seglib.__all__`` names, the
model and dataset constructors, the widgets' constructors and the losses has an annotation."""

import inspect

import pytest

from seglib.data.registry import DATASETS
from seglib.models import MODELS


def public_callables():
    import seglib.widgets

    named = {name: getattr(seglib, name) for name in seglib.__all__}
    named.update({f"models.{name}": cls for name, cls in MODELS.items()})
    named.update({f"data.{name}": cls for name, cls in DATASETS.items()})
    named.update({f"widgets.{name}": getattr(seglib.widgets, name) for name in seglib.widgets.__all__})
    return {name: obj for name, obj in named.items() if callable(obj)}


def missing_annotations(obj) -> list[str]:
    function = obj.__init__ if inspect.isclass(obj) else obj
    signature = inspect.signature(function)
    missing = [p.name for p in signature.parameters.values()
               if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               and p.annotation is inspect.Parameter.empty]
    if not inspect.isclass(obj) and signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


@pytest.mark.parametrize("name", sorted(public_callables()))
def test_public_api_is_typed(name):
    assert missing_annotations(public_callables()[name]) == []
