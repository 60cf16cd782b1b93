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


def test_engine_uses_no_global_randomness_or_prints():
    """Randomness only through a Generator: np.random.default_rng(seed) (or a Generator type),
    never the global np.random.* functions or the random module."""
    allowed = {"default_rng", "Generator"}
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                raise AssertionError(f"print in {path.name}")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
                inner = node.value
                if inner.attr == "random" and getattr(inner.value, "id", None) in {"np", "numpy"}:
                    assert node.attr in allowed, f"{path.name}:{node.lineno} uses np.random.{node.attr}"
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                assert "random" not in names, f"{path.name} imports the random module"
