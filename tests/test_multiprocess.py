"""The multi-process server with the real proxy: two workers behind Debian's nginx, started the
way `make serve` starts them. Sessions created through the proxy land on both workers and both
stream; killing one keeps the other's sessions playing, and a killed one comes back, the same
network at the same step, by replaying its journal on the worker left. Checks behaviour, not speed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from deploy.proxy import compose_config
from deploy.serve import find_nginx
from tests.hall import Hall, needs_nginx

ROOT = Path(__file__).resolve().parent.parent
API = "/api/v1/mlp/sessions"


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Hall]:
    server = Hall(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def ws_url(hall: Hall, sid: str) -> str:
    return f"ws://127.0.0.1:{hall.port}{API}/{sid}/stream?journal=1"


def receive(ws, kind: str, limit: int = 200) -> dict:
    for _ in range(limit):
        msg = json.loads(ws.recv(timeout=30))
        if msg["type"] == kind:
            return msg
    pytest.fail(f"no {kind} message in {limit}")


def frames(ws, n: int) -> list[dict]:
    return [receive(ws, "frame") for _ in range(n)]


@needs_nginx
def test_two_workers_share_sessions_and_a_killed_one_recovers_by_replay(hall: Hall) -> None:
    http = httpx.Client(base_url=hall.url, timeout=30)
    ids = [http.post(API, json={"hidden": [4, 2], "seed": i}).json()["id"] for i in range(6)]
    by_worker: dict[str, list[str]] = {}
    for sid in ids:
        by_worker.setdefault(sid[:2], []).append(sid)
    assert set(by_worker) == {"WA", "WB"}  # the proxy spreads new sessions over both

    a, b = by_worker["WA"][0], by_worker["WB"][0]
    with connect(ws_url(hall, a)) as wa, connect(ws_url(hall, b)) as wb:
        journals = {}
        for ws, sid in ((wa, a), (wb, b)):
            journals[sid] = receive(ws, "journal")
            ws.send(json.dumps({"type": "speed", "steps_per_frame": 5}))
            ws.send(json.dumps({"type": "play"}))
        wb.send(json.dumps({"type": "set", "params": {"lr": 0.1}}))  # a change mid-play, journaled
        journals[b] = receive(wb, "journal")
        assert journals[b]["events"] and journals[b]["events"][0][1] == {"lr": 0.1}
        for ws in (wa, wb):  # both stream
            units = [f["units"] for f in frames(ws, 3)]
            assert units == sorted(units) and units[-1] > units[0]
        # the page of b holds the newest journal and frame when b's worker dies
        last_b = frames(wb, 1)[0]
        os.kill(hall.pid("WB"), signal.SIGKILL)
        with pytest.raises(Exception):  # noqa: B017  the socket drops (ConnectionClosed or timeout)
            for _ in range(1000):
                msg = json.loads(wb.recv(timeout=10))
                if msg["type"] == "frame":
                    last_b = msg
        # a's worker is untouched: its session keeps playing
        before = frames(wa, 1)[0]["units"]
        assert frames(wa, 3)[-1]["units"] > before

    gone = http.get(f"{API}/{b}")
    assert gone.status_code == 502 and gone.json()["detail"][0]["type"] == "worker_down"

    # what a page does: create the run again from the journal's base, replay, compare
    created = http.post(API, json=journals[b]["base"])
    assert created.status_code == 201
    rebuilt = created.json()["id"]
    assert rebuilt.startswith("WA")
    with connect(ws_url(hall, rebuilt)) as ws:
        receive(ws, "journal")
        ws.send(json.dumps({"type": "replay", "events": journals[b]["events"], "units": last_b["units"]}))
        assert receive(ws, "config")["replayed"] is True
        frame = receive(ws, "frame")
    assert frame["units"] == last_b["units"] and frame["step"] == last_b["step"]
    assert frame["weights"] == last_b["weights"]
    assert frame["metrics"] == last_b["metrics"]
    http.close()


def test_the_compose_proxy_configuration_is_the_template_rendered_for_its_workers() -> None:
    assert (ROOT / "deploy" / "compose" / "nginx.conf").read_text() == compose_config()
    compose = (ROOT / "compose.yaml").read_text()
    for name, address in (("WA", "wa"), ("WB", "wb"), ("WC", "wc"), ("WD", "wd")):
        assert f"  {address}:\n" in compose and f"NP_WORKER_NAME: {name}" in compose
    assert "./deploy/compose/nginx.conf:/etc/nginx/nginx.conf:ro" in compose
    # short links are files: every worker reads and writes the one volume, so a link made on one
    # opens on any other
    assert "- links:/srv/links" in compose and "NP_LINKS_DIR: /srv/links" in compose
    assert "chown playground /srv/links" in (ROOT / "Dockerfile").read_text()


@needs_nginx
def test_nginx_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    from deploy.proxy import render

    conf = tmp_path / "nginx.conf"
    user = "root" if os.geteuid() == 0 else None
    workers = [("WA", "127.0.0.1:1"), ("WB", "127.0.0.1:2")]
    conf.write_text(render(workers, "127.0.0.1:1", str(tmp_path), user))
    out = subprocess.run([find_nginx(), "-t", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr",
                          "-g", f"pid {tmp_path / 'nginx.pid'};"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
