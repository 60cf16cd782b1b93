"""Importing a saved run (a lab's `state` in PATCH or a stream `set`): shared error wording."""

from __future__ import annotations

from pydantic import ValidationError


def state_errors(exc: ValidationError) -> str:
    """A rejected `state`, each problem named as state.<field>."""
    problems = []
    for e in exc.errors():
        where = "".join(f".{p}" for p in e["loc"])
        problems.append(f"state{where}: {e['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)
