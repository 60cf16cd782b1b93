"""Server settings: every limit is a setting, read from NP_* environment variables."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# One frame-ancestors source: *, 'self', 'none', a scheme (https:) or a host with optional
# scheme, wildcard subdomain, port and path. No ; or , so a setting cannot add directives.
_ANCESTOR = re.compile(r"\*|'self'|'none'|[a-z][a-z0-9+.-]*:|([a-z][a-z0-9+.-]*://)?(\*\.)?[\w.-]+(:(\d+|\*))?(/\S*)?",
                       re.IGNORECASE)


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
    # Work budgets in examples × parameters (one MLP update costs batch × weights): a call
    # or a frame past them is refused or cut, so no cap combination runs for minutes.
    max_work_per_call: int = 10_000_000_000
    max_work_per_frame: int = 300_000_000
    max_perceptron_epochs: int = 10_000
    max_optimizer_iterations: int = 20_000
    max_optimizer_runs: int = 64  # optimizers × start points in one request
    # Σ over runs of iterations × (1 + data points an update evaluates / 64), twice with internals
    max_optimizer_work: int = 150_000
    max_optimizer_points: int = 128_000  # runs × points per path in one answer
    # What one request or message may hold, checked before anything reads it further: a body
    # (HTTP) or a WebSocket message in bytes (a 256×256 RGB picture as JSON integers is ~1 MB),
    # the items of any one JSON list or object, and how deeply JSON may nest.
    max_body_bytes: int = 2 * 1024 * 1024
    max_list_items: int = 10_000  # at least NP_MAX_POINTS is always allowed
    max_json_depth: int = 32
    max_frame_bytes: int = 1024 * 1024  # a stream frame or a grid answer, encoded
    # What one client (one address) may hold or ask at once: sessions (past it, its own least
    # recently used unwatched session makes room), open streams, requests waiting for their
    # turn, and a quota of requests and messages (one unit each, and one per 64 KB they carry).
    max_sessions_per_client: int = 20
    max_streams_per_client: int = 20
    max_requests_per_client: int = 8
    client_quota_per_second: float = 50.0
    client_quota_burst: float = 100.0
    max_queued_commands: int = 16  # commands a stream holds before answering "too many"
    # CPU work (frames, stream commands) runs on this many threads; each client has one turn
    # at a time, in its requests, frames and commands alike, so one client cannot take them all.
    work_threads: int = 2
    # Who may put a lab in an <iframe>: a space-separated CSP frame-ancestors list. "*" is any
    # http(s) page; "file:" adds slide decks opened from disk (browsers do not count them in "*").
    frame_ancestors: str = "* file:"

    @field_validator("frame_ancestors")
    @classmethod
    def _ancestor_list(cls, value: str) -> str:
        sources = value.split()
        bad = [s for s in sources if not _ANCESTOR.fullmatch(s) or ";" in s or "," in s]
        if not sources or bad:
            raise ValueError(
                f"frame_ancestors is a space-separated list like \"*\" or \"'self' https://slides.example.org\""
                f"; cannot use {bad or value!r}"
            )
        if "'none'" in sources and len(sources) > 1:
            raise ValueError("frame_ancestors: 'none' stands alone")
        return " ".join(sources)


@lru_cache
def get_settings() -> Settings:
    return Settings()
