"""The stream's limits: messages checked before they are read further, a short command queue
that goes with its page, frames encoded once and within their budget, the connection's truth."""

from __future__ import annotations

import json
import time

from app import streaming
from tests.streams import until

MLP = "/api/v1/mlp/sessions"
HEAVY = {"dataset": "spiral", "hidden": [32] * 8, "n_points": 1000, "batch_size": 250}


def _open(client, sid):
    ws = client.websocket_connect(f"{MLP}/{sid}/stream")
    ws.__enter__()
    until(ws, "frame")
    return ws


def test_a_message_over_the_size_limit_is_refused_unread_and_the_socket_stays_open(client_with):
    c = client_with(max_body_bytes=1000)
    sid = c.post(MLP, json={}).json()["id"]
    ws = _open(c, sid)
    try:
        ws.send_text(json.dumps({"type": "set", "params": {"points": [[0, 0, 1]] * 200}}))
        err = until(ws, "error")
        assert "NP_MAX_BODY_BYTES" in err["message"] and len(err["message"]) < 300
        ws.send_json({"type": "step", "n": 2})
        assert until(ws, "frame")["step"] == 2
    finally:
        ws.__exit__(None, None, None)


def test_a_message_nesting_too_deep_or_too_long_is_refused(client):
    sid = client.post(MLP, json={}).json()["id"]
    ws = _open(client, sid)
    try:
        ws.send_text('{"type": "set", "params": {"lr": ' + "[" * 50 + "]" * 50 + "}}")
        assert "NP_MAX_JSON_DEPTH" in until(ws, "error")["message"]
        ws.send_text(json.dumps({"type": "set", "params": {"points": [[0, 0, 1]] * 20_000}}))
        assert "NP_MAX_LIST_ITEMS" in until(ws, "error")["message"]
        ws.send_text('{"type": "set", "params": {"dataset": "\\ud800"}}')
        assert "Unicode" in until(ws, "error")["message"]
    finally:
        ws.__exit__(None, None, None)


def test_a_bad_set_with_many_problems_gets_a_short_error(client):
    sid = client.post(MLP, json={}).json()["id"]
    ws = _open(client, sid)
    try:
        ws.send_json({"type": "set", "params": {f"field{i}": i for i in range(5000)}})
        err = until(ws, "error")["message"]
        assert "more problems" in err and len(err) < 2000
    finally:
        ws.__exit__(None, None, None)


def test_the_reader_answers_while_a_long_command_runs_and_the_queue_is_short(client_with):
    c = client_with(max_queued_commands=1)
    sid = c.post(MLP, json=HEAVY).json()["id"]
    ws = _open(c, sid)
    try:
        ws.send_json({"type": "step", "n": 200})  # most of a second of work
        for _ in range(4):
            ws.send_json({"type": "speed", "steps_per_frame": 3})
        kinds = []
        while True:
            msg = ws.receive_json()
            kinds.append(msg["type"])
            if msg["type"] == "error":
                assert "NP_MAX_QUEUED_COMMANDS" in msg["message"]
            if msg["type"] == "frame":
                assert msg["step"] == 200
                break
        assert "error" in kinds and kinds.index("error") < kinds.index("frame")  # told while it worked
    finally:
        ws.__exit__(None, None, None)


def test_queued_steps_count_together_against_the_work_budget(client_with):
    c = client_with(max_work_per_call=2_000_000, max_steps_per_call=10_000)
    sid = c.post(MLP, json={"hidden": [4, 2]}).json()["id"]  # 25 weights × 10 examples a step
    ws = _open(c, sid)
    try:
        for _ in range(3):  # 1.5 M units each: one runs, the next waits, the third would pass 2 M
            ws.send_json({"type": "step", "n": 6_000})
        err = until(ws, "error")["message"]
        assert "NP_MAX_WORK_PER_CALL" in err and "already waiting" in err
    finally:
        ws.__exit__(None, None, None)


def test_queued_work_is_dropped_when_the_page_leaves(client):
    sid = client.post(MLP, json=HEAVY).json()["id"]
    ws = _open(client, sid)
    for _ in range(10):
        ws.send_json({"type": "step", "n": 300})
    time.sleep(0.3)
    ws.__exit__(None, None, None)
    time.sleep(0.5)  # the slice that ran when the page left ends
    first = client.get(f"{MLP}/{sid}").json()["step"]
    time.sleep(1.0)
    second = client.get(f"{MLP}/{sid}").json()["step"]
    assert first == second < 3000


def test_a_frame_is_encoded_once_for_every_watcher(client, monkeypatch):
    sid = client.post(MLP, json={}).json()["id"]
    pages = [_open(client, sid) for _ in range(3)]
    calls = []
    real = streaming.encode

    def counted(message):
        if message.get("type") == "frame":
            calls.append(message["step"])
        return real(message)

    monkeypatch.setattr(streaming, "encode", counted)
    try:
        pages[0].send_json({"type": "step", "n": 5})
        texts = {json.dumps(until(ws, "frame"), sort_keys=True) for ws in pages}
        assert len(texts) == 1  # the same frame to all three
        assert calls == [5]  # rendered and encoded once
    finally:
        for ws in pages:
            ws.__exit__(None, None, None)


def test_a_frame_larger_than_the_budget_pauses_the_session_and_says_why(client_with):
    c = client_with(max_frame_bytes=5_000)
    sid = c.post(MLP, json={}).json()["id"]
    with c.websocket_connect(f"{MLP}/{sid}/stream") as ws:
        err = until(ws, "error")  # the first frame already is too large
        assert "NP_MAX_FRAME_BYTES" in err["message"]


def test_status_names_the_server_and_healthz_too(client):
    sid = client.post(MLP, json={}).json()["id"]
    with client.websocket_connect(f"{MLP}/{sid}/stream") as ws:
        status = until(ws, "status")
    health = client.get("/healthz").json()
    assert status["server"] == health["server"] == streaming.BOOT and len(streaming.BOOT) >= 8


def test_deleting_a_session_tells_its_pages_it_is_gone(client):
    sid = client.post(MLP, json={}).json()["id"]
    ws = _open(client, sid)
    try:
        assert client.delete(f"{MLP}/{sid}").status_code == 204
        msg = until(ws, "error")
        assert msg["code"] == "session_gone" and msg["server"] == streaming.BOOT
        closed = ws.receive()
        assert closed["type"] == "websocket.close" and closed["code"] == 4404
    finally:
        ws.__exit__(None, None, None)


def test_commands_faster_than_the_quota_are_dropped_and_said_once(client_with):
    c = client_with(client_quota_per_second=1, client_quota_burst=5)
    sid = c.post(MLP, json={}).json()["id"]  # one unit of the five
    ws = _open(c, sid)
    try:
        for _ in range(20):
            ws.send_json({"type": "speed", "steps_per_frame": 2})
        time.sleep(1.2)  # a unit of the quota is back
        ws.send_json({"type": "step", "n": 1})
        seen = []
        while (msg := ws.receive_json())["type"] != "frame":
            seen.append(msg)
        errors = [m["message"] for m in seen if m["type"] == "error"]
        assert len(errors) == 1 and "NP_CLIENT_QUOTA_PER_SECOND" in errors[0]  # told once, not 16 times
        assert 3 <= sum(m["type"] == "status" for m in seen) <= 6  # those the quota allowed ran
        assert msg["step"] == 1
    finally:
        ws.__exit__(None, None, None)
