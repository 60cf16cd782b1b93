"""The live stream of a session: one WebSocket per open page, frames rendered on work threads.

Clients send small JSON commands; the server answers with `frame`, `status`, `config`,
`journal` and `error` messages (an error about the connection carries a `code`: `session_gone` before the
socket closes with 4404, `too_many_streams` before 4429). A socket's reader never waits for
the work its commands ask: commands wait in a short queue (NP_MAX_QUEUED_COMMANDS, their steps
counted against NP_MAX_WORK_PER_CALL together) and a second task runs them in order; when the
page leaves, the queue and any unfinished step are dropped.

Every unit of CPU work (a slice of training, a frame's rendering and JSON encoding, a `set`)
runs as a job of app.work in the client's turn, never on the event loop. A frame is rendered
and encoded once, on a work thread, and the same text goes to every watcher; each watcher keeps
only the newest frame, so a slow page gets fewer, fresher frames. A frame larger than
NP_MAX_FRAME_BYTES is not sent: the session pauses and its pages are told what to lower.

Every frame carries `units` (work run so far). A page that connects with `?journal=1` also gets
a `journal` message (after the first frame, and after every change) with what rebuilds the run
(app.journal). A page whose worker is gone creates the run
again from the journal's `base` and sends `{"type": "replay", "events": [...], "units": n}` to
the new session: the same changes at the same points, then a fast-forward to the same unit.
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

from app.encoding import binary_message, finite
from app.errors import describe
from app.journal import ReplayIn
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
DETAIL_EVERY = 4  # while playing, one frame in this many carries a runner's slow-changing detail


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


class Replay(ReplayIn):
    type: Literal["replay"]


Command = Annotated[Play | Pause | Step | Reset | SetParams | Speed | Replay, Field(discriminator="type")]
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


class Frame:
    """One rendered frame, encoded once for every page that watches it: as JSON text, and as one
    compressed binary message for pages that asked for binary frames (`?frames=binary`). Both
    are made on a work thread when someone needs them; a form nobody needed then is made on
    demand (a page that connected in between)."""

    __slots__ = ("data", "message", "text")

    def __init__(self, message: dict[str, Any], text: bool = True, binary: bool = False) -> None:
        self.message = message
        self.text = encode(message) if text else None
        self.data = binary_message(message) if binary else None

    def for_page(self, binary: bool) -> str | bytes:
        if binary:
            if self.data is None:
                self.data = binary_message(self.message)
            return self.data
        if self.text is None:
            self.text = encode(self.message)
        return self.text

    @property
    def size(self) -> int:
        return max(len(self.text or ""), len(self.data or b""))


class Subscriber:
    """One connected page: the newest encoded frame plus a bounded queue of other messages."""

    def __init__(self, client: str, journal: bool = False, binary: bool = False) -> None:
        self.client = client
        self.journal = journal  # the page asked for journal messages (?journal=1)
        self.binary = binary  # the page asked for binary frames (?frames=binary)
        self.frame: str | bytes | None = None
        self.control: collections.deque[str | bytes] = collections.deque(maxlen=CONTROL_QUEUE)
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

    def offer(self, message: dict[str, Any] | str | Frame, keep: bool = False) -> None:
        """Queue a message for this page (on the event loop); a frame replaces an unsent one,
        unless `keep`: then it goes out in order with the other messages (the frame of a
        rebuilt run, which the page must show before it plays on)."""
        if isinstance(message, Frame):
            if keep:
                self.frame = None  # an older unsent frame would come after it
                self.control.append(message.for_page(self.binary))
            else:
                self.frame = message.for_page(self.binary)
        else:
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
                message = self.control.popleft()
                if isinstance(message, bytes):
                    await ws.send_bytes(message)
                else:
                    await ws.send_text(message)
            if self.ended:
                await ws.close(code=4404)
                return
            if self.frame is not None:
                frame, self.frame = self.frame, None
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_text(frame)


def broadcast(session: Session, message: dict[str, Any] | str | Frame, keep: bool = False) -> None:
    text = message if isinstance(message, str | Frame) else encode(message)
    for sub in list(session.subscribers):
        sub.offer(text, keep)


def broadcast_journal(session: Session, text: str) -> None:
    for sub in list(session.subscribers):
        if sub.journal:
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
        version = getattr(session.runner, "version", None)
        if version != session.chunk_version:  # a changed run (another network) finds its own pace
            session.chunk, session.chunk_version = 1, version
        return run_chunked(session.runner.advance, n, client=client, seconds=SLICE_SECONDS, stop=stop,
                           pace=session)


def frame_job(session: Session, text: bool = True, binary: bool = False, kind: str = "full") -> Frame:
    """The session's current frame, rendered and encoded in the forms asked for (a job). While
    playing, a "light" frame is the runner's `light_frame()` when it has one (the slow-changing
    detail, thumbnails and history, left out: the page keeps the last it got) and a "detail"
    frame its `detail_frame()` (everything, the slowest part perhaps from a few frames ago);
    otherwise, and for "full", its `frame()`."""
    with session.lock:
        render = getattr(session.runner, f"{kind}_frame", None) if kind != "full" else None
        frame = render() if render is not None else session.runner.frame()
        units = session.runner.units
    return Frame({"type": "frame", "units": units, **frame}, text, binary)


def _play_job(session: Session, client: str, n: int, text: bool, binary: bool,
              kind: str) -> tuple[int, str, Frame | None]:
    """Up to n units of a playing session and, once they ran (or the run is over), its frame, in
    one job: (units run, why the units stopped as app.work.run_chunked says, the frame or None
    when units are left or it was paused)."""
    ran, why = _advance_slice(session, n, client, True)
    if why in ("time", "yield") or not session.playing:
        return ran, why, None
    return ran, why, frame_job(session, text, binary, kind)


def frame_text(session: Session) -> str:
    """The session's current frame as JSON text (a job)."""
    return frame_job(session).text or ""


