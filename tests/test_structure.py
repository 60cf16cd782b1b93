"""The engine stays pure: no web layer imports, no global seeding, no prints."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "engine"
WEB = {"app", "fastapi", "starlette", "pydantic", "pydantic_settings", "jinja2", "uvicorn"}


def _modules():
    return sorted(ENGINE.glob("*.py"))


def test_engine_imports_nothing_of_the_web_layer():
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in WEB, f"{path.name} imports {name}"


def test_engine_has_no_global_seeding_or_prints():
    for path in _modules():
        text = path.read_text()
        assert "np.random.seed(" not in text, path.name
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                raise AssertionError(f"print in {path.name}")
