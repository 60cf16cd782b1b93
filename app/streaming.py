"""The live stream of a session: one WebSocket per open page, frames rendered on work threads.

Clients send small JSON commands; the server answers with `frame`, `status`, `config` and
`error` messages (an error about the connection carries a `code`: `session_gone` before the
socket closes with 4404, `too_many_streams` before 4429). A socket's reader never waits for
the work its commands ask: commands wait in a short queue (NP_MAX_QUEUED_COMMANDS, their steps
counted against NP_MAX_WORK_PER_CALL together) and a second task runs them in order; when the
page leaves, the queue and any unfinished step are dropped.

Every unit of CPU work (a slice of training, a frame's rendering and JSON encoding, a `set`)
runs as a job of app.work in the client's turn, never on the event loop. A frame is rendered
and encoded once, on a work thread, and the same text goes to every watcher; each watcher keeps
only the newest frame, so a slow page gets fewer, fresher frames. A frame larger than
NP_MAX_FRAME_BYTES is not sent: the session pauses and its pages are told what to lower.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from app.encoding import finite
from app.errors import describe
from app.limits import JSONShapeError, client_key, parse_checked
from app.sessions import Session
from app.settings import Settings
from app.work import Work, run_chunked

log = logging.getLogger("playground.stream")

BOOT = secrets.token_hex(6)  # this server process: a page that sees it change knows of a restart
SLICE_SECONDS = 0.05  # a job trains at most about this long before others get their turn
GONE_MESSAGE = {
    "type": "error", "code": "session_gone", "server": BOOT,
    "message": "no such session: the server restarted, or it was deleted or evicted after being idle; "
               "the page can start it again from its link",
}
BIG_MESSAGE = 64 * 1024  # a message longer than this is parsed off the event loop
CONTROL_QUEUE = 64  # messages other than frames a page may leave unread before the oldest go


class Play(BaseModel):
    type: Literal["play"]


class Pause(BaseModel):
    type: Literal["pause"]


class Step(BaseModel):
    type: Literal["step"]
    n: int = Field(1, ge=1, strict=True, description="units of work (mini-batch steps, examples, iterations)")


class Reset(BaseModel):
    type: Literal["reset"]


class SetParams(BaseModel):
    type: Literal["set"]
    params: dict[str, Any]


class Speed(BaseModel):
    type: Literal["speed"]
    steps_per_frame: int = Field(ge=1, strict=True)


Command = Annotated[Play | Pause | Step | Reset | SetParams | Speed, Field(discriminator="type")]
_commands: TypeAdapter[Any] = TypeAdapter(Command)


def describe_error(exc: Exception) -> str:
    """One line a person can act on, from a validation or value error (at most 10 problems)."""
    return describe(exc)


def encode(message: dict[str, Any]) -> str:
    """Compact JSON text of a message (NaN/inf as null, as JSON has neither)."""
    try:  # frames are built JSON-safe; walking them again would cost more than the encoding
        return json.dumps(message, allow_nan=False, separators=(",", ":"))
    except (ValueError, TypeError):
        return json.dumps(finite(message), allow_nan=False, separators=(",", ":"))


_dumps = encode  # the name the stream bench uses


class Subscriber:
    """One connected page: the newest encoded frame plus a bounded queue of other messages."""

    def __init__(self, client: str) -> None:
        self.client = client
        self.frame: str | None = None
        self.control: collections.deque[str] = collections.deque(maxlen=CONTROL_QUEUE)
        self.wake = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        self.ended = False

    def end(self) -> None:
        """The session was deleted (from any thread): tell the page it is gone and close (4404)."""
        def ended() -> None:
            self.offer(GONE_MESSAGE)
            self.ended = True
            self.wake.set()

        with contextlib.suppress(RuntimeError):  # the loop has closed
            self.loop.call_soon_threadsafe(ended)

    def offer(self, message: dict[str, Any] | str) -> None:
        """Queue a message for this page (on the event loop); a frame replaces an unsent one."""
        text = message if isinstance(message, str) else encode(message)
        if text.startswith('{"type":"frame"'):
            self.frame = text
        else:
            self.control.append(text)
        self.wake.set()

    async def pump(self, ws: WebSocket) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.control:
                await ws.send_text(self.control.popleft())
            if self.ended:
                await ws.close(code=4404)
                return
            if self.frame is not None:
                frame, self.frame = self.frame, None
                await ws.send_text(frame)


def broadcast(session: Session, message: dict[str, Any] | str) -> None:
    text = message if isinstance(message, str) else encode(message)
    for sub in list(session.subscribers):
        sub.offer(text)


def status_message(session: Session) -> dict[str, Any]:
    return {
        "type": "status",
        "playing": session.playing,
        "speed": session.speed,
        "done": bool(session.runner.done),
        "watchers": len(session.subscribers),
        "server": BOOT,
    }


def step_cost(session: Session) -> int:
    """Work of one unit of the session's runner (labs without a cost count 1)."""
    cost = getattr(session.runner, "step_cost", None)
    return max(1, int(cost())) if cost else 1


