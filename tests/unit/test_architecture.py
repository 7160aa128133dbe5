"""The architecture the folder tree promises, checked: stages import only the stages below them
(import-linter, contracts in pyproject.toml), one module talks to Chroma, modules stay small,
and tests share fixtures through conftest.py and helpers through tests/support/, never through
another test file."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT

RAG = PROJECT_ROOT / "rag"
TESTS = PROJECT_ROOT / "tests"
MAX_LINES = 300
CHROMA_MODULE = RAG / "store" / "chroma.py"


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    run = subprocess.run([str(lint), "--no-cache"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def test_only_the_store_talks_to_chroma():
    talking = sorted(str(p.relative_to(PROJECT_ROOT)) for p in RAG.rglob("*.py")
                     if any(m == "chromadb" or m.startswith(("chromadb.", "llama_index.vector_stores.chroma"))
                            for m in imported_modules(p)))
    assert talking == [str(CHROMA_MODULE.relative_to(PROJECT_ROOT))]
    # ... and Chroma's query dialect is written there only: the other stages call its functions.
    dialect = ("where_document", '"$in"', '"$contains"', '"$and"', "include=[")
    speaking = sorted(str(p.relative_to(PROJECT_ROOT)) for p in RAG.rglob("*.py")
                      if p.parent != RAG / "store" and any(w in p.read_text("utf-8") for w in dialect))
    assert speaking == []


def test_no_module_is_over_300_lines():
    long = {str(p.relative_to(PROJECT_ROOT)): n for p in RAG.rglob("*.py")
            if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_tests_import_no_other_test_file():
    offenders = {str(p.relative_to(PROJECT_ROOT)): sorted(m for m in imported_modules(p)
                                                         if m.startswith("tests.") and ".test_" in f".{m}"
                                                         or m.startswith("tests.conftest"))
                 for p in TESTS.rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}