def forms(session: Session) -> tuple[bool, bool]:
    """(text, binary): which encodings the pages watching `session` want."""
    subs = list(session.subscribers)
    return any(not s.binary for s in subs) or not subs, any(s.binary for s in subs)


def journal_text(session: Session) -> str:
    """The session's journal as a message (a job: the base may hold thousands of points)."""
    with session.lock:
        journal = session.runner.journal()
        session.journal_sent = journal["version"]
    return encode({"type": "journal", **journal})


async def send_journal_if_changed(work: Work, client: str, session: Session) -> None:
    """Tell the pages of a change made elsewhere (a REST PATCH or reset while playing)."""
    if session.runner.version != session.journal_sent and any(s.journal for s in session.subscribers):
        broadcast_journal(session, await work.run(client, journal_text, session))


def config_text(session: Session, extra: dict[str, Any] | None = None) -> str:
    with session.lock:
        config = session.runner.describe()
    return encode({"type": "config", "config": config, **(extra or {})})


class FrameTooLarge(ValueError):
    pass


def check_frame(frame: Frame, settings: Settings) -> Frame:
    if frame.size > settings.max_frame_bytes:
        raise FrameTooLarge(
            f"a frame of this session is {frame.size / 1e6:.1f} MB, more than "
            f"{settings.max_frame_bytes / 1e6:.1f} MB (NP_MAX_FRAME_BYTES): lower the grid resolution "
            "(res, neuron_res) or the network's size")
    return frame


async def advance(work: Work, client: str, session: Session, n: int, only_playing: bool = False) -> int:
    """Run n units in slices, each a job in the client's turn, giving lighter clients the CPU
    when they want it; stops early once the runner is done (or, playing, once paused)."""
    done = 0
    while done < n:
        (ran, why), took = await work.run_timed(client, _advance_slice, session, n - done, client,
                                                only_playing)
        done += ran
        if why in ("finished", "stopped"):
            break
        if why == "yield":
            await work.step_aside(client)
        elif done < n:
            await work.rest(client, took)
    return done


