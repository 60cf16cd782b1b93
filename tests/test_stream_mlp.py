"""The MLP session's WebSocket: each command, a malformed message, two watchers."""

from __future__ import annotations

import json
import time

import pytest

from tests.streams import until

API = "/api/v1/mlp/sessions"


def _session(client, **cfg):
    return client.post(API, json={"hidden": [3], **cfg}).json()["id"]


def _open(client, sid):
    ws = client.websocket_connect(f"{API}/{sid}/stream")
    ws.__enter__()
    config = until(ws, "config")
    frame = until(ws, "frame")
    return ws, config, frame


def test_connect_sends_config_status_and_a_frame(client):
    sid = _session(client)
    ws, config, frame = _open(client, sid)
    try:
        assert config["config"]["resolved"]["sizes"] == [2, 3, 1]
        assert len(config["config"]["data"]["train"]) == 250
        assert frame["step"] == 0 and frame["grids"]["output"]["shape"] == [100, 100]
        assert len(frame["grids"]["neurons"][0]) == 3
        assert frame["metrics"]["train_loss"] > 0
    finally:
        ws.__exit__(None, None, None)


def test_step_reset_set_speed_play_pause(client):
    sid = _session(client)
    ws, _, _ = _open(client, sid)
    try:
        ws.send_json({"type": "step", "n": 5})
        assert until(ws, "frame")["step"] == 5

        ws.send_json({"type": "set", "params": {"lr": 0.1}})
        msg = until(ws, "config")
        assert msg["reset"] is False and msg["config"]["lr"] == 0.1
        assert until(ws, "frame")["step"] == 5

        ws.send_json({"type": "speed", "steps_per_frame": 25})
        assert until(ws, "status")["speed"] == 25

        ws.send_json({"type": "play"})
        assert until(ws, "status")["playing"] is True
        steps = [until(ws, "frame")["step"] for _ in range(3)]
        assert steps == sorted(steps) and steps[-1] > 5
        ws.send_json({"type": "pause"})
        status = until(ws, "status")
        assert status["playing"] is False

        ws.send_json({"type": "reset"})
        assert until(ws, "frame")["step"] == 0

        ws.send_json({"type": "set", "params": {"hidden": [2, 2]}})
        msg = until(ws, "config")
        assert msg["reset"] is True and msg["config"]["resolved"]["sizes"] == [2, 2, 2, 1]
    finally:
        ws.__exit__(None, None, None)


def test_a_pause_after_a_light_frame_sends_the_full_picture_of_where_it_stopped(client, monkeypatch):
    """While playing, most frames leave out the neurons' thumbnails and the class maps; once
    paused, the page gets them at the step the run stopped at, not from frames ago."""
    monkeypatch.setattr("app.streaming.DETAIL_EVERY", 10_000)  # after the first, every frame is light
    sid = _session(client, problem="multiclass", dataset="blobs", num_classes=3)
    session = client.app.state.store.find("mlp", sid)
    ws, _, _ = _open(client, sid)
    try:
        ws.send_json({"type": "play"})
        frames = [until(ws, "frame") for _ in range(3)]
        assert "neurons" not in frames[-1]["grids"] and "probabilities" not in frames[-1]["grids"]
        assert "diagnosis" not in frames[-1] and "history" not in frames[-1]  # the page keeps its last
        ws.send_json({"type": "pause"})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (  # the player stopped and its messages went out
                session.player is not None or any(s.frame or s.control for s in session.subscribers)):
            time.sleep(0.01)
        ws.send_json({"type": "speed", "steps_per_frame": 7})  # its status comes after all that
        last = None
        while (msg := ws.receive_json())["type"] != "status" or msg["speed"] != 7:
            last = msg if msg["type"] == "frame" else last
        assert last is not None, "no frame after the pause"
        assert len(last["grids"]["neurons"][0]) == 3 and len(last["grids"]["probabilities"]) == 3
        assert last["diagnosis"]["grad_norms"] and last["history"]["epochs"]
        assert last["step"] == session.runner.trainer.step_count
    finally:
        ws.__exit__(None, None, None)


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ("not json", "Invalid JSON"),
        (json.dumps({"type": "fly"}), "type"),
        (json.dumps({"type": "step", "n": 0}), "n"),
        (json.dumps({"type": "speed"}), "steps_per_frame"),
        (json.dumps({"type": "set", "params": {"lr": -1}}), "lr"),
        (json.dumps({"type": "set", "params": {"dataset": "moon"}}), "circle"),
        (json.dumps({"type": "step", "n": 10**9}), "at most"),
        (json.dumps([1, 2]), "bad command"),
    ],
)
def test_malformed_messages_get_an_error_and_the_socket_stays_open(client, message, says):
    sid = _session(client)
    ws, _, _ = _open(client, sid)
    try:
        ws.send_text(message)
        err = until(ws, "error")
        assert says in err["message"]
        ws.send_json({"type": "step", "n": 2})
        assert until(ws, "frame")["step"] == 2
    finally:
        ws.__exit__(None, None, None)


