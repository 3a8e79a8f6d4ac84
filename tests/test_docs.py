"""The manual and the design of record stay usable: citations of the design point at sections that
exist, every test the README names exists, and the README stays short enough to read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "docs" / "design.md"
# A citation such as "docs/design.md §2" or "docs/design.md §3.1" (written so that this file cites nothing).
CITATION = re.compile(r"design\.md §(\d+(?:\.\d+)?)")
# A numbered heading: "## 2. Lifecycle" or "### 2.2 The table".
HEADING = re.compile(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", re.MULTILINE)
CITING = ("tests", "bench", "domain", "storage", "handlers", "bot", "docs")
README_MAX_LINES = 320


def _citations() -> list[tuple[Path, str]]:
    files = [ROOT / "README.md"] + [
        path for folder in CITING for path in sorted((ROOT / folder).rglob("*")) if path.suffix in (".py", ".md")
    ]
    return [(path, number) for path in files for number in CITATION.findall(path.read_text(encoding="utf-8"))]


def test_every_citation_of_the_design_names_a_section_it_has() -> None:
    sections = set(HEADING.findall(DESIGN.read_text(encoding="utf-8")))
    citations = _citations()
    by_tests = [
        path for path, _ in citations if path.relative_to(ROOT).parts[0] == "tests" and path.name != "test_docs.py"
    ]
    assert by_tests, "the tests cite the design"
    missing = [f"{path.relative_to(ROOT)}: §{number}" for path, number in citations if number not in sections]
    assert missing == [], f"citations of sections docs/design.md does not have: {missing}"


def test_nothing_cites_the_plan_outside_the_repository() -> None:
    stale = [
        str(path.relative_to(ROOT))
        for folder in CITING
        for path in sorted((ROOT / folder).rglob("*.py"))
        if re.search(r"(?<![/\w])DESIGN\.md", path.read_text(encoding="utf-8"))
    ]
    assert stale == [], f"cite docs/design.md instead of the plan outside the repository in: {stale}"


def test_the_readme_stays_a_manual_of_readable_length() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < README_MAX_LINES, f"README.md has {len(lines)} lines; history belongs in docs/performance.md"


def test_every_test_the_readme_names_exists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    files = set(re.findall(r"tests/[\w/]+\.py", readme))
    missing = [name for name in sorted(files) if not (ROOT / name).exists()]
    sources = "\n".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "tests").rglob("test_*.py")))
    defined = set(re.findall(r"^(?:async )?def (test_\w+)", sources, re.MULTILINE))
    missing += [name for name in sorted(set(re.findall(r"\b(test_\w+)`", readme))) if name not in defined]
    missing += [name for name in sorted(set(re.findall(r"::(test_\w+)", readme))) if name not in defined]
    assert missing == [], f"README.md names tests that do not exist: {missing}"
