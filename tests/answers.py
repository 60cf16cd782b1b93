"""Reading the API's one error shape in tests: {"detail": [{"loc", "msg", "type"}, ...]}."""

from __future__ import annotations

from typing import Any


def message(response: Any) -> str:
    """Every problem an error answer lists, as one line ("where: what; ...")."""
    items = response.json()["detail"]
    assert isinstance(items, list), f"detail is not the list of problems: {items!r}"
    return "; ".join(".".join(str(p) for p in e["loc"]) + ": " + e["msg"] if e["loc"] else e["msg"]
                     for e in items)
