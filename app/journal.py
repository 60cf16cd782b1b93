"""A session's journal: what it takes to rebuild a run anywhere, exactly.

The engine is deterministic: a run is its configuration (seed included), the changes applied to
it and when, and how far it went. `Recorded` wraps a lab's runner (the store does it for every
session) and writes that down as every caller changes the run through the Runner protocol:

- `base`: the body that creates the run (`runner.recipe()`, or the runner's pydantic `cfg`);
- `events`: `[units, params]` for each `apply(params)` (a `set`, a PATCH), `units` being how
  many units of work (`advance`) had run before it; a `reset()` starts the journal over from
  the current configuration;
- `units`: units of work run so far (frames carry it).

A page keeps the newest journal its stream sent; when its worker is gone it creates the run
again from `base` on any worker and sends `{"type": "replay", "events": ..., "units": ...}`
(app.streaming), which applies the same changes at the same points and fast-forwards to the
same unit: the same network, to the last bit. Anything that changes a run must go through
advance/apply/reset for this to hold. Past NP_MAX_JOURNAL_BYTES a journal stops growing and
says it is no longer replayable (the page then starts the run over from its settings).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator


def recipe(runner: Any) -> dict[str, Any] | None:
    """The create body of the runner's run from its current configuration, or None."""
    own = getattr(runner, "recipe", None)
    if callable(own):
        return own()
    cfg = getattr(runner, "cfg", None)
    if isinstance(cfg, BaseModel):
        return cfg.model_dump(mode="json")
    return None


class Recorded:
    """A runner whose changes are written down (see the module docstring); everything else is
    the wrapped runner's own (`recorded.trainer` is the runner's trainer)."""

    def __init__(self, runner: Any, limit_bytes: int = 1024 * 1024) -> None:
        self.inner = runner
        self.limit = limit_bytes
        self.units = 0
        self.version = 0  # goes up with every change of the journal
        self._restart()

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (copying): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def _restart(self) -> None:
        self.base = recipe(self.inner)
        self.events: list[list[Any]] = []
        self.size = len(json.dumps(self.base)) if self.base is not None else 0
        self.replayable = self.base is not None and self.size <= self.limit

    # ----- the protocol, recorded ----------------------------------------------------------------
    def advance(self, n: int) -> int:
        ran = self.inner.advance(n)
        self.units += ran
        return ran

    def reset(self) -> None:
        self.inner.reset()
        self.units = 0
        self.version += 1
        self._restart()

    def apply(self, params: dict[str, Any]) -> dict[str, Any]:
        result = self.inner.apply(params)
        self.version += 1
        if self.replayable:
            self.size += len(json.dumps(params, default=str)) + 16
            if self.size > self.limit:
                self.replayable, self.events = False, []
            else:
                self.events.append([self.units, dict(params)])
        return result

    def journal(self) -> dict[str, Any]:
        """The journal as the stream sends it (`"type": "journal"` added there)."""
        return {
            "base": self.base if self.replayable else None,
            "events": self.events,
            "units": self.units,
            "replayable": self.replayable,
            "version": self.version,
        }

    @property
    def fresh(self) -> bool:
        """Nothing ran or changed since the session was created."""
        return self.units == 0 and self.version == 0


class ReplayIn(BaseModel):
    """A journal's events and units, to rebuild a run in a session just created from its base."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    events: list[Annotated[tuple[int, dict[str, Any]], Strict(False)]] = Field(
        [], fail_fast=True, description="[units, params] of each change, in order, as the journal lists them"
    )
    units: int = Field(0, ge=0, description="units of work to reach at the end")

    @model_validator(mode="after")
    def _in_order(self) -> ReplayIn:
        last = 0
        for at, _ in self.events:
            if at < last:
                raise ValueError("events: units must not go down (each is where its change came)")
            last = at
        if self.units < last:
            raise ValueError("units: at least the units of the last change")
        return self
