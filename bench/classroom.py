"""A lecture hall on this machine: N students play MLP sessions at once against the real server.

Starts the server as `make run` does (`--mode single`: one uvicorn process) or as
`make serve WORKERS=n` does (`--mode serve`: n workers behind nginx), on a free port, with
one BLAS thread a process. Then N WebSocket clients, each from its own loopback address
(127.0.0.x, as students' machines are different addresses), create a session like the page, set
its speed to one epoch a frame and play for T seconds; beside them a REST client steps a session
of its own (`POST …/step {"epochs": 1}`) and a probe asks `/healthz` ten times a second.
Prints, for each N: frames/s each client received (median and 5th percentile), the worst gap
between two frames, total frames/s, bytes/s a client and a frame's median size, REST step and
/healthz latency (median, p99), the server's CPU (100 % = one core) and RSS during the run and
after the clients left and their sessions expired, and how many students were refused.

    python -m bench.classroom                                   # 100 students, 60 s, one process
    python -m bench.classroom --clients 25,50,100 --seconds 60 --mode serve --workers 2
    python -m bench.classroom --hidden 8,8,8,8,8,8 --clients 100
    python -m bench.classroom --no-deflate                      # without per-message compression

Timings on a machine others use are pessimistic: the bench prints `uptime` before and after.
Its own clients run in this process and take CPU too (printed as "bench CPU").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
API = "/api/v1/mlp/sessions"
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def address(i: int) -> str:
    """A loopback address of its own for student i (127.0.0.2 …)."""
    return f"127.0.{i // 250}.{2 + i % 250}"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----- the server and its processes -----------------------------------------------------------
def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_and_rss(pids: list[int]) -> tuple[float, int]:
    """(CPU seconds used so far, resident bytes) of the processes."""
    cpu, rss = 0.0, 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / TICK
            rss += int(fields[21]) * PAGE
    return cpu, rss


class Server:
    def __init__(
        self, mode: str, workers: int, idle: float, env_extra: dict[str, str], ws_deflate: str
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            **ONE_THREAD,
            "NP_SESSION_IDLE_SECONDS": str(idle),
            "NP_EVICTION_INTERVAL_SECONDS": "2",
            **env_extra,
        }
        if mode == "single":  # as `make run`
            cmd = [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--ws-per-message-deflate",
                ws_deflate,
            ]
        else:  # as `make serve`
            self.run_dir = tempfile.mkdtemp(prefix="classroom-")
            cmd = [
                sys.executable,
                "-m",
                "deploy.serve",
                "--workers",
                str(workers),
                "--port",
                str(self.port),
                "--run-dir",
                self.run_dir,
                "--ws-per-message-deflate",
                ws_deflate,
            ]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    time.sleep(1.0)
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                sys.exit("the server did not start")
            time.sleep(0.3)
        self.stop()
        sys.exit("the server did not answer in 120 s")

    def pids(self) -> list[int]:
        return descendants(self.proc.pid)

    def sessions(self) -> int:
        """Sessions held by the server (by every worker)."""
        ports = [self.port]
        run_dir = getattr(self, "run_dir", None)
        if run_dir:
            ports = [w["port"] for w in json.loads(Path(run_dir, "workers.json").read_text())["workers"]]
        return sum(httpx.get(f"http://127.0.0.1:{p}/healthz", timeout=10).json()["sessions"] for p in ports)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ----- students ----------------------------------------------------------------------------------
@dataclass
class Student:
    index: int
    frames: list[float] = field(default_factory=list)  # arrival times in the measured window
    sizes: list[int] = field(default_factory=list)
    refused: str = ""


async def student(
    s: Student, url: str, config: dict, start: float, end: float, deflate: bool, frames: str
) -> None:
    local = address(s.index)
    transport = httpx.AsyncHTTPTransport(local_address=local)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=60) as http:
        try:
            r = await http.post(API, json=config)
        except httpx.HTTPError as exc:
            s.refused = f"create: {type(exc).__name__}"
            return
        if r.status_code != 201:
            s.refused = f"{r.status_code}"
            return
        body = r.json()
        sid, per_epoch = body["id"], body["config"]["resolved"]["batches_per_epoch"]
        query = "?journal=1&frames=binary" if frames == "binary" else "?journal=1"
        ws_url = url.replace("http", "ws", 1) + f"{API}/{sid}/stream{query}"
        try:
            async with connect(
                ws_url,
                local_addr=(local, 0),
                max_size=None,
                open_timeout=60,
                compression="deflate" if deflate else None,
            ) as ws:
                await ws.send(json.dumps({"type": "speed", "steps_per_frame": per_epoch}))
                await ws.send(json.dumps({"type": "play"}))
                # One deadline for the whole loop: a timeout a message would cost the bench
                # (the students' browsers) a task each, CPU the server then lacks.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(asyncio.get_running_loop().time() + end - time.monotonic()):
                        async for msg in ws:
                            now = time.monotonic()
                            frame = isinstance(msg, bytes) or msg.startswith('{"type":"frame"')
                            if frame and now >= start:
                                s.frames.append(now)
                                s.sizes.append(len(msg))
        except Exception as exc:  # a refused or dropped socket counts as a refusal
            s.refused = s.refused or f"socket: {type(exc).__name__}"
        with contextlib.suppress(httpx.HTTPError):
            await http.delete(f"{API}/{sid}")


async def latencies(
    url: str, path: str, body: dict | None, period: float, end: float, local: str
) -> list[float]:
    out: list[float] = []
    transport = httpx.AsyncHTTPTransport(local_address=local)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=60) as http:
        while time.monotonic() < end:
            t0 = time.monotonic()
            try:
                r = await (http.post(path, json=body) if body is not None else http.get(path))
                if r.status_code < 400:
                    out.append(time.monotonic() - t0)
            except httpx.HTTPError:
                pass
            await asyncio.sleep(max(0.0, period - (time.monotonic() - t0)))
    return out


async def rest_stepper(url: str, config: dict, end: float, local: str) -> list[float]:
    transport = httpx.AsyncHTTPTransport(local_address=local)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=60) as http:
        r = await http.post(API, json=config)
        if r.status_code != 201:
            return []
        sid = r.json()["id"]
    return await latencies(url, f"{API}/{sid}/step", {"epochs": 1}, 0.5, end, local)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


@dataclass
class Result:
    clients: int
    fps_median: float
    fps_p5: float
    total_fps: float
    worst_gap: float
    kb_per_s: float
    frame_kb: float
    step_ms: tuple[float, float]
    health_ms: tuple[float, float, float]
    cpu: float
    bench_cpu: float
    rss_start: float
    rss_peak: float
    rss_after: float
    sessions_after: int
    refused: int


async def run_class(
    server: Server,
    n: int,
    seconds: float,
    warmup: float,
    config: dict,
    deflate: bool,
    ramp: float,
    frames: str,
) -> tuple[list[Student], list[float], list[float], list[tuple]]:
    t0 = time.monotonic()
    start, end = t0 + ramp + warmup, t0 + ramp + warmup + seconds
    students = [Student(i) for i in range(n)]
    samples: list[tuple] = []

    async def sample() -> None:
        while time.monotonic() < end:
            samples.append((time.monotonic(), *cpu_and_rss(server.pids()), time.process_time()))
            await asyncio.sleep(1.0)

    async def later(s: Student) -> None:
        await asyncio.sleep(ramp * s.index / max(1, n))  # students arrive over `ramp` seconds
        await student(s, server.url, config, start, end, deflate, frames)

    async def probes() -> tuple[list[float], list[float]]:
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        return await asyncio.gather(
            rest_stepper(server.url, config, end, "127.0.250.2"),
            latencies(server.url, "/healthz", None, 0.1, end, "127.0.250.3"),
        )

    results = await asyncio.gather(sample(), probes(), *(later(s) for s in students))
    step, health = results[1]
    return students, step, health, samples


def loop_factory():
    """uvloop (uvicorn[standard] brings it) when there: the bench's own CPU is the students'
    browsers', which in a hall run on their own machines, not the server's cores."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def measure(server: Server, n: int, args: argparse.Namespace, config: dict) -> Result:
    _, rss_start = cpu_and_rss(server.pids())
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        students, step, health, samples = runner.run(run_class(
            server, n, args.seconds, args.warmup, config, not args.no_deflate, args.ramp, args.frames))
    window = [s for s in samples if s[0] >= samples[0][0] + args.ramp + args.warmup] or samples
    span = window[-1][0] - window[0][0] or 1.0
    cpu = (window[-1][1] - window[0][1]) / span
    bench_cpu = (window[-1][3] - window[0][3]) / span
    rss_peak = max(s[2] for s in samples)
    fps = [len(s.frames) / args.seconds for s in students if not s.refused]
    gaps = [
        max(b - a for a, b in zip(s.frames, s.frames[1:], strict=False))
        if len(s.frames) > 1
        else args.seconds
        for s in students
        if not s.refused
    ]
    sizes = [x for s in students for x in s.sizes]
    total = sum(sum(s.sizes) for s in students if not s.refused)
    # the clients have left: wait until their sessions expired, then look at memory again
    deadline = time.monotonic() + args.idle + 30
    while time.monotonic() < deadline and server.sessions() > 0:
        time.sleep(1.0)
    time.sleep(2.0)
    _, rss_after = cpu_and_rss(server.pids())
    ok = max(1, len(fps))
    return Result(
        clients=n,
        fps_median=statistics.median(fps) if fps else 0.0,
        fps_p5=pct(fps, 5),
        total_fps=sum(fps),
        worst_gap=max(gaps) if gaps else float("nan"),
        kb_per_s=total / args.seconds / ok / 1024,
        frame_kb=statistics.median(sizes) / 1024 if sizes else 0,
        step_ms=(1000 * pct(step, 50), 1000 * pct(step, 99)),
        health_ms=(1000 * pct(health, 50), 1000 * pct(health, 99), 1000 * max(health, default=float("nan"))),
        cpu=100 * cpu,
        bench_cpu=100 * bench_cpu,
        rss_start=rss_start / 2**20,
        rss_peak=rss_peak / 2**20,
        rss_after=rss_after / 2**20,
        sessions_after=server.sessions(),
        refused=sum(1 for s in students if s.refused),
    )


