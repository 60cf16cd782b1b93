"""A run rebuilt from its journal is the same run: ids carry their worker, the journal records
every change with its unit, a replay in a new session reaches the same weights, admission past
NP_CAPACITY answers 503 with Retry-After."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import ValidationError

from app.journal import Recorded, ReplayIn
from app.settings import Settings
from app.streaming import Frame, Subscriber
from tests.streams import decode_binary, until

API = "/api/v1/mlp/sessions"


def _weights(client, sid):
    body = client.get(f"{API}/{sid}", params={"include": ["weights"], "precision": "full"}).json()
    return body["step"], body["weights"]


def _drive(client, sid):
    """Steps, a live change, clicked points, more steps, over the socket and over REST; returns
    the last journal the socket sent and the units of the last frame."""
    with client.websocket_connect(f"{API}/{sid}/stream?journal=1") as ws:
        assert until(ws, "frame")["units"] == 0
        journal = until(ws, "journal")  # after the first frame
        assert journal["units"] == 0 and journal["events"] == [] and journal["replayable"]
        ws.send_json({"type": "step", "n": 7})
        assert until(ws, "frame")["units"] == 7
        ws.send_json({"type": "set", "params": {"lr": 0.1, "optimizer": "adam", "optimizer_params": {}}})
        journal = until(ws, "journal")
        assert journal["events"][-1][0] == 7
        ws.send_json({"type": "speed", "steps_per_frame": 3})
        ws.send_json({"type": "play"})
        for _ in range(3):
            until(ws, "frame")
        ws.send_json({"type": "pause"})
        until(ws, "status")
        ws.send_json({"type": "set", "params": {"added": [[1.0, 2.0, 1], [-3.0, 0.5, -1]]}})
        journal = until(ws, "journal")
        frame = until(ws, "frame")
    # a REST step and PATCH count too
    client.post(f"{API}/{sid}/step", json={"steps": 4})
    client.patch(f"{API}/{sid}", json={"batch_size": 5})
    with client.websocket_connect(f"{API}/{sid}/stream?journal=1") as ws:
        frame = until(ws, "frame")
        journal = until(ws, "journal")
    assert frame["units"] == journal["units"] > 7 + 4
    assert [type(e[1]) for e in journal["events"]] == [dict, dict, dict]
    return journal, frame["units"]


def _replay(client, journal, units):
    created = client.post(API, json=journal["base"])
    assert created.status_code == 201, created.text
    new = created.json()["id"]
    with client.websocket_connect(f"{API}/{new}/stream?journal=1") as ws:
        until(ws, "journal")
        ws.send_json({"type": "replay", "events": journal["events"], "units": units})
        config = until(ws, "config")
        assert config["replayed"] is True
        assert until(ws, "journal")["events"] == journal["events"]
        frame = until(ws, "frame")
    return new, frame


def test_a_replayed_run_has_the_same_weights_at_the_same_step(client):
    sid = client.post(API, json={"dataset": "xor", "hidden": [4, 3], "seed": 5}).json()["id"]
    journal, units = _drive(client, sid)
    step, weights = _weights(client, sid)
    new, frame = _replay(client, journal, units)
    assert frame["units"] == units and frame["step"] == step
    assert _weights(client, new) == (step, weights)  # bit for bit: full precision


def test_a_reset_starts_the_journal_over_from_the_current_settings(client):
    sid = client.post(API, json={"hidden": [3]}).json()["id"]
    with client.websocket_connect(f"{API}/{sid}/stream?journal=1") as ws:
        until(ws, "journal")
        ws.send_json({"type": "set", "params": {"lr": 0.3}})
        until(ws, "journal")
        ws.send_json({"type": "step", "n": 3})
        ws.send_json({"type": "reset"})
        journal = until(ws, "journal")
        while journal["events"]:
            journal = until(ws, "journal")
    assert journal["units"] == 0 and journal["base"]["lr"] == 0.3


def test_a_rebuilt_run_shows_its_step_before_it_plays_on(client):
    """The page sends replay and play together: the frame at the replayed step reaches it (a
    playing frame does not replace it), then the run plays on from there."""
    sid = client.post(API, json={"dataset": "xor", "hidden": [4, 2], "seed": 3}).json()["id"]
    journal, units = _drive(client, sid)
    new = client.post(API, json=journal["base"]).json()["id"]
    with client.websocket_connect(f"{API}/{new}/stream?journal=1&frames=binary") as ws:
        ws.send_json({"type": "speed", "steps_per_frame": 50})
        ws.send_json({"type": "replay", "events": journal["events"], "units": units})
        ws.send_json({"type": "play"})
        seen = []
        while not seen or seen[-1] <= units:
            message = ws.receive()
            if message.get("bytes"):
                seen.append(decode_binary(message["bytes"])["units"])
    assert units in seen and seen[seen.index(units) + 1] > units


def test_a_kept_frame_goes_out_in_order_and_a_later_one_does_not_replace_it():
    class Socket:
        def __init__(self):
            self.sent = []

        async def send_text(self, text):
            self.sent.append(text)

        async def send_bytes(self, data):
            self.sent.append(data)

    async def run():
        sub, ws = Subscriber("c", binary=True), Socket()
        sub.offer(Frame({"type": "frame", "units": 0}, binary=True))
        sub.offer(Frame({"type": "frame", "units": 9}, binary=True), keep=True)  # replaces 0, kept
        sub.offer({"type": "status", "playing": True})
        sub.offer(Frame({"type": "frame", "units": 12}, binary=True))
        sub.offer(Frame({"type": "frame", "units": 15}, binary=True))  # replaces 12
        pump = asyncio.create_task(sub.pump(ws))
        await asyncio.sleep(0.01)
        pump.cancel()
        return ws.sent

    sent = asyncio.run(run())
    assert [decode_binary(m)["units"] if isinstance(m, bytes) else m for m in sent] == [
        9, '{"type":"status","playing":true}', 15]


def test_replay_only_rebuilds_a_new_session_and_says_what_is_wrong(client):
    sid = client.post(API, json={"hidden": [3]}).json()["id"]
    with client.websocket_connect(f"{API}/{sid}/stream?journal=1") as ws:
        until(ws, "journal")
        ws.send_json({"type": "step", "n": 2})
        until(ws, "frame")
        ws.send_json({"type": "replay", "events": [], "units": 5})
        assert "session just created" in until(ws, "error")["message"]
        ws.send_json({"type": "replay", "events": [[4, {"lr": 0.1}], [2, {"lr": 0.2}]], "units": 5})
        assert "must not go down" in until(ws, "error")["message"]
        ws.send_json({"type": "step", "n": 1})
        assert until(ws, "frame")["units"] == 3  # the socket stays open


def test_replay_past_the_work_budget_is_refused(client_with):
    client = client_with(max_work_per_call=10_000)
    sid = client.post(API, json={"hidden": [3]}).json()["id"]
    with client.websocket_connect(f"{API}/{sid}/stream?journal=1") as ws:
        ws.send_json({"type": "replay", "events": [], "units": 1000})
        assert "NP_MAX_WORK_PER_CALL" in until(ws, "error")["message"]


def test_a_journal_past_its_limit_is_no_longer_replayable():
    class Runner:
        def __init__(self):
            self.cfg = ReplayIn()

        def apply(self, params):
            return {}

        def advance(self, n):
            return n

    rec = Recorded(Runner(), limit_bytes=200)
    rec.advance(3)
    rec.apply({"a": 1})
    assert rec.journal()["events"] == [[3, {"a": 1}]] and rec.replayable
    rec.apply({"points": list(range(100))})
    assert rec.journal() == {"base": None, "events": [], "units": 3, "replayable": False, "version": 2}


def test_ids_start_with_the_worker_name(client_with):
    client = client_with(worker_name="WB")
    assert client.post(API, json={"hidden": [3]}).json()["id"].startswith("WB")
    with pytest.raises(ValidationError):
        Settings(worker_name="W0")  # 0 reads as O on a projector: not in the alphabet
    with pytest.raises(ValidationError):
        Settings(worker_name="WBC")


def test_past_capacity_a_new_session_is_refused_with_503_and_retry_after(client_with):
    client = client_with(capacity=2)
    for _ in range(2):
        assert client.post(API, json={"hidden": [3]}).status_code == 201
    refused = client.post(API, json={"hidden": [3]})
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) > 0
    problem = refused.json()["detail"][0]
    assert problem["type"] == "server_full" and problem["ctx"]["capacity"] == 2
    msg = problem["msg"]
    assert msg.startswith("the server is full: 2 students are playing; retry in a moment")
    assert "NP_CAPACITY" in msg
    assert client.get("/healthz").status_code == 200


def test_idle_sessions_are_evicted_while_others_play_and_all_go_once_the_pages_leave(client_with):
    client = client_with(session_idle_seconds=0.3, eviction_interval_seconds=0.1)
    store = client.app.state.store  # looked at without touching the sessions

    def alive(sid):
        return store.find("mlp", sid) is not None

    idle = [client.post(API, json={"hidden": [3]}).json()["id"] for _ in range(5)]
    playing = [client.post(API, json={"hidden": [3]}).json()["id"] for _ in range(3)]
    sockets = [client.websocket_connect(f"{API}/{sid}/stream") for sid in playing]
    try:
        for ws in sockets:
            ws.__enter__()
            ws.send_json({"type": "play"})
        for _ in range(200):  # frames keep coming while the idle sessions expire
            for ws in sockets:
                until(ws, "frame")
            if not any(alive(sid) for sid in idle):
                break
        assert not any(alive(sid) for sid in idle)
        assert all(alive(sid) for sid in playing)
    finally:
        for ws in sockets:
            ws.__exit__(None, None, None)
    deadline = time.monotonic() + 30  # the pages left: their sessions go after the idle time
    while len(store) and time.monotonic() < deadline:
        assert client.get("/healthz").status_code == 200
        time.sleep(0.05)
    assert len(store) == 0
