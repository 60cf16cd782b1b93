"""A multi-process server for tests: `python -m deploy.serve` with its workers behind nginx."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from deploy.serve import find_nginx, free_port

ROOT = Path(__file__).resolve().parent.parent

needs_nginx = pytest.mark.skipif(
    find_nginx() is None and os.environ.get("CI", "").lower() != "true",
    reason="nginx missing: make proxy-deps installs it")


class Hall:
    """A running `python -m deploy.serve`: its URL and which process is which worker."""

    def __init__(self, run_dir: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.run_dir = run_dir
        # A killed worker stays down for the test: its sessions must come back on the other one.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deploy.serve", "--workers", str(workers), "--port", str(self.port),
             "--run-dir", str(run_dir), "--restart-delay", "120"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"deploy.serve exited: {self.proc.stdout.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                up = httpx.get(f"{self.url}/healthz").status_code == 200
                if up and (run_dir / "workers.json").exists():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        pytest.fail("the multi-process server did not start in 120 s")

    def pid(self, worker: str) -> int:
        state = json.loads((self.run_dir / "workers.json").read_text())
        return next(w["pid"] for w in state["workers"] if w["name"] == worker)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