HEADER = (
    "| students | network | server | frames/s each (median / p5) | total frames/s | worst gap | "
    "KB/s each | frame KB | REST step ms (median / p99) | /healthz ms (median / p99 / max) | "
    "server CPU | bench CPU | server CPU ms a frame | RSS start / peak / after | refused |"
)


def row(r: Result, network: str, server: str) -> str:
    return (
        f"| {r.clients} | {network} | {server} | {r.fps_median:.1f} / {r.fps_p5:.1f} | {r.total_fps:.0f} | "
        f"{r.worst_gap:.2f} s | {r.kb_per_s:.0f} | {r.frame_kb:.1f} | "
        f"{r.step_ms[0]:.0f} / {r.step_ms[1]:.0f} | "
        f"{r.health_ms[0]:.0f} / {r.health_ms[1]:.0f} / {r.health_ms[2]:.0f} | {r.cpu:.0f} % | "
        f"{r.bench_cpu:.0f} % | {10 * r.cpu / max(r.total_fps, 1e-9):.2f} | "
        f"{r.rss_start:.0f} / {r.rss_peak:.0f} / {r.rss_after:.0f} MB"
        f"{'' if r.sessions_after == 0 else f' ({r.sessions_after} left)'} | {r.refused} |"
    )


def uptime() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--clients", default="100", help="students, or a list run one after the other: 25,50,100"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds measured, after the warm-up")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds over which the students arrive")
    parser.add_argument("--hidden", default="4,2", help="hidden layers, e.g. 8,8,8,8,8,8")
    parser.add_argument("--dataset", default="circle")
    parser.add_argument(
        "--mode",
        choices=["single", "serve"],
        default="single",
        help="single: one process as `make run`; serve: workers behind nginx as `make serve`",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--idle", type=float, default=10.0, help="NP_SESSION_IDLE_SECONDS of the server")
    parser.add_argument(
        "--no-deflate", action="store_true", help="no per-message compression (browsers ask for it)"
    )
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=VALUE for the server, e.g. NP_CAPACITY=50"
    )
    parser.add_argument(
        "--ws-deflate",
        choices=["true", "false"],
        default="false",
        help="the server's per-message deflate (off in make run/serve: binary frames come compressed)",
    )
    parser.add_argument(
        "--frames", choices=["binary", "json"], default="binary", help="binary as the MLP page asks, or JSON"
    )
    args = parser.parse_args(argv)
    hidden = [int(h) for h in args.hidden.split(",") if h]
    config = {"dataset": args.dataset, "hidden": hidden}
    network = (
        "default 2-4-2-1"
        if hidden == [4, 2]
        else f"{len(hidden)} × {hidden[0]}"
        if len(set(hidden)) == 1
        else "-".join(map(str, hidden))
    )
    where = "1 process" if args.mode == "single" else f"{args.workers} workers + nginx"
    env_extra = dict(e.split("=", 1) for e in args.env)
    print(
        f"load average before: {uptime()} on {os.cpu_count()} cores; {args.seconds:g} s measured a run"
        f"; students offer per-message deflate: {not args.no_deflate}, "
        f"the server takes it: {args.ws_deflate}; {args.frames} frames",
        flush=True,
    )
    rows = []
    for n in [int(c) for c in args.clients.split(",")]:
        server = Server(args.mode, args.workers, args.idle, env_extra, args.ws_deflate)
        try:
            rows.append(row(measure(server, n, args, config), network, where))
        finally:
            server.stop()
        print(rows[-1], flush=True)
    print(f"load average after: {uptime()}\n")
    print(HEADER)
    print("|" + "---|" * HEADER.count(" | ") + "---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
