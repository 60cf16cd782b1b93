"""Shared fixtures: an app client with its lifespan on, and clients with other settings."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import app
from app.settings import Settings, get_settings


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def client_with() -> Iterator[Callable[..., TestClient]]:
    """client_with(**settings): a client whose server runs with these settings."""
    with contextlib.ExitStack() as stack:

        def make(**overrides: object) -> TestClient:
            settings = Settings(**overrides)
            app.dependency_overrides[get_settings] = lambda: settings
            return stack.enter_context(TestClient(app))

        try:
            yield make
        finally:
            app.dependency_overrides.pop(get_settings, None)


@pytest.fixture
def limited_client(client_with) -> TestClient:
    """A client whose server has small limits, to test that caps answer with a clear 4xx."""
    return client_with(max_sessions=2, max_layers=2, max_neurons=4, max_points=100, max_grid=40,
                       max_steps_per_call=50, max_perceptron_epochs=20, max_optimizer_iterations=100,
                       max_optimizer_runs=4)
