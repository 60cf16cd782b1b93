"""The live stream of a session: one WebSocket per open page, frames from a worker thread.

Clients send small JSON commands; the server answers with `frame`, `status` and `error`
messages. Training runs in a player thread (never on the event loop) at most
`max_frame_rate` frames a second, `speed` units of work between frames. Each subscriber
keeps only the newest frame, so a slow client gets fewer, fresher frames; status and error
messages are never dropped.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import threading
import time
from typing import Annotated, Any, Literal

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from app.encoding import finite
from app.sessions import Session
from app.settings import Settings

log = logging.getLogger("playground.stream")


class Play(BaseModel):
    type: Literal["play"]


class Pause(BaseModel):
    type: Literal["pause"]


class Step(BaseModel):
    type: Literal["step"]
    n: int = Field(1, ge=1, description="units of work (mini-batch steps, examples, iterations)")


class Reset(BaseModel):
    type: Literal["reset"]


class SetParams(BaseModel):
    type: Literal["set"]
    params: dict[str, Any]


class Speed(BaseModel):
    type: Literal["speed"]
    steps_per_frame: int = Field(ge=1)


Command = Annotated[Play | Pause | Step | Reset | SetParams | Speed, Field(discriminator="type")]
_commands: TypeAdapter[Any] = TypeAdapter(Command)


def describe_error(exc: Exception) -> str:
    """One line a person can act on, from a validation or value error."""
    if isinstance(exc, ValidationError):
        parts = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "message"
            parts.append(f"{where}: {e['msg']}")
        return "; ".join(parts)
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc)


class Subscriber:
    """One connected page: the newest frame plus a queue of control messages."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.frame: dict[str, Any] | None = None
        self.control: collections.deque[dict[str, Any]] = collections.deque()
        self.wake = asyncio.Event()

    def offer(self, message: dict[str, Any]) -> None:
        """Thread-safe: queue a message for this page (frames replace an unsent frame)."""
        with contextlib.suppress(RuntimeError):  # the page's loop has closed
            self.loop.call_soon_threadsafe(self._put, message)

    def _put(self, message: dict[str, Any]) -> None:
        if message.get("type") == "frame":
            self.frame = message
        else:
            self.control.append(message)
        self.wake.set()

    async def pump(self, ws: WebSocket) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.control:
                await ws.send_text(_dumps(self.control.popleft()))
            if self.frame is not None:
                frame, self.frame = self.frame, None
                await ws.send_text(_dumps(frame))


def _dumps(message: dict[str, Any]) -> str:
    try:  # frames are built JSON-safe; walking them again would cost more than the encoding
        return json.dumps(message, allow_nan=False, separators=(",", ":"))
    except (ValueError, TypeError):
        return json.dumps(finite(message), allow_nan=False, separators=(",", ":"))


def broadcast(session: Session, message: dict[str, Any]) -> None:
    for sub in list(session.subscribers):
        sub.offer(message)


def status_message(session: Session) -> dict[str, Any]:
    return {
        "type": "status",
        "playing": session.playing,
        "speed": session.speed,
        "done": bool(session.runner.done),
        "watchers": len(session.subscribers),
    }


def current_frame(session: Session) -> dict[str, Any]:
    with session.lock:
        return {"type": "frame", **session.runner.frame()}


def step_cost(session: Session) -> int:
    """Work of one unit of the session's runner (labs without a cost count 1)."""
    cost = getattr(session.runner, "step_cost", None)
    return max(1, int(cost())) if cost else 1


