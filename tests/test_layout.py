"""The library's shape: each stage imports only earlier stages and the shared values,
and nothing in rag/ imports the UI, the evaluation harness or the command line."""

from __future__ import annotations

import ast
from pathlib import Path

RAG = Path(__file__).resolve().parents[1] / "rag"
STAGES = ("ingest", "index", "search", "answer", "check")  # the order data flows in
SHARED = {"types", "errors", "numerals", "text", "embed"}
FRONT = {"pipeline", "live"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_stages_import_only_earlier_stages_and_shared_values():
    wrong = []
    for position, stage in enumerate(STAGES):
        allowed = SHARED | set(STAGES[: position + 1])
        for path in sorted((RAG / stage).rglob("*.py")):
            for module in sorted(imported_modules(path)):
                parts = module.split(".")
                if parts[0] == "rag" and len(parts) > 1 and parts[1] not in allowed:
                    wrong.append(f"{path.relative_to(RAG)} imports {module}")
    assert wrong == []


def test_shared_values_import_no_stage_and_rag_imports_no_front_end():
    wrong = []
    for path in sorted(RAG.rglob("*.py")):
        for module in sorted(imported_modules(path)):
            top = module.split(".")[0]
            if top in {"ui", "eval", "ragqa", "benchmarks"}:
                wrong.append(f"{path.relative_to(RAG)} imports {module}")
            parts = module.split(".")
            if (path.parent == RAG and path.stem in SHARED and parts[0] == "rag"
                    and len(parts) > 1 and parts[1] not in SHARED):
                wrong.append(f"{path.relative_to(RAG)} imports {module}")
    assert wrong == []
    assert {p.stem for p in RAG.glob("*.py")} == SHARED | FRONT | {"__init__"}
