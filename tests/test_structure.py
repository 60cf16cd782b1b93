"""The engine stays pure: no web layer imports, no global seeding, no prints."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "engine"
WEB = {"app", "fastapi", "starlette", "pydantic", "pydantic_settings", "jinja2", "uvicorn"}


def _modules():
    """Every module of engine/, subpackages (engine/nn/, ...) included."""
    return sorted(ENGINE.rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ENGINE.parent).as_posix()


def test_the_check_reaches_subpackages():
    names = {p.relative_to(ENGINE).as_posix() for p in _modules()}
    assert {"mlp.py", "nn/sequential.py", "nn/conv2d.py"} <= names


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
                assert name.split(".")[0] not in WEB, f"{_rel(path)} imports {name}"


def test_engine_uses_no_global_randomness_or_prints():
    """Randomness only through a Generator: np.random.default_rng(seed) (or a Generator type),
    never the global np.random.* functions or the random module."""
    allowed = {"default_rng", "Generator"}
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                raise AssertionError(f"print in {_rel(path)}")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
                inner = node.value
                if inner.attr == "random" and getattr(inner.value, "id", None) in {"np", "numpy"}:
                    assert node.attr in allowed, f"{_rel(path)}:{node.lineno} uses np.random.{node.attr}"
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                assert "random" not in names, f"{_rel(path)} imports the random module"


def test_engine_needs_only_numpy_and_the_standard_library():
    """torch and scikit-learn are for comparison tests and benches; the engine never imports them.
    numba compiles one loop (engine/fused.py), which the NumPy engine can always stand in for."""
    import sys

    for path in _modules():
        allowed = set(sys.stdlib_module_names) | {"numpy", "engine", "__future__"}
        if _rel(path) == "engine/fused.py":
            allowed.add("numba")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{_rel(path)} imports {name}"