def check_work(session: Session, settings: Settings, n: int) -> None:
    """ValueError naming the setting when n units in one call go past a cap."""
    if n > settings.max_steps_per_call:
        raise ValueError(f"step n must be at most {settings.max_steps_per_call} (NP_MAX_STEPS_PER_CALL)")
    work = n * step_cost(session)
    if work > settings.max_work_per_call:
        most = max(1, settings.max_work_per_call // step_cost(session))
        raise ValueError(
            f"{n} steps of this network are {work:.3g} units of work, more than "
            f"{settings.max_work_per_call:.3g} per call (NP_MAX_WORK_PER_CALL): ask for at most {most}"
        )


def frame_steps(session: Session, settings: Settings) -> int:
    """Units between two frames: the chosen speed, cut to the per-frame work budget."""
    return max(1, min(session.speed, settings.max_work_per_frame // step_cost(session)))


def frame_interval(session: Session, settings: Settings) -> float:
    """Seconds between two frames: the frame-rate cap, or longer when the runner asks for a
    slower pace with an optional `frame_interval()` (a step-by-step view a person reads)."""
    interval = 1.0 / settings.max_frame_rate
    wanted = getattr(session.runner, "frame_interval", None)
    return max(interval, float(wanted())) if wanted else interval


def _play(session: Session, settings: Settings) -> None:
    while True:
        interval = frame_interval(session, settings)
        started = time.monotonic()
        with session.lock:
            if not session.playing:
                break
            try:
                session.runner.advance(frame_steps(session, settings))
                frame = {"type": "frame", **session.runner.frame()}
                done = bool(session.runner.done)
            except Exception as exc:
                # A fault in a lab must not leave its pages believing the run still plays.
                log.exception("the %s session stopped playing", session.lab)
                session.playing = False
                broadcast(session, {"type": "error", "message": f"the run stopped: {describe_error(exc)}"})
                broadcast(session, status_message(session))
                break
            if done:
                session.playing = False
        session.touch()
        broadcast(session, frame)
        if done:
            broadcast(session, status_message(session))
            break
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    session.player = None


def start_playing(session: Session, settings: Settings) -> None:
    with session.lock:
        if session.runner.done:
            return
        session.playing = True
        if session.player is None or not session.player.is_alive():
            session.player = threading.Thread(
                target=_play, args=(session, settings), name=f"play-{session.lab}", daemon=True
            )
            session.player.start()


async def handle(session: Session, settings: Settings, sub: Subscriber, text: str) -> None:
    try:
        cmd = _commands.validate_json(text)
    except ValidationError as exc:
        sub.offer({"type": "error", "message": _command_help(exc)})
        return
    try:
        if isinstance(cmd, Play):
            start_playing(session, settings)
        elif isinstance(cmd, Pause):
            session.playing = False
        elif isinstance(cmd, Speed):
            session.speed = min(cmd.steps_per_frame, settings.max_steps_per_frame)
        elif isinstance(cmd, Step):
            check_work(session, settings, cmd.n)
            session.playing = False
            await asyncio.to_thread(_locked, session, lambda: session.runner.advance(cmd.n))
            broadcast(session, await asyncio.to_thread(current_frame, session))
        elif isinstance(cmd, Reset):
            session.playing = False
            await asyncio.to_thread(_locked, session, session.runner.reset)
            broadcast(session, await asyncio.to_thread(current_frame, session))
        elif isinstance(cmd, SetParams):
            changed = await asyncio.to_thread(_locked, session, lambda: session.runner.apply(cmd.params))
            config = await asyncio.to_thread(_locked, session, session.runner.describe)
            broadcast(session, {"type": "config", "config": config, **(changed or {})})
            broadcast(session, await asyncio.to_thread(current_frame, session))
    except (ValueError, KeyError, TypeError) as exc:
        sub.offer({"type": "error", "message": describe_error(exc)})
        return
    except Exception as exc:  # the socket stays open whatever a lab's runner raises
        log.exception("a %s command failed", session.lab)
        sub.offer({"type": "error", "message": f"the command failed: {describe_error(exc)}"})
        return
    broadcast(session, status_message(session))


def _locked(session: Session, fn: Any) -> Any:
    with session.lock:
        return fn()


def _command_help(exc: ValidationError) -> str:
    return (
        f"bad command ({describe_error(exc)}); send JSON like "
        '{"type": "play"}, {"type": "pause"}, {"type": "step", "n": 1}, {"type": "reset"}, '
        '{"type": "set", "params": {...}} or {"type": "speed", "steps_per_frame": 10}'
    )


async def serve(ws: WebSocket, session: Session, settings: Settings) -> None:
    """Run one page's connection to `session` until it disconnects."""
    await ws.accept()
    sub = Subscriber(asyncio.get_running_loop())
    session.subscribers.add(sub)
    pump = asyncio.create_task(sub.pump(ws))
    try:
        config = await asyncio.to_thread(_locked, session, session.runner.describe)
        sub.offer({"type": "config", "config": config})
        sub.offer(status_message(session))
        sub.offer(await asyncio.to_thread(current_frame, session))
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                sub.offer({"type": "error", "message": "send commands as JSON text, not binary"})
                continue
            session.touch()
            await handle(session, settings, sub, text)
    except WebSocketDisconnect:
        pass
    finally:
        session.subscribers.discard(sub)
        if not session.subscribers:
            session.playing = False
        pump.cancel()


async def serve_or_refuse(ws: WebSocket, session: Session | None, settings: Settings) -> None:
    """Serve the stream, or tell the page the session is gone and close (code 4404)."""
    if session is None:
        await ws.accept()
        await ws.send_text(_dumps({
            "type": "error",
            "message": "no such session: it was deleted or evicted after being idle; reload the page",
        }))
        await ws.close(code=4404)
        return
    await serve(ws, session, settings)
