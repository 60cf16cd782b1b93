"""The scale lab's API: sweeps run on the server and fill from the cache, bad sweeps are 422s
naming the setting, a class experiment hands cells to students (leases that lapse and are
reassigned, results checked before they count), the live stream, exports, the QR code, ids
and join codes that carry the worker's prefix, and the presets' promises."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from app import sessions
from app.labs.scale.store import ALPHABET, normalize_code
from app.templating import ROOT
from tests.answers import message as problems
from tests.streams import until
from tests.test_scale_qr import read as read_qr

SMALL = {"widths": [4, 8], "train_sizes": [50, 100], "budget": 30}


def wait_done(client, sid: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = client.get(f"/api/v1/scale/sweeps/{sid}").json()
        if state["progress"]["done"] == state["progress"]["total"]:
            return state
        assert time.monotonic() < deadline, f"the sweep did not finish: {state['progress']}"
        time.sleep(0.05)


def train_in_session(client, cell: dict) -> dict:
    """What a student's page does: a cell session stepped to its budget; its last frame's result."""
    r = client.post("/api/v1/scale/sessions", json=cell)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    state = client.post(f"/api/v1/scale/sessions/{sid}/step?units=100000").json()
    assert state["done"] and state["result"] is not None
    client.delete(f"/api/v1/scale/sessions/{sid}")
    return state["result"]


# ---- sweeps on the server --------------------------------------------------------------------

def test_sweep_runs_on_the_server_and_a_second_one_fills_from_the_cache(client):
    r = client.post("/api/v1/scale/sweeps", json=SMALL)
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["mode"] == "server" and len(s["cells"]) == 4
    assert s["progress"] == {**s["progress"], "total": 4, "done": 0, "pending": 4, "server_runs": False}
    assert {(c["width"], c["train_size"]) for c in s["cells"]} == {(4, 50), (4, 100), (8, 50), (8, 100)}
    for c in s["cells"]:
        assert c["steps"] == 30 and c["parameters"] == 65 * c["width"] + (c["width"] + 1) * 10

    progress = client.post(f"/api/v1/scale/sweeps/{s['id']}/run").json()
    assert progress["server_runs"]
    done = wait_done(client, s["id"])
    assert {c["source"] for c in done["cells"]} <= {"server", "cache"}
    for c in done["cells"]:
        assert 0 <= c["result"]["test_error"] <= 1 and c["result"]["curve"]["step"][-1] == 30
    assert len(done["points"]) == 4 and done["progress"]["seconds_per_cell"] is not None
    assert done["fits"]["test_error"]["train_size"]["x"] == [50, 100]

    again = client.post("/api/v1/scale/sweeps", json=SMALL).json()
    assert again["id"] != s["id"]
    assert again["progress"]["done"] == 4 and again["progress"]["cached"] == 4  # at once, nothing trained
    errors = [c["result"]["test_error"] for c in done["cells"]]
    assert [c["result"]["test_error"] for c in again["cells"]] == errors


def test_run_a_few_cells_then_pause(client):
    s = client.post("/api/v1/scale/sweeps", json={**SMALL, "seeds": [7]}).json()
    client.post(f"/api/v1/scale/sweeps/{s['id']}/run", json={"cells": 1})
    deadline = time.monotonic() + 30
    while client.get(f"/api/v1/scale/sweeps/{s['id']}?view=summary").json()["progress"]["done"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    p = client.get(f"/api/v1/scale/sweeps/{s['id']}?view=summary").json()["progress"]
    assert p["done"] == 1 and p["pending"] == 3 and not p["server_runs"]
    assert client.post(f"/api/v1/scale/sweeps/{s['id']}/pause").json()["server_runs"] is False


@pytest.mark.parametrize(("body", "message"), [
    ({"widths": []}, "at least 1 item"),
    ({"train_sizes": [100, 100]}, "train_sizes repeats a value"),
    ({"train_sizes": [2000]}, "digits has 1438 training images"),
    ({"model": "cnn", "depths": [1, 2]}, "depths apply to model 'mlp' only"),
    ({"budget": 10.5}, "a budget in steps is a whole number"),
    ({"widths": [4], "nope": 1}, "Extra inputs are not permitted"),
    ({"lr": float("nan")}, "finite number"),
])
def test_bad_sweeps_are_422_saying_what_to_change(client, body, message):
    r = client.post("/api/v1/scale/sweeps", content=json.dumps(body).replace("NaN", "NaN"),
                    headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert message in r.text


def test_sweeps_past_the_settings_are_422_naming_them(client_with):
    c = client_with(scale_max_cells=3, scale_max_cell_flops=1e8, scale_max_sweep_flops=2e8,
                    scale_max_width=64)
    r = c.post("/api/v1/scale/sweeps", json={"widths": [4, 8], "train_sizes": [50, 100]})
    assert r.status_code == 422 and "4 cells, at most 3 (NP_SCALE_MAX_CELLS)" in problems(r)
    r = c.post("/api/v1/scale/sweeps", json={"widths": [128]})
    assert r.status_code == 422 and "NP_SCALE_MAX_WIDTH" in problems(r)
    r = c.post("/api/v1/scale/sweeps", json={"widths": [64], "budget": 2000})
    assert r.status_code == 422 and "NP_SCALE_MAX_CELL_FLOPS" in problems(r)
    r = c.post("/api/v1/scale/sweeps", json={"widths": [16, 32, 64], "budget": 400})
    assert r.status_code == 422 and "NP_SCALE_MAX_SWEEP_FLOPS" in problems(r)
    r = c.post("/api/v1/scale/cells", json={"width": 64, "steps": 5000})
    assert r.status_code == 422 and "NP_SCALE_MAX_CELL_FLOPS" in problems(r)


def test_budgets_in_epochs_and_flops_resolve_to_steps(client):
    s = client.post("/api/v1/scale/sweeps", json={"widths": [8], "train_sizes": [64, 128],
                                                  "budget_unit": "epochs", "budget": 2}).json()
    assert [c["steps"] for c in s["cells"]] == [4, 8]  # 2 epochs of 2 and of 4 batches of 32
    s = client.post("/api/v1/scale/sweeps", json={"widths": [8, 16], "train_sizes": [200],
                                                  "budget_unit": "flops", "budget": 5e6}).json()
    steps = [c["steps"] for c in s["cells"]]
    assert steps[0] > steps[1] and all(c["flops"] <= 5e6 for c in s["cells"])  # a bigger model, fewer steps


def test_the_sweep_cap_and_unknown_sweeps(client_with):
    c = client_with(scale_max_sweeps=1, scale_sweep_idle_seconds=3600)
    assert c.post("/api/v1/scale/sweeps", json=SMALL).status_code == 201
    r = c.post("/api/v1/scale/sweeps", json=SMALL)
    assert r.status_code == 429 and "NP_SCALE_MAX_SWEEPS" in problems(r)
    r = c.get("/api/v1/scale/sweeps/nope")
    assert r.status_code == 404 and "no sweep 'nope'" in problems(r)


def test_idle_sweeps_are_dropped(client_with):
    c = client_with(scale_max_sweeps=1, scale_sweep_idle_seconds=0.05)
    first = c.post("/api/v1/scale/sweeps", json=SMALL).json()
    time.sleep(0.1)
    assert c.post("/api/v1/scale/sweeps", json=SMALL).status_code == 201  # the idle one made room
    assert c.get(f"/api/v1/scale/sweeps/{first['id']}").status_code == 404


# ---- class experiments ------------------------------------------------------------------------

def class_sweep(client, **extra) -> dict:
    r = client.post("/api/v1/scale/sweeps", json={**SMALL, "seeds": [11], "mode": "class", **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_students_join_train_and_post_their_cells(client):
    s = class_sweep(client)
    code = s["code"]
    assert len(code) == 5 and set(code) <= set(ALPHABET)
    assert s["join_url"] == f"http://testserver/join/{code}"
    typed = f" {code[:2].lower()}-{code[2:].lower()} "
    found = client.get(f"/api/v1/scale/join/{typed}").json()
    assert found["sweep"] == s["id"] and found["progress"]["total"] == 4

    a = client.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={}).json()
    b = client.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={"cells": 2}).json()
    assert (a["number"], b["number"]) == (1, 2) and len(a["cells"]) == 1 and len(b["cells"]) == 2
    taken = [c["k"] for c in a["cells"] + b["cells"]]
    assert len(set(taken)) == 3
    state = client.get(f"/api/v1/scale/sweeps/{s['id']}").json()
    assert state["progress"]["leased"] == 3 and state["students"]["training"] == 2

    # student a trains its cell in a session and posts the last frame's result
    job = a["cells"][0]
    result = train_in_session(client, job["cell"])
    r = client.post(job["result_url"], json={"lease": job["lease"], "result": result})
    assert r.status_code == 200 and r.json()["accepted"], r.text
    cell = r.json()["cell"]
    assert cell["status"] == "done" and cell["source"] == "student" and cell["student"] == 1
    # the same result again: already there
    again = client.post(job["result_url"], json={"lease": job["lease"], "result": result}).json()
    assert again["accepted"] is False
    # a rejoin with the token keeps the number and gives the next cell
    again = client.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={"student": a["student"]}).json()
    assert again["number"] == 1 and len(again["cells"]) == 1 and again["cells"][0]["k"] not in taken
    summary = client.get(f"/api/v1/scale/sweeps/{s['id']}?view=summary").json()
    assert summary["students"]["joined"] == 2 and summary["students"]["contributed"] == 1
    assert summary["progress"]["from_students"] == 1 and len(summary["points"]) == 1
    # nothing left to hand out
    late = client.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={}).json()
    assert late["cells"] == [] and "every cell is taken" in late["message"]


def test_results_are_checked_before_they_count(client):
    s = class_sweep(client, seeds=[12])
    job = client.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={}).json()["cells"][0]
    result = train_in_session(client, job["cell"])
    r = client.post(job["result_url"], json={"lease": "x" * 16, "result": result})
    assert r.status_code == 403 and "never given" in problems(r)
    r = client.post(job["result_url"], json={"lease": job["lease"], "result": {**result, "parameters": 1}})
    assert r.status_code == 422 and "the cell's network has" in problems(r)
    r = client.post(job["result_url"], json={"lease": job["lease"], "result": {**result, "test_error": 1.5}})
    assert r.status_code == 422
    # once this worker knows the cell's numbers, a changed one is refused
    client.post("/api/v1/scale/cells", json=job["cell"])
    r = client.post(job["result_url"], json={"lease": job["lease"], "result": {**result, "test_error": 0.01}})
    assert r.status_code == 422 and "differs from this cell's known" in problems(r)
    assert client.post(job["result_url"], json={"lease": job["lease"], "result": result}).json()["accepted"]


def test_a_lapsed_lease_goes_to_the_next_student(client_with):
    c = client_with(scale_lease_seconds=1.0)
    s = class_sweep(c, widths=[4], train_sizes=[50], seeds=[13])
    a = c.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={}).json()
    job = a["cells"][0]
    result = train_in_session(c, job["cell"])  # a trains it, then goes quiet for too long
    assert c.post(job["lease_url"], json={"lease": job["lease"]}).json()["expires_in"] == 1.0
    assert c.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={}).json()["cells"] == []  # still a's
    time.sleep(1.3)
    b = c.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={}).json()
    assert [x["k"] for x in b["cells"]] == [job["k"]] and b["number"] == 3  # #2 found nothing free
    state = c.get(f"/api/v1/scale/sweeps/{s['id']}").json()
    assert state["progress"]["reassigned"] == 1 and state["cells"][0]["handed_out"] == 2
    r = c.post(job["lease_url"], json={"lease": job["lease"]})
    assert r.status_code == 409 and "no longer leased to you" in problems(r)
    r = c.post(job["result_url"], json={"lease": job["lease"], "result": result})
    assert r.status_code == 409 and "went to another student" in problems(r)
    mine = b["cells"][0]
    assert c.post(mine["result_url"], json={"lease": mine["lease"], "result": result}).json()["accepted"]


def test_server_sweeps_take_no_students_and_the_student_cap(client_with):
    c = client_with(scale_max_students=1)
    s = c.post("/api/v1/scale/sweeps", json=SMALL).json()
    r = c.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={})
    assert r.status_code == 409 and "class experiment" in problems(r)
    s = class_sweep(c)
    assert c.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={}).status_code == 200
    r = c.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={})
    assert r.status_code == 429 and "NP_SCALE_MAX_STUDENTS" in problems(r)


def test_the_lecturer_fills_the_rest_on_the_server(client):
    s = class_sweep(client, seeds=[14])
    a = client.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={}).json()
    client.post(f"/api/v1/scale/sweeps/{s['id']}/run")
    deadline = time.monotonic() + 30
    while True:
        p = client.get(f"/api/v1/scale/sweeps/{s['id']}?view=summary").json()["progress"]
        if p["done"] == 3:
            break
        assert time.monotonic() < deadline, p
        time.sleep(0.05)
    assert p["leased"] == 1  # the student's cell stays the student's
    job = a["cells"][0]
    result = train_in_session(client, job["cell"])
    assert client.post(job["result_url"], json={"lease": job["lease"], "result": result}).json()["accepted"]


# ---- the stream ------------------------------------------------------------------------------

def test_stream_sends_the_state_then_each_change(client):
    s = class_sweep(client, seeds=[15])
    with client.websocket_connect(f"/api/v1/scale/sweeps/{s['id']}/stream") as ws:
        first = until(ws, "state")
        assert first["id"] == s["id"] and len(first["cells"]) == 4 and first["code"] == s["code"]
        ws.send_text("nonsense")
        assert "send {\"type\": \"state\"}" in until(ws, "error")["message"]
        a = client.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={}).json()
        leased = until(ws, "cells")["cells"]
        assert [c["status"] for c in leased] == ["leased"] and leased[0]["student"] == 1
        summary = until(ws, "summary")
        assert summary["students"]["joined"] == 1 and summary["progress"]["leased"] == 1
        job = a["cells"][0]
        result = train_in_session(client, job["cell"])
        client.post(job["result_url"], json={"lease": job["lease"], "result": result})
        done = until(ws, "cells")["cells"]
        assert done[0]["status"] == "done" and done[0]["result"]["test_error"] == result["test_error"]
        summary = until(ws, "summary")
        assert summary["students"]["contributed"] == 1 and len(summary["points"]) == 1
        ws.send_json({"type": "state"})
        assert until(ws, "state")["progress"]["done"] == 1


def test_stream_of_an_unknown_sweep_says_so_and_closes(client):
    with client.websocket_connect("/api/v1/scale/sweeps/nope/stream") as ws:
        assert "no such sweep" in ws.receive_json()["message"]
        with pytest.raises(Exception):  # noqa: B017 - closed with 4404
            ws.receive_json()


def test_cell_session_plays_to_its_budget_on_the_stream(client):
    cell = {"width": 8, "train_size": 60, "steps": 40, "seed": 3}
    sid = client.post("/api/v1/scale/sessions", json=cell).json()["id"]
    with client.websocket_connect(f"/api/v1/scale/sessions/{sid}/stream") as ws:
        config = until(ws, "config")["config"]
        assert config["cell"]["steps"] == 40 and config["shape"]["units"] == 40
        ws.send_json({"type": "speed", "steps_per_frame": 10})
        ws.send_json({"type": "play"})
        while True:
            frame = until(ws, "frame")
            if frame["done"]:
                break
        assert frame["units"] == 40 and frame["result"]["steps"] == 40
        ws.send_json({"type": "set", "params": {"width": 9}})
        assert "configuration is fixed" in until(ws, "error")["message"]
    r = client.patch(f"/api/v1/scale/sessions/{sid}", json={"width": 9})
    assert r.status_code == 422
    again = client.post("/api/v1/scale/cells", json=cell).json()
    assert again["result"]["test_error"] == frame["result"]["test_error"]  # the same run, wherever it trains


# ---- export, QR, ids -------------------------------------------------------------------------

def test_export_csv_and_json(client):
    s = client.post("/api/v1/scale/sweeps", json=SMALL).json()
    client.post(f"/api/v1/scale/sweeps/{s['id']}/run")
    wait_done(client, s["id"])
    r = client.get(f"/api/v1/scale/sweeps/{s['id']}/export?format=csv")
    assert r.headers["content-type"].startswith("text/csv") and ".csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 4 and {row["status"] for row in rows} == {"done"}
    assert {int(row["width"]) for row in rows} == {4, 8}
    assert all(0 <= float(row["test_error"]) <= 1 for row in rows)
    data = client.get(f"/api/v1/scale/sweeps/{s['id']}/export").json()
    assert data["format"] == "neural-playground/scale-sweep" and len(data["cells"]) == 4
    assert data["definition"]["widths"] == [4, 8] and data["cells"][0]["result"]["curve"]["test_error"]


def test_qr_code_carries_the_join_link(client_with):
    c = client_with(scale_public_url="http://192.168.1.20:8000/")
    s = c.post("/api/v1/scale/sweeps", json={**SMALL, "mode": "class"}).json()
    assert s["join_url"] == f"http://192.168.1.20:8000/join/{s['code']}"
    r = c.get(s["qr"])
    assert r.headers["content-type"].startswith("image/svg+xml")
    import re

    import numpy as np

    cells = [(int(x) - 4, int(y) - 4) for x, y in re.findall(r"M(\d+),(\d+)h1v1h-1z", r.text)]
    size = int(re.search(r'viewBox="0 0 (\d+)', r.text).group(1)) - 8
    m = np.zeros((size, size), dtype=bool)
    for x, y in cells:
        m[y, x] = True
    assert read_qr(m) == s["join_url"].encode()


def test_ids_and_join_codes_carry_the_worker_prefix(client, monkeypatch):
    monkeypatch.setattr(sessions, "worker_prefix", lambda: "B")
    s = client.post("/api/v1/scale/sweeps", json={**SMALL, "mode": "class"}).json()
    assert s["id"].startswith("B") and s["code"].startswith("B") and len(s["code"]) == 6
    assert normalize_code(f"b{s['code'][1:].lower()}") == s["code"]
    assert client.get(f"/api/v1/scale/join/{s['code'].lower()}").json()["sweep"] == s["id"]
    session = client.post("/api/v1/scale/sessions", json={"width": 4, "train_size": 50, "steps": 5}).json()
    assert session["id"].startswith("B")


def test_fit_endpoint(client):
    x = [10, 100, 1000, 10_000, 100_000]
    y = [3 * v**-0.5 + 0.05 for v in x]
    fit = client.post("/api/v1/scale/fit", json={"x": x, "y": y}).json()["fit"]
    assert fit["alpha"] == pytest.approx(0.5, rel=1e-6) and fit["floor"] == pytest.approx(0.05, rel=1e-6)
    assert client.post("/api/v1/scale/fit", json={"x": [1, 2], "y": [1]}).status_code == 422


@pytest.mark.parametrize(("path", "body", "loc"), [
    ("/fit", {"x": [1, 2, 3], "y": [3, 2, 1], "floor": 0}, ["body", "floor"]),
    ("/fit", {"x": [1, "2", 3], "y": [3, 2, 1]}, ["body", "x", 1]),
    ("/fit", {"x": ["a"] * 10_000, "y": [1] * 10_000}, ["body", "x", 0]),
    ("/cells", {"width": "32"}, ["body", "width"]),
    ("/cells", {"lr": False}, ["body", "lr"]),
    ("/sessions", {"seed": True}, ["body", "seed"]),
    ("/sweeps", {"widths": [4, "8"]}, ["body", "widths", 1]),
    ("/sweeps", {"budget": "400"}, ["body", "budget"]),
])
def test_numbers_and_booleans_are_json_numbers_and_booleans(client, path, body, loc):
    r = client.post(f"/api/v1/scale{path}", json=body)
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["detail"]] == [loc]


def test_a_posted_result_takes_numbers_only(client):
    s = class_sweep(client, seeds=[13])
    job = client.post(f"/api/v1/scale/sweeps/{s['id']}/join", json={}).json()["cells"][0]
    result = train_in_session(client, job["cell"])
    bad = {**result, "curve": {**result["curve"], "test_error": ["0.5"] * len(result["curve"]["test_error"])}}
    r = client.post(job["result_url"], json={"lease": job["lease"], "result": bad})
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "result", "curve", "test_error", 0]]
    r = client.post(job["result_url"], json={"lease": job["lease"], "result": {**result, "diverged": 0}})
    assert r.status_code == 422 and "diverged" in problems(r)
    assert client.post(job["result_url"], json={"lease": job["lease"], "result": result}).json()["accepted"]


def test_api_is_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/scale/sweeps", "/api/v1/scale/sweeps/{sid}", "/api/v1/scale/sweeps/{sid}/join",
                 "/api/v1/scale/sweeps/{sid}/cells/{k}/result", "/api/v1/scale/sweeps/{sid}/export",
                 "/api/v1/scale/join/{code}", "/api/v1/scale/cells", "/api/v1/scale/fit"):
        assert path in paths, path


# ---- pages -----------------------------------------------------------------------------------

def test_join_pages(client):
    s = class_sweep(client, seeds=[16])
    page = client.get(f"/join/{s['code']}")
    assert page.status_code == 200 and f'data-sweep="{s["id"]}"' in page.text
    r = client.get(f"/join?code={s['code'].lower()}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/join/{s['code']}"
    missing = client.get("/join/ZZZZZ")
    assert missing.status_code == 404 and "No class experiment with code" in missing.text
    assert client.get("/join").status_code == 200


# ---- the presets -----------------------------------------------------------------------------

PRESETS = {p.stem: json.loads(p.read_text()) for p in sorted((ROOT / "presets").glob("scale-*.json"))}
SWEEP_KEYS = {"model", "dataset", "widths", "depths", "train_sizes", "seeds", "label_noise", "budget_unit",
              "budget", "batch_size", "lr", "optimizer", "ridge"}


def definition(params: dict) -> dict:
    """A preset's URL parameters as the page sends them to POST /sweeps."""
    out = {}
    for k, v in params.items():
        if k not in SWEEP_KEYS:
            continue
        lists = ("widths", "depths", "train_sizes", "seeds")
        out[k] = [int(x) for x in str(v).split(",")] if k in lists else v
    return out


def test_the_three_presets_are_shipped():
    assert {"scale-more-data", "scale-bigger-model", "scale-double-descent"} <= set(PRESETS)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_is_a_valid_sweep_within_the_default_budgets(client, name):
    r = client.post("/api/v1/scale/sweeps", json=definition(PRESETS[name]["params"]))
    assert r.status_code == 201, r.text


def test_double_descent_preset_peaks_at_the_threshold(client):
    params = PRESETS["scale-double-descent"]["params"]
    s = client.post("/api/v1/scale/sweeps", json=definition(params)).json()
    client.post(f"/api/v1/scale/sweeps/{s['id']}/run")
    dd = wait_done(client, s["id"])["double_descent"]
    n = int(params["train_sizes"])
    assert dd["threshold"] == n and dd["at_threshold"]["width"] == n and dd["is_peak"]
    assert dd["peak"]["width"] == n
