"""The lecture's named scenes over REST: list them, read one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from app import presets
from app.labs import BY_SLUG

router = APIRouter(prefix="/api/v1/presets", tags=["presets"])


class PresetOut(BaseModel):
    name: str = Field(description="the name `?preset=` takes")
    lab: str = Field(description="the lab it opens")
    title: str
    description: str = Field(description="what the scene shows")
    url: str = Field(description="the page that opens it, e.g. /labs/perceptron?preset=perceptron-and")
    params: dict[str, Any] = Field(description="the lab's parameters, in its URL/API names")


@router.get("", response_model=list[PresetOut])
def list_presets(
    lab: str | None = Query(None, description="only this lab's presets"),
) -> list[dict[str, Any]]:
    """Every preset, in lecture order of their labs (then by name)."""
    if lab is not None and lab not in BY_SLUG:
        raise HTTPException(422, f"lab must be one of {sorted(BY_SLUG)}, not {lab!r}")
    order = {slug: i for i, slug in enumerate(BY_SLUG)}
    chosen = [p for p in presets.all_presets().values() if lab is None or p["lab"] == lab]
    chosen.sort(key=lambda p: (order.get(p["lab"], len(order)), p["name"]))
    return [presets.public(p) for p in chosen]


@router.get("/{name}", response_model=PresetOut)
def read_preset(name: str) -> dict[str, Any]:
    preset = presets.all_presets().get(name)
    if preset is None:
        raise HTTPException(404, f"no preset {name!r}; presets: {sorted(presets.all_presets())}")
    return presets.public(preset)
