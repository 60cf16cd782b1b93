"""Shared fixtures: an app client with its lifespan on, and tighter settings when needed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import app
from app.settings import Settings, get_settings


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def limited_client() -> Iterator[TestClient]:
    """A client whose server has small limits, to test that caps answer with a clear 4xx."""
    small = Settings(max_sessions=2, max_layers=2, max_neurons=4, max_points=100, max_grid=40,
                     max_steps_per_call=50, max_perceptron_epochs=20, max_optimizer_iterations=100,
                     max_optimizer_runs=4)
    app.dependency_overrides[get_settings] = lambda: small
    try:
        with TestClient(app) as c:
            yield c
    finally:
        app.dependency_overrides.pop(get_settings, None)