def check_work(session: Session, settings: Settings, n: int, queued: int = 0) -> None:
    """ValueError naming the setting when n units in one call (with `queued` units already
    waiting on the same socket) go past a cap."""
    if n > settings.max_steps_per_call:
        raise ValueError(f"step n must be at most {settings.max_steps_per_call} (NP_MAX_STEPS_PER_CALL)")
    cost = step_cost(session)
    work = (n + queued) * cost
    if work > settings.max_work_per_call:
        most = max(1, settings.max_work_per_call // cost - queued)
        waiting = f" with {queued} steps already waiting" if queued else ""
        raise ValueError(
            f"{n} steps of this network{waiting} are {work:.3g} units of work, more than "
            f"{settings.max_work_per_call:.3g} per call (NP_MAX_WORK_PER_CALL): ask for at most {most}"
        )


def frame_cost(session: Session) -> int:
    """Work of rendering one frame (labs without a cost count 0), in the units of step_cost."""
    cost = getattr(session.runner, "frame_cost", None)
    return max(0, int(cost())) if cost else 0


def frame_steps(session: Session, settings: Settings) -> int:
    """Units between two frames: the chosen speed, cut to what the per-frame work budget
    leaves once the frame itself is rendered."""
    budget = settings.max_work_per_frame - frame_cost(session)
    return max(1, min(session.speed, budget // step_cost(session)))


def frame_interval(session: Session, settings: Settings) -> float:
    """Seconds between two frames: the frame-rate cap, or longer when the runner asks for a
    slower pace with an optional `frame_interval()` (a step-by-step view a person reads)."""
    interval = 1.0 / settings.max_frame_rate
    wanted = getattr(session.runner, "frame_interval", None)
    return max(interval, float(wanted())) if wanted else interval


# ----- jobs: what runs on a work thread, each under the session's lock --------------------------
def _advance_slice(session: Session, n: int, client: str, only_playing: bool) -> tuple[int, str]:
    """Up to n units, for at most about SLICE_SECONDS, stepping aside for lighter clients:
    (units run, why it ended, as app.work.run_chunked says)."""

    def stop() -> bool:
        return session.runner.done or (only_playing and not session.playing)

    with session.lock:
        return run_chunked(session.runner.advance, n, client=client, seconds=SLICE_SECONDS, stop=stop)


def frame_text(session: Session) -> str:
    """The session's current frame, rendered and encoded (a job)."""
    with session.lock:
        frame = session.runner.frame()
    return encode({"type": "frame", **frame})


def config_text(session: Session, extra: dict[str, Any] | None = None) -> str:
    with session.lock:
        config = session.runner.describe()
    return encode({"type": "config", "config": config, **(extra or {})})


class FrameTooLarge(ValueError):
    pass


def check_frame(text: str, settings: Settings) -> str:
    if len(text) > settings.max_frame_bytes:
        raise FrameTooLarge(
            f"a frame of this session is {len(text) / 1e6:.1f} MB, more than "
            f"{settings.max_frame_bytes / 1e6:.1f} MB (NP_MAX_FRAME_BYTES): lower the grid resolution "
            "(res, neuron_res) or the network's size")
    return text


async def advance(work: Work, client: str, session: Session, n: int, only_playing: bool = False) -> int:
    """Run n units in slices, each a job in the client's turn, giving lighter clients the CPU
    when they want it; stops early once the runner is done (or, playing, once paused)."""
    loop = asyncio.get_running_loop()
    done = 0
    while done < n:
        started = loop.time()
        ran, why = await work.run(client, _advance_slice, session, n - done, client, only_playing)
        done += ran
        if why in ("finished", "stopped"):
            break
        if why == "yield":
            await work.step_aside(client)
        elif done < n:
            await work.rest(client, loop.time() - started)
    return done


# ----- playing ---------------------------------------------------------------------------------------
async def _play(session: Session, settings: Settings, work: Work, client: str) -> None:
    loop = asyncio.get_running_loop()
    try:
        while session.playing:
            started = loop.time()
            await advance(work, client, session, frame_steps(session, settings), only_playing=True)
            if not session.playing:
                break
            rendering = loop.time()
            text = check_frame(await work.run(client, frame_text, session), settings)
            rendered = loop.time() - rendering
            done = bool(session.runner.done)
            if done:
                session.playing = False
            session.touch()
            broadcast(session, text)
            if done:
                broadcast(session, status_message(session))
                break
            await work.rest(client, rendered)  # a large frame is long work too
            await asyncio.sleep(max(0.0, frame_interval(session, settings) - (loop.time() - started)))
    except asyncio.CancelledError:
        raise
    except FrameTooLarge as exc:
        session.playing = False
        broadcast(session, {"type": "error", "message": f"paused: {exc}"})
        broadcast(session, status_message(session))
    except Exception as exc:
        # A fault in a lab must not leave its pages believing the run still plays.
        log.exception("the %s session stopped playing", session.lab)
        session.playing = False
        broadcast(session, {"type": "error", "message": f"the run stopped: {describe_error(exc)}"})
        broadcast(session, status_message(session))
    finally:
        if session.player is asyncio.current_task():
            session.player = None


def start_playing(session: Session, settings: Settings, work: Work, client: str) -> None:
    """Play (on the event loop): one player task per session, whoever pressed play."""
    if session.runner.done:
        return
    session.playing = True
    if session.player is None or session.player.done():
        session.player = asyncio.get_running_loop().create_task(_play(session, settings, work, client))


# ----- one page's connection -----------------------------------------------------------------------
class Connection:
    """A page's socket to a session: its reader, its command queue and the task running it."""

    def __init__(self, ws: WebSocket, session: Session, settings: Settings, work: Work) -> None:
        self.ws, self.session, self.settings, self.work = ws, session, settings, work
        self.client = ws.scope.get("state", {}).get("client") or client_key(ws.scope)
        self.sub = Subscriber(self.client)
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.queued_steps = 0
        self.quiet_until = 0.0  # quota errors are told at most once a second

    def tell(self, message: str) -> None:
        self.sub.offer({"type": "error", "message": message})

    async def job(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self.work.run(self.client, fn, *args)

    async def serve(self) -> None:
        await self.ws.accept()
        session = self.session
        session.subscribers.add(self.sub)
        pump = asyncio.create_task(self.sub.pump(self.ws))
        runner = asyncio.create_task(self.run_commands())
        try:
            self.sub.offer(await self.job(config_text, session))
            self.sub.offer(status_message(session))
            self.sub.offer(await self.frame())
            await self.read()
        except WebSocketDisconnect:
            pass
        except FrameTooLarge as exc:
            self.tell(str(exc))
        finally:
            runner.cancel()  # queued commands and an unfinished step are dropped with the page
            session.subscribers.discard(self.sub)
            if not session.subscribers:
                session.playing = False
            await asyncio.sleep(0.05)  # let the last answers go out
            pump.cancel()

    async def frame(self) -> str:
        return check_frame(await self.job(frame_text, self.session), self.settings)

    async def read(self) -> None:
        """Read every message as it arrives (so pings and pongs are always read), check it,
        queue it; never wait for the work it asks."""
        settings = self.settings
        clients = self.ws.app.state.clients
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            size = len(text) if text is not None else len(message.get("bytes") or b"")
            too_large = size > settings.max_body_bytes
            wait = clients.charge(self.client, 0 if too_large else size)
            if wait:
                now = time.monotonic()
                if now >= self.quiet_until:  # told at most once a second
                    self.quiet_until = now + 1.0
                    self.tell(f"commands come too fast from your address (NP_CLIENT_QUOTA_PER_SECOND): "
                              f"dropped for the next {wait:.1f} s")
                continue
            if text is None:
                self.tell("send commands as JSON text, not binary")
                continue
            if too_large:
                self.tell(f"a message of {size} bytes is larger than {settings.max_body_bytes} "
                          "(NP_MAX_BODY_BYTES); send less")
                continue
            self.session.touch()
            await self.accept(text)

    async def accept(self, text: str) -> None:
        """Parse, check and queue one command (errors are answered at once)."""
        try:
            if len(text) > BIG_MESSAGE:  # walking a large message is work: off the event loop
                value = await asyncio.to_thread(parse_checked, text, self.settings, "message")
            else:
                value = parse_checked(text, self.settings, "message")
            cmd = _commands.validate_python(value)
        except JSONShapeError as exc:
            self.tell(f"{'.'.join(map(str, exc.loc))}: {exc}")
            return
        except ValidationError as exc:
            self.tell(_command_help(exc))
            return
        except ValueError:
            self.tell(_command_help(None))
            return
        if self.queue.qsize() >= self.settings.max_queued_commands:
            self.tell(f"too many commands waiting: at most {self.settings.max_queued_commands} "
                      "(NP_MAX_QUEUED_COMMANDS); wait for the answers")
            return
        if isinstance(cmd, Step):
            try:
                check_work(self.session, self.settings, cmd.n, self.queued_steps)
            except ValueError as exc:
                self.tell(str(exc))
                return
            self.queued_steps += cmd.n
        self.queue.put_nowait(cmd)

    async def run_commands(self) -> None:
        while True:
            cmd = await self.queue.get()
            if isinstance(cmd, Step):
                self.queued_steps -= cmd.n
            await self.handle(cmd)

    async def handle(self, cmd: Any) -> None:
        session, settings, sub = self.session, self.settings, self.sub
        try:
            if isinstance(cmd, Play):
                start_playing(session, settings, self.work, self.client)
            elif isinstance(cmd, Pause):
                session.playing = False
            elif isinstance(cmd, Speed):
                session.speed = min(cmd.steps_per_frame, settings.max_steps_per_frame)
            elif isinstance(cmd, Step):
                session.playing = False
                await advance(self.work, self.client, session, cmd.n)
                broadcast(session, await self.frame())
            elif isinstance(cmd, Reset):
                session.playing = False
                await self.job(_locked, session, session.runner.reset)
                broadcast(session, await self.frame())
            elif isinstance(cmd, SetParams):
                changed = await self.job(_locked, session, lambda: session.runner.apply(cmd.params))
                broadcast(session, await self.job(config_text, session, changed or {}))
                broadcast(session, await self.frame())
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


def _command_help(exc: ValidationError | None) -> str:
    what = f"bad command ({describe_error(exc)})" if exc is not None else "bad command (Invalid JSON)"
    return (
        f"{what}; send JSON like "
        '{"type": "play"}, {"type": "pause"}, {"type": "step", "n": 1}, {"type": "reset"}, '
        '{"type": "set", "params": {...}} or {"type": "speed", "steps_per_frame": 10}'
    )


async def serve(ws: WebSocket, session: Session, settings: Settings) -> None:
    """Run one page's connection to `session` until it disconnects."""
    await Connection(ws, session, settings, ws.app.state.work).serve()


async def serve_or_refuse(ws: WebSocket, session: Session | None, settings: Settings) -> None:
    """Serve the stream, or tell the page the session is gone and close (code 4404)."""
    if session is None:
        await ws.accept()
        await ws.send_text(encode(GONE_MESSAGE))
        await ws.close(code=4404)
        return
    await serve(ws, session, settings)
