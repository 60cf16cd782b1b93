"""Server settings: every limit is a setting, read from NP_* environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NP_")

    max_sessions: int = 200
    session_idle_seconds: float = 1800.0
    eviction_interval_seconds: float = 30.0
    max_layers: int = 8  # hidden layers of an MLP
    max_neurons: int = 32  # neurons per hidden layer
    max_points: int = 5000  # dataset size, including user-supplied points
    max_grid: int = 200  # resolution of any grid the server evaluates
    max_steps_per_call: int = 100_000  # mini-batch updates in one REST step call
    max_steps_per_frame: int = 2000  # the fastest play speed
    max_frame_rate: float = 30.0  # frames per second a stream sends at most
    max_perceptron_epochs: int = 10_000
    max_optimizer_iterations: int = 20_000
    max_optimizer_runs: int = 64  # optimizers × start points in one request
    # Who may put a lab in an <iframe>: a space-separated CSP frame-ancestors list.
    frame_ancestors: str = "*"


@lru_cache
def get_settings() -> Settings:
    return Settings()
