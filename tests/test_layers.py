"""The import layering, read from the source with ``ast``: every import looks down.

    base      seglib.atomic, .device, .seeding, .distributed
    core      seglib.data, .models, .metrics, .losses, .boundary, .checkpoint, .batch_augment
    run       seglib.train, .inference, .costs, .params, .exercises  (and the package's own __init__)
    show      seglib.viz, .widgets
    faces     seglib.notebook, the command line (seglib.train.__main__), benchmarks/, tools/

A module may import its own layer and those below it; a face imports no other face (the
command line and the benchmarks never import ``seglib.notebook``), and the benchmarks share
code through ``benchmarks/common.py`` only.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {
    "base": ("seglib.atomic", "seglib.device", "seglib.seeding", "seglib.distributed"),
    "core": ("seglib.data", "seglib.models", "seglib.metrics", "seglib.losses", "seglib.boundary",
             "seglib.checkpoint", "seglib.batch_augment"),
    "run": ("seglib.train", "seglib.inference", "seglib.costs", "seglib.params", "seglib.exercises"),
    "show": ("seglib.viz", "seglib.widgets"),
    "faces": ("seglib.notebook", "seglib.train.__main__"),
}
ORDER = list(LAYERS)
FACES = LAYERS["faces"]


def layer_of(module: str) -> str | None:
    """The layer of a seglib module (the longest matching prefix), None outside seglib."""
    if module == "seglib":
        return "run"  # the package's __init__: the public API, without plotting or notebooks
    matches = [(len(prefix), layer) for layer, prefixes in LAYERS.items() for prefix in prefixes
               if module == prefix or module.startswith(prefix + ".")]
    return max(matches)[1] if matches else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions, relative ones resolved."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from . import models`
    return found


def seglib_imports(path: Path) -> set[str]:
    return {name for name in imports(path) if layer_of(name)}


def wrong_arrows(path: Path, own_layer: str) -> list[str]:
    own = module_name(path) if path.is_relative_to(ROOT / "seglib") else None
    wrong = []
    for name in sorted(seglib_imports(path)):
        target = layer_of(name)
        upward = ORDER.index(target) > ORDER.index(own_layer)
        other_face = target == "faces" and not (own and (name == own or name.startswith(own + ".")))
        if upward or other_face:
            wrong.append(f"{path.relative_to(ROOT)} ({own_layer}) imports {name} ({target})")
    return wrong


LIBRARY = sorted((ROOT / "seglib").rglob("*.py"))
SCRIPTS = sorted((ROOT / "benchmarks").glob("*.py")) + sorted((ROOT / "tools").glob("*.py"))


def test_every_library_module_has_a_layer():
    assert [str(p) for p in LIBRARY if layer_of(module_name(p)) is None] == []


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(ROOT)))
def test_library_imports_look_down(path):
    assert wrong_arrows(path, layer_of(module_name(path))) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_benchmarks_and_tools_import_no_other_face(path):
    assert wrong_arrows(path, "faces") == []
    local = {p.stem for p in path.parent.glob("*.py")} - {"common", path.stem}
    assert sorted(imports(path) & local) == []  # scripts share code through common.py, not each other


def test_the_checker_sees_a_wrong_arrow(tmp_path, monkeypatch):
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    bad = tmp_path / "seglib" / "models" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("from ..train import fit\nfrom ..viz import overlay\nfrom .blocks import ConvBNReLU\n")
    assert wrong_arrows(bad, "core") == [
        "seglib/models/bad.py (core) imports seglib.train (run)",
        "seglib/models/bad.py (core) imports seglib.train.fit (run)",
        "seglib/models/bad.py (core) imports seglib.viz (show)",
        "seglib/models/bad.py (core) imports seglib.viz.overlay (show)"]
    cli = tmp_path / "benchmarks" / "bench_x.py"
    cli.parent.mkdir()
    cli.write_text("def f():\n    from seglib.notebook import parse_size\n")
    assert wrong_arrows(cli, "faces") == ["benchmarks/bench_x.py (faces) imports seglib.notebook (faces)",
                                          "benchmarks/bench_x.py (faces) imports seglib.notebook.parse_size (faces)"]
