"""The sandbox ships with the bot but stays out of it: only the command that starts it imports it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> list[tuple[str, ast.FunctionDef | None]]:
    """Each module `path` imports, with the function the import statement stands in (None: at module level)."""
    found: list[tuple[str, ast.FunctionDef | None]] = []

    def walk(node: ast.AST, function: ast.FunctionDef | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((alias.name, function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.extend((f"{child.module}.{alias.name}", function) for alias in child.names)
            walk(child, child if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function)

    walk(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


def imports_of(package: str, wanted: str) -> dict[str, list[str]]:
    """{file: [where each import of `wanted` (or a module in it) stands]} over the package's files."""
    hits: dict[str, list[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for module, function in imported_modules(path):
            if module == wanted or module.startswith(wanted + "."):
                hits.setdefault(str(path.relative_to(ROOT)), []).append(function.name if function else "<module>")
    return hits


def test_handlers_storage_and_domain_never_import_the_sandbox() -> None:
    for package in ("handlers", "storage", "domain"):
        assert imports_of(package, "sandbox") == {}, package


def test_in_bot_only_the_sandbox_command_starts_the_sandbox_lazily() -> None:
    """bot/sandbox_run.py runs it; bot/cli.py's `sandbox` command imports that module inside the function
    alone, so `run` and every other command load no sandbox code."""
    assert list(imports_of("bot", "sandbox")) == ["bot/sandbox_run.py"]
    assert imports_of("bot", "bot.sandbox_run") == {"bot/cli.py": ["_sandbox"]}


def test_the_checker_sees_imports_inside_functions(tmp_path) -> None:
    """The walk finds a lazy import and names its function (so the tests above could fail)."""
    path = tmp_path / "m.py"
    path.write_text("import os\n\ndef f():\n    from sandbox.core import BotApiCore\n")
    assert [(m, f.name if f else None) for m, f in imported_modules(path)] == [
        ("os", None),
        ("sandbox.core.BotApiCore", "f"),
    ]
