"""A real playground server for isolation tests, and the instruments that watch it.

`LiveServer` starts uvicorn as a subprocess on a free loopback port with NP_* settings.
Clients pick their own loopback source address (127.0.0.x), so the server sees them as
different clients the way it would see students on different machines:

- `Instruments` (in a process of its own) plays a control session over its WebSocket,
  timestamps every frame, and asks /healthz again and again, timing each answer.

`isolation(server, abuse)` measures the control session's frame rate just before and while
`abuse` runs, and /healthz latency during it: what every fault test compares.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from websockets.sync.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
CONTROL_ADDRESS = "127.0.0.2"
PROBE_ADDRESS = "127.0.0.3"
ABUSER_ADDRESS = "127.0.0.1"
# The control session: the MLP lab's default network, one epoch a frame, as a page plays it.
CONTROL = {"dataset": "circle", "hidden": [4, 2]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving app.main:app on 127.0.0.1:<free port> with `settings` as NP_* variables."""

    def __init__(self, settings: dict[str, object] | None = None, uvicorn_args: tuple[str, ...] = (),
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_base = f"ws://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("NP_")}
        env.update({f"NP_{k.upper()}": str(v) for k, v in (settings or {}).items()})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", *uvicorn_args],
            cwd=ROOT, env=env,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", trust_env=False, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the playground server did not start")
            time.sleep(0.05)

    def client(self, address: str = ABUSER_ADDRESS, timeout: float = 30) -> httpx.Client:
        """An HTTP client whose requests come from `address`."""
        transport = httpx.HTTPTransport(local_address=address)
        return httpx.Client(base_url=self.base, transport=transport, trust_env=False, timeout=timeout)

    def socket(self, path: str, address: str = ABUSER_ADDRESS, **kw: object) -> ClientConnection:
        """A WebSocket to `path` from `address` (no size limit, no compression, no pings)."""
        sock = socket.create_connection(("127.0.0.1", self.port), source_address=(address, 0))
        kw = {"max_size": None, "compression": None, "ping_interval": None, "open_timeout": 10, **kw}
        return connect(f"{self.ws_base}{path}", sock=sock, proxy=None, **kw)  # type: ignore[arg-type]

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """Stop the server at once, as a crash would (no goodbye to its sockets)."""
        self.proc.kill()
        self.proc.wait(5)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Instruments:
    """The control page and the /healthz probe, in a process of their own.

    A client that abuses the server from the test's process would otherwise take the GIL from
    the threads that measure, and the test would measure its own client. The child process
    (`python -m tests.liveserver`) plays a CONTROL session from CONTROL_ADDRESS and asks
    /healthz from PROBE_ADDRESS every 50 ms; it prints one line per event, with times on the
    system's monotonic clock, which this process shares."""

    def __init__(self, server: LiveServer, config: dict | None = None, epochs_per_frame: int = 1) -> None:
        self.frames: list[float] = []
        self.health: list[tuple[float, float]] = []
        self.asked: list[float] = []  # every /healthz request sent, answered or not
        self.closed: str | None = None
        self.ready = threading.Event()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.liveserver", str(server.port), json.dumps(config or CONTROL),
             str(epochs_per_frame)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if not self.ready.wait(30):
            self.close()
            raise RuntimeError(f"the control page did not start: {self.closed}")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            kind, _, rest = line.strip().partition(" ")
            if kind == "F":
                self.frames.append(float(rest))
                self.ready.set()
            elif kind == "P":
                self.asked.append(float(rest))
            elif kind == "H":
                sent, took = rest.split()
                self.health.append((float(sent), float(took)))
            elif kind == "C":
                self.closed = rest
                self.ready.set()

    def rate(self, start: float, end: float) -> float:
        """Control frames per second received in [start, end)."""
        return sum(start <= t < end for t in self.frames) / (end - start)

    def worst_gap(self, start: float, end: float) -> float:
        ts = [start] + [t for t in self.frames if start <= t < end] + [end]
        return max(b - a for a, b in itertools.pairwise(ts))

    def _answers(self, start: float, end: float) -> list[float]:
        """How long each /healthz request waiting at some time in [start, end) took; one still
        unanswered at `end` counts as waiting until then."""
        answered = dict(self.health)
        waits = []
        for sent in self.asked:
            took = answered.get(sent, end - sent)
            if sent < end and sent + took > start:
                waits.append(took)
        return waits

    def health_worst(self, start: float, end: float) -> float:
        return max(self._answers(start, end), default=float("nan"))

    def health_median(self, start: float, end: float) -> float:
        took = sorted(self._answers(start, end))
        return took[len(took) // 2] if took else float("nan")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._thread.join(5)

    def __enter__(self) -> Instruments:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _instruments_main(port: int, config: dict, epochs_per_frame: int) -> None:
    """The child process of Instruments: play the control session, probe /healthz, print events."""
    base = f"127.0.0.1:{port}"
    out_lock = threading.Lock()

    def emit(line: str) -> None:
        with out_lock:
            print(line, flush=True)

    transport = httpx.HTTPTransport(local_address=CONTROL_ADDRESS)
    with httpx.Client(base_url=f"http://{base}", transport=transport, trust_env=False, timeout=30) as c:
        body = c.post("/api/v1/mlp/sessions", json=config).raise_for_status().json()
    per_epoch = body["config"]["resolved"]["batches_per_epoch"]

    def probe() -> None:
        transport = httpx.HTTPTransport(local_address=PROBE_ADDRESS)
        with httpx.Client(base_url=f"http://{base}", transport=transport, trust_env=False, timeout=30) as c:
            while True:
                sent = time.monotonic()
                emit(f"P {sent}")
                try:
                    c.get("/healthz").raise_for_status()
                    took = time.monotonic() - sent
                except httpx.HTTPError:
                    took = float("inf")
                emit(f"H {sent} {took}")
                time.sleep(max(0.0, 0.05 - took))

    threading.Thread(target=probe, daemon=True).start()
    sock = socket.create_connection(("127.0.0.1", port), source_address=(CONTROL_ADDRESS, 0))
    try:
        with connect(f"ws://{base}/api/v1/mlp/sessions/{body['id']}/stream", sock=sock, proxy=None,
                     max_size=None, compression=None, ping_interval=None) as ws:
            ws.send(json.dumps({"type": "speed", "steps_per_frame": epochs_per_frame * per_epoch}))
            ws.send(json.dumps({"type": "play"}))
            for text in ws:
                if isinstance(text, str) and text.startswith('{"type":"frame"'):
                    emit(f"F {time.monotonic()}")
            emit(f"C closed {ws.close_code}")
    except Exception as exc:
        emit(f"C {exc!r}")


@dataclass
class Isolation:
    before: float  # control frames/s just before the abuse
    during: float  # control frames/s while it runs
    health_worst: float  # slowest /healthz answer during the abuse, s
    health_median: float
    gap: float  # longest wait between two control frames during the abuse, s
    closed: str | None  # how the control socket ended, when it did

    @property
    def ratio(self) -> float:
        return self.during / self.before if self.before else 0.0

    def __str__(self) -> str:
        return (f"control {self.before:.1f} → {self.during:.1f} frames/s ({self.ratio:.0%}), worst gap "
                f"{1000 * self.gap:.0f} ms; /healthz median {1000 * self.health_median:.0f} ms, worst "
                f"{1000 * self.health_worst:.0f} ms")

    def check(self, rate_kept: float = 0.8, health_limit: float = 0.2) -> None:
        """The control session keeps `rate_kept` of its frame rate; /healthz answers in time."""
        assert self.closed is None, f"the control session's socket ended: {self.closed}; {self}"
        assert self.during >= rate_kept * self.before, str(self)
        assert self.health_worst <= health_limit, str(self)


def lower_priority(nice: int = 10) -> None:
    """Run this thread (and the threads it starts) at a lower CPU priority.

    The abusive client runs on the same two cores as the server it abuses, where in a lecture
    hall it would be another machine; at normal priority its own CPU use would slow the server
    (and the measuring process) down and the test would measure the machine, not the server's
    isolation. Linux gives each thread its own nice value."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


def isolation(server: LiveServer, abuse: Callable[[threading.Event], object], *, warmup: float = 1.0,
              before: float = 2.0, during: float = 3.0, instruments: Instruments | None = None) -> Isolation:
    """Play a control session, measure it for `before` s, then for `during` s while `abuse(stop)`
    runs in a thread of this process (it should return soon after `stop` is set)."""
    own = instruments is None
    inst = instruments or Instruments(server)
    stop = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            lower_priority()
            abuse(stop)
        except BaseException as exc:  # reported after the measurement
            failure.append(exc)

    try:
        time.sleep(warmup)
        t0 = time.monotonic()
        time.sleep(before)
        t1 = time.monotonic()
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        time.sleep(during)
        t2 = time.monotonic()
        stop.set()
        time.sleep(0.3)  # the last probes sent in the window come back
        result = Isolation(inst.rate(t0, t1), inst.rate(t1, t2), inst.health_worst(t1, t2),
                           inst.health_median(t1, t2), inst.worst_gap(t1, t2), inst.closed)
        thread.join(60)
    finally:
        if own:
            inst.close()
    if failure:
        raise failure[0]
    return result


if __name__ == "__main__":
    _instruments_main(int(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3]))
