"""Imports between the areas of coopreg point one way, down the layers of docs/development.md.

A lower area that must react to a higher one sends a signal or offers a registry; it never
imports upward, and two areas of the same layer do not import each other. Imports made only for
type checking (`if TYPE_CHECKING:`) are not dependencies and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "coopreg"

# Highest first; an area may import the areas of the layers below its own, never its own
# layer's other areas, never a layer above.
LAYERS: list[set[str]] = [
    {"app"},  # coopreg/__init__.py, cli.py, home.py, templating.py, worker.py: the factory
    {"demo"},
    {"reports"},
    # the federations read what the cooperatives' areas report (funnel, coverage, collection)
    {"federations"},
    {"selfservice"},  # reads members, registrations, dues and receipts; sends codes
    {"messaging"},  # listens to the ledger's and the registrations' signals
    {"batches", "contributions", "imports", "field"},
    {"agreements"},
    {"members", "admin"},
    {"jobs"},
    {"auth"},
    {"cooperatives"},
    {"core"},
    {"extensions"},
]
RANK = {area: rank for rank, layer in enumerate(LAYERS) for area in layer}


def _area(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] not in RANK:
        return "app"  # the package itself and its top-level modules (factory, CLI, home)
    return parts[1]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(path: Path):
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_lines(tree)
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                targets = [".".join(base + ([node.module] if node.module else []))]
            else:
                targets = [node.module or ""]
        else:
            continue
        for target in targets:
            if target == "coopreg" or target.startswith("coopreg."):
                yield node.lineno, target


def layer_violations() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _area(_module_name(path))
        for line, target in _imports(path):
            destination = _area(target)
            if destination == source:
                continue
            if RANK[destination] <= RANK[source]:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({source}) imports "
                             f"{target} ({destination})")
    return found


def test_every_import_between_areas_points_down_the_layers():
    assert layer_violations() == []


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The guard itself: an upward import in a lower area is reported."""
    package = tmp_path / "coopreg"
    (package / "members").mkdir(parents=True)
    (package / "members" / "services.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from coopreg.core.money import to_minor\n"
        "if TYPE_CHECKING:\n    from coopreg.batches.models import Batch\n"
        "def f():\n    from coopreg.agreements.services import funnel\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", package)
    assert layer_violations() == [
        "coopreg/members/services.py:6 (members) imports coopreg.agreements.services "
        "(agreements)"]


def test_no_area_reaches_another_through_importlib():
    """A hidden import (importlib with a coopreg module's name) escapes the layer check."""
    hidden = [f"{path.relative_to(PACKAGE.parent)}"
              for path in sorted(PACKAGE.rglob("*.py"))
              if "import_module(" in (text := path.read_text(encoding="utf-8"))
              and '"coopreg.' in text.split("import_module(", 1)[1][:200]]
    assert hidden == []
