"""Named presets for the lecture's scenes, shipped as JSON files in presets/.

A preset file presets/<name>.json is
    {"name", "lab", "title", "description", "params": {...}, "expect": {...}?}
`params` uses the same names as the lab's URL query and API. `expect` (optional, for the
browser tests only) says what the scene shows once it ran: {"text": "...", "timeout": 30},
{"accuracy": "100"}, ... `/labs/<lab>?preset=<name>` opens one; query parameters given
beside it override the preset's.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException, Request

PRESETS_DIR = Path(__file__).resolve().parent.parent / "presets"
REQUIRED = ("name", "lab", "title", "description", "params")
# Query keys that say how a page is shown, not what it computes.
VIEW_KEYS = frozenset({"embed", "hide", "present", "autoplay", "preset"})


def load(path: Path) -> dict[str, Any]:
    """Read one preset file; a malformed one is a ValueError naming the file and the problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: a preset is a JSON object")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ValueError(f"{path.name}: missing {missing}")
    if data["name"] != path.stem:
        raise ValueError(f"{path.name}: name {data['name']!r} differs from the file name")
    if not isinstance(data["params"], dict):
        raise ValueError(f"{path.name}: params is an object of URL query values")
    if set(data["params"]) & VIEW_KEYS:
        raise ValueError(f"{path.name}: params may not set view options {sorted(VIEW_KEYS)}")
    return data


@lru_cache
def all_presets() -> dict[str, dict[str, Any]]:
    """Every preset by name, in file-name order."""
    return {p.stem: load(p) for p in sorted(PRESETS_DIR.glob("*.json"))}


def for_lab(lab: str) -> list[dict[str, Any]]:
    return [p for p in all_presets().values() if p["lab"] == lab]


def url(preset: dict[str, Any]) -> str:
    """The page that opens the preset."""
    return f"/labs/{preset['lab']}?" + urlencode({"preset": preset["name"]})


def public(preset: dict[str, Any]) -> dict[str, Any]:
    """What the API tells about a preset (the test-only `expect` stays out)."""
    return {
        "name": preset["name"],
        "lab": preset["lab"],
        "title": preset["title"],
        "description": preset["description"],
        "url": url(preset),
        "params": preset["params"],
    }


def initial_params(request: Request, lab: str) -> dict[str, Any]:
    """The lab's starting parameters: the preset's (if ?preset=), overridden by the query.

    View options (embed, hide, present, autoplay, preset) are not parameters.
    """
    params: dict[str, Any] = {}
    name = request.query_params.get("preset")
    if name:
        preset = all_presets().get(name)
        if preset is None or preset["lab"] != lab:
            known = sorted(p["name"] for p in for_lab(lab))
            raise HTTPException(404, f"no preset {name!r} for the {lab} lab; presets: {known}")
        params.update(preset["params"])
    params.update({k: v for k, v in request.query_params.items() if k not in VIEW_KEYS})
    return params
