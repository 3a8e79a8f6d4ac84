"""Production code uses no private attribute, method or module of a dependency (ISSUE 16, "Storage on public ground").

An attribute named `_x` may be read only on `self`/`cls`, or where this module itself defines `_x`
(its own classes' internals); never through `super()`, whose `_x` belongs to a parent from elsewhere;
and nothing is imported from a private module (`telegram._utils`, say).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage", "domain", "sandbox")
# namedtuple's documented methods carry an underscore only to keep clear of field names.
DOCUMENTED = {"_make", "_replace", "_asdict", "_fields", "_field_defaults"}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in DOCUMENTED


def _own_names(tree: ast.Module) -> set[str]:
    """Private names this module defines: functions, methods, classes and attributes set on self."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    own = _own_names(tree)
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            through_super = isinstance(owner, ast.Call) and ast.unparse(owner.func) == "super"
            if through_super or not ((isinstance(owner, ast.Name) and owner.id in ("self", "cls")) or node.attr in own):
                uses.append(ast.unparse(node))
        elif isinstance(node, ast.ImportFrom) and node.module:
            if any(_private(part) for part in node.module.split(".")) or any(_private(a.name) for a in node.names):
                uses.append(f"from {node.module} import {', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Import):
            uses += [f"import {a.name}" for a in node.names if any(_private(p) for p in a.name.split("."))]
    return uses


FILES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_use_of_a_dependency(path: Path) -> None:
    assert _uses(path) == []


def test_the_check_finds_what_it_looks_for(tmp_path) -> None:
    """The control: each kind of private use is found, and own internals are not."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import aiosqlite\nfrom telegram._utils.types import ODVInput\n"
        "class Mine:\n    def __init__(self, conn):\n        self._conn = conn\n"
        "    async def run(self, other):\n        other._helper()\n        return self._conn._execute(1)\n"
        "    async def _post(self):\n        return await super()._post()\n"
        "def make(cls):\n    obj = Mine(1)\n    return obj._conn, Row._make(())\n"
    )
    assert _uses(sample) == [
        "from telegram._utils.types import ODVInput",
        "other._helper",
        "self._conn._execute",
        "super()._post",
    ]