# ----- playing ---------------------------------------------------------------------------------------
async def _play(session: Session, settings: Settings, work: Work, client: str) -> None:
    loop = asyncio.get_running_loop()
    played = 0
    # The pages' picture is behind the run: the frames played left out or reused the slow-changing
    # detail, or steps ran after the last (paused while they ran). Once stopped, a full frame
    # brings it up to date.
    stale = False
    lighter = any(callable(getattr(session.runner, f"{kind}_frame", None)) for kind in ("light", "detail"))
    try:
        while True:
            while session.playing:
                started = loop.time()
                kind = "light" if played % DETAIL_EVERY else "detail"
                played += 1
                planned = left = frame_steps(session, settings)
                frame = None
                worked = 0.0  # how long the jobs ran (not how long they waited for a thread)
                fresh = True  # a frame is work of its own (Work.wanting)
                while frame is None and session.playing:  # a frame's steps and the frame: one job
                    (ran, why, frame), took = await work.run_timed(
                        client, _play_job, session, client, left, *forms(session), kind, fresh=fresh)
                    fresh = False
                    worked += took
                    left -= ran
                    if why == "yield":
                        await work.step_aside(client)
                if frame is None or not session.playing:  # paused while it ran
                    stale = stale or left < planned
                    break
                text = check_frame(frame, settings)
                done = bool(session.runner.done)
                if done:
                    session.playing = False
                session.touch()
                broadcast(session, text)
                stale = lighter
                await send_journal_if_changed(work, client, session)
                if done:
                    broadcast(session, status_message(session))
                    if not session.playing:
                        break
                    continue  # reset and play came while the journal went out: play the new run
                await work.rest(client, worked)  # a large frame is long work too
                await asyncio.sleep(max(0.0, frame_interval(session, settings) - (loop.time() - started)))
            if not stale:
                break
            stale = False
            full = await work.run(client, frame_job, session, *forms(session))
            broadcast(session, check_frame(full, settings))
            if not session.playing:  # else play was pressed meanwhile: play on
                break
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
        query = ws.query_params
        self.sub = Subscriber(self.client, query.get("journal") == "1", query.get("frames") == "binary")
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
            if self.sub.journal:
                self.sub.offer(await self.job(journal_text, session))
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

    async def frame(self) -> Frame:
        return check_frame(await self.job(frame_job, self.session, *forms(self.session)), self.settings)

    async def journal(self) -> None:
        """Send the session's journal to the pages that asked for it."""
        if any(s.journal for s in self.session.subscribers):
            broadcast_journal(self.session, await self.job(journal_text, self.session))

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
                await self.journal()
                broadcast(session, await self.frame())
            elif isinstance(cmd, SetParams):
                changed = await self.job(_locked, session, lambda: session.runner.apply(cmd.params))
                broadcast(session, await self.job(config_text, session, changed or {}))
                await self.journal()
                broadcast(session, await self.frame())
            elif isinstance(cmd, Replay):
                session.playing = False
                await self.replay(cmd)
                broadcast(session, await self.job(config_text, session, {"replayed": True}))
                await self.journal()
                broadcast(session, await self.frame(), keep=True)  # the step it was rebuilt at
        except (ValueError, KeyError, TypeError) as exc:
            sub.offer({"type": "error", "message": describe_error(exc)})
            return
        except Exception as exc:  # the socket stays open whatever a lab's runner raises
            log.exception("a %s command failed", session.lab)
            sub.offer({"type": "error", "message": f"the command failed: {describe_error(exc)}"})
            return
        broadcast(session, status_message(session))


    async def replay(self, cmd: Replay) -> None:
        """Apply a journal's changes at their units, then run to `cmd.units`, in slices like any
        step (ValueError when the session is not new or the work passes NP_MAX_WORK_PER_CALL)."""
        session, settings = self.session, self.settings
        rec = session.runner
        if not rec.fresh:
            raise ValueError("replay rebuilds a run in a session just created from the journal's base; "
                             "this one has run or changed already")
        spent = 0

        async def run_to(target: int) -> None:
            nonlocal spent
            n = target - rec.units
            if n <= 0 or rec.done:
                return
            spent += n * step_cost(session)
            if spent > settings.max_work_per_call:
                raise ValueError(
                    f"this run is too long to replay here: {spent:.3g} units of work, more than "
                    f"{settings.max_work_per_call:.3g} (NP_MAX_WORK_PER_CALL)")
            await advance(self.work, self.client, session, n)

        for at, params in cmd.events:
            await run_to(at)
            await self.job(_locked, session, lambda p=params: rec.apply(p))
        await run_to(cmd.units)


def _locked(session: Session, fn: Any) -> Any:
    with session.lock:
        return fn()


def _command_help(exc: ValidationError | None) -> str:
    what = f"bad command ({describe_error(exc)})" if exc is not None else "bad command (Invalid JSON)"
    return (
        f"{what}; send JSON like "
        '{"type": "play"}, {"type": "pause"}, {"type": "step", "n": 1}, {"type": "reset"}, '
        '{"type": "set", "params": {...}}, {"type": "speed", "steps_per_frame": 10} or '
        '{"type": "replay", "events": [[units, {...}], ...], "units": n}'
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
