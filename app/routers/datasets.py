"""Dataset previews: the points a lab would train on, for a name, size, noise and seed."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException, Query

from app.deps import SettingsDep
from app.labs.mlp.session import DatasetName
from engine import datasets

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])


@router.get("")
def list_datasets() -> dict[str, Any]:
    return {d.name: {"label": d.label, "problem": d.problem} for d in datasets.DATASETS.values()}


@router.get("/{name}")
def preview(
    name: DatasetName,
    settings: SettingsDep,
    n: int = Query(200, ge=1, description="number of points"),
    noise: float = Query(0, ge=0, le=50, description="noise in percent"),
    seed: int = Query(0, ge=0, le=2**32 - 1),
    num_classes: int = Query(3, ge=3, le=5),
) -> dict[str, Any]:
    """Points as [x1, x2, label]; labels ±1, a class index, or a regression value."""
    if n > settings.max_points:
        raise HTTPException(422, f"at most {settings.max_points} points (NP_MAX_POINTS)")
    X, y = datasets.generate(name, n, noise / 100.0, seed, num_classes)
    return {
        "name": name,
        "problem": datasets.get(name).problem,
        "extent": [-datasets.DOMAIN, datasets.DOMAIN],
        "points": np.round(np.column_stack([X, y]), 5).tolist(),
    }
