"""Serve the playground with several worker processes behind nginx, on one machine.

    python -m deploy.serve --workers 2 --host 0.0.0.0 --port 8000      (make serve WORKERS=2)

Starts N uvicorn workers on 127.0.0.1 (worker i is named WA, WB, … : NP_WORKER_NAME, so every id
it hands out starts with its name), each with one BLAS thread, waits until they answer, renders
deploy/nginx.conf.in for them into a run directory and runs Debian's nginx in front
(`apt-get install nginx`). A worker that dies is started again under the same name (its
sessions are gone: their pages rebuild them from their journals on whichever worker answers).
The run directory's workers.json says which process is which. Ctrl-C (or SIGTERM) stops all.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from app.settings import WORKER_ALPHABET
from deploy.proxy import render

ROOT = Path(__file__).resolve().parent.parent
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# One work thread a worker (NP_WORK_THREADS): a process runs one thread's Python at a time, and
# a second thread only adds hand-overs of the interpreter lock (bench.classroom: ~12 % more
# CPU a frame with two). Set it in the environment to change it.
WORKER_DEFAULTS = {"NP_WORK_THREADS": "1"}


def worker_names(n: int) -> list[str]:
    """WA, WB, … (the alphabet of app.settings.WORKER_ALPHABET after W, then XA, …)."""
    letters = [c for c in WORKER_ALPHABET if c.isalpha()]
    firsts = "WXYZ"
    if n > len(firsts) * len(letters):
        raise ValueError(f"at most {len(firsts) * len(letters)} workers")
    return [firsts[i // len(letters)] + letters[i % len(letters)] for i in range(n)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_nginx() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


class Worker:
    def __init__(self, name: str, port: int, env: dict[str, str], ws_deflate: str = "false") -> None:
        self.name, self.port, self.env, self.ws_deflate = name, port, env, ws_deflate
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
               "--port", str(self.port), "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1",
               "--no-access-log", "--log-level", "warning", "--ws-per-message-deflate", self.ws_deflate]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**self.env, "NP_WORKER_NAME": self.name})

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "port": self.port, "pid": self.proc.pid if self.proc else None,
                "restarts": self.restarts}


class Server:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_dir = Path(args.run_dir or tempfile.mkdtemp(prefix="playground-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        env = {**WORKER_DEFAULTS, **os.environ, **ONE_THREAD}
        self.workers = [Worker(name, free_port(), env, args.ws_per_message_deflate)
                        for name in worker_names(args.workers)]
        self.nginx: subprocess.Popen[bytes] | None = None
        self.stopping = False

    def write_state(self) -> None:
        state = {"url": f"http://{self.args.host}:{self.args.port}",
                 "proxy": {"pid": self.nginx.pid if self.nginx else None},
                 "workers": [w.describe() for w in self.workers]}
        tmp = self.run_dir / "workers.json.tmp"
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.run_dir / "workers.json")

    def start(self) -> None:
        nginx = find_nginx()
        if nginx is None:
            sys.exit("nginx is missing: run 'make proxy-deps' (as root) or 'sudo apt-get install nginx'")
        for w in self.workers:
            w.start()
        deadline = time.monotonic() + self.args.start_timeout
        while not all(w.ready() for w in self.workers):
            if time.monotonic() > deadline or any(w.proc and w.proc.poll() is not None for w in self.workers):
                self.stop()
                sys.exit("a worker did not start; see its output above")
            time.sleep(0.2)
        temp = self.run_dir / "nginx"
        temp.mkdir(exist_ok=True)
        listen = f"{self.args.host}:{self.args.port}"
        user = "root" if os.geteuid() == 0 else None  # nginx's workers then write the run directory
        conf = self.run_dir / "nginx.conf"
        workers = [(w.name, f"127.0.0.1:{w.port}") for w in self.workers]
        conf.write_text(render(workers, listen, str(temp), user))
        self.nginx = subprocess.Popen(
            [nginx, "-p", str(self.run_dir), "-c", str(conf), "-e", "stderr",
             "-g", f"daemon off; pid {self.run_dir / 'nginx.pid'};"])
        self.write_state()
        for w in self.workers:
            print(f"worker {w.name} pid {w.proc.pid} on 127.0.0.1:{w.port}", flush=True)  # type: ignore[union-attr]
        print(f"Neural Playground on http://{listen} (nginx pid {self.nginx.pid}, "
              f"{len(self.workers)} workers; state in {self.run_dir / 'workers.json'})", flush=True)

    def supervise(self) -> int:
        while not self.stopping:
            if self.nginx and self.nginx.poll() is not None:
                print(f"nginx exited with code {self.nginx.returncode}; stopping", flush=True)
                self.stop()
                return 1
            for w in self.workers:
                if w.proc and w.proc.poll() is not None and not self.stopping:
                    print(f"worker {w.name} (pid {w.proc.pid}) exited with code {w.proc.returncode}; "
                          "starting it again", flush=True)
                    w.restarts += 1
                    time.sleep(self.args.restart_delay)
                    w.start()
                    self.write_state()
            time.sleep(0.2)
        return 0

    def stop(self, *_: object) -> None:
        self.stopping = True
        procs = [p for p in [self.nginx, *(w.proc for w in self.workers)] if p and p.poll() is None]
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                p.terminate()
        deadline = time.monotonic() + 10
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes (one a core)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="where nginx listens (0.0.0.0 for a lecture hall)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--run-dir",
                        help="where the nginx configuration and workers.json go (a new temp dir)")
    parser.add_argument("--start-timeout", type=float, default=60.0)
    parser.add_argument("--restart-delay", type=float, default=1.0,
                        help="seconds before a dead worker restarts")
    parser.add_argument("--ws-per-message-deflate", choices=["true", "false"], default="false",
                        help="the workers' WebSocket compression (frames of the MLP lab come compressed)")
    args = parser.parse_args(argv)
    server = Server(args)
    signal.signal(signal.SIGTERM, server.stop)
    signal.signal(signal.SIGINT, server.stop)
    server.start()
    return server.supervise()


if __name__ == "__main__":
    sys.exit(main())
