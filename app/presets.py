"""Named presets for the lecture's scenes, shipped as JSON files in presets/.

A preset file is {"name", "lab", "title", "description", "params": {...}}; `params` uses the
same names as the lab's URL query and API. `/labs/<lab>?preset=<name>` opens one; query
parameters given beside it override the preset's.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from fastapi import HTTPException, Request

from app.templating import ROOT

PRESETS_DIR = ROOT / "presets"


@lru_cache
def all_presets() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(PRESETS_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out[data["name"]] = data
    return out


def for_lab(lab: str) -> list[dict[str, Any]]:
    return [p for p in all_presets().values() if p["lab"] == lab]


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
    view = {"embed", "hide", "present", "autoplay", "preset"}
    params.update({k: v for k, v in request.query_params.items() if k not in view})
    return params