def test_binary_message_gets_an_error(client):
    sid = _session(client)
    ws, _, _ = _open(client, sid)
    try:
        ws.send_bytes(b"\x00\x01")
        assert "JSON text" in until(ws, "error")["message"]
    finally:
        ws.__exit__(None, None, None)


def test_two_pages_watching_one_session_both_get_frames(client):
    sid = _session(client)
    a, _, _ = _open(client, sid)
    b, _, _ = _open(client, sid)
    try:
        a.send_json({"type": "step", "n": 3})
        assert until(a, "frame")["step"] == 3
        assert until(b, "frame")["step"] == 3
        b.send_json({"type": "set", "params": {"seed": 7}})
        assert until(a, "config")["config"]["seed"] == 7
    finally:
        a.__exit__(None, None, None)
        b.__exit__(None, None, None)


def test_unknown_session_stream_says_so(client):
    with client.websocket_connect(f"{API}/nope/stream") as ws:
        msg = ws.receive_json()
        assert msg["type"] == "error" and "no such session" in msg["message"]


def test_diverging_run_stops_playing_and_reports(client):
    sid = _session(client, dataset="plane", hidden=[8, 8], activation="relu", lr=10, init="he")
    ws, _, _ = _open(client, sid)
    try:
        ws.send_json({"type": "speed", "steps_per_frame": 200})
        ws.send_json({"type": "play"})
        for _ in range(200):
            msg = ws.receive_json()
            if msg["type"] == "status" and msg["done"]:
                break
        assert msg["playing"] is False
        r = client.get(f"{API}/{sid}")
        assert r.json()["diverged"] is True
    finally:
        ws.__exit__(None, None, None)


def test_work_budget_cuts_frames_and_refuses_big_steps(client_with):
    client = client_with(max_work_per_call=100_000, max_work_per_frame=2_500)
    sid = _session(client, hidden=[4, 2])  # 250 units a step: 10 steps a frame at most
    ws, _, _ = _open(client, sid)
    try:
        ws.send_json({"type": "step", "n": 401})
        assert "NP_MAX_WORK_PER_CALL" in until(ws, "error")["message"]
        ws.send_json({"type": "speed", "steps_per_frame": 500})
        ws.send_json({"type": "play"})
        first = until(ws, "frame")["step"]
        second = until(ws, "frame")["step"]
        assert 0 < second - first <= 10
        ws.send_json({"type": "pause"})
    finally:
        ws.__exit__(None, None, None)


def test_a_fault_while_playing_is_reported_and_playing_stops(client):
    sid = _session(client)
    runner = client.app.state.store.find("mlp", sid).runner

    def broken(n):
        raise ZeroDivisionError("float division by zero")

    runner.advance = broken
    ws, _, _ = _open(client, sid)
    try:
        ws.send_json({"type": "play"})
        assert "the run stopped: float division by zero" in until(ws, "error")["message"]
        for _ in range(20):
            status = until(ws, "status")
            if not status["playing"]:
                break
        assert status["playing"] is False
        ws.send_json({"type": "step", "n": 1})  # a failing command: an error, the socket stays
        assert "failed" in until(ws, "error")["message"]
        ws.send_json({"type": "reset"})
        assert until(ws, "frame")["step"] == 0
    finally:
        ws.__exit__(None, None, None)
