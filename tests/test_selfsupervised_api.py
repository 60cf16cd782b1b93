"""The self-supervised lab's API: sessions and their compact frames, validation (τ ≤ 0 and N < 2
are 422), the probe table, the sweep as bounded background work, neighbours, views of an image,
PATCH, the stream, and the job slots."""

from __future__ import annotations

import base64
import json
import math
import threading
import time

import numpy as np
import pytest

from app.labs.selfsupervised.jobs import Job
from tests.answers import message as problems
from tests.streams import until

API = "/api/v1/selfsupervised"


def grid(g):
    """An encoded grid back as floats."""
    dtype = {"uint8": np.uint8, "uint16": np.uint16}[g["dtype"]]
    q = np.frombuffer(base64.b64decode(g["data"]), dtype=dtype).reshape(g["shape"])
    lo, hi = g["range"]
    return lo + q.astype(float) / np.iinfo(dtype).max * (hi - lo)


def f32(a):
    assert a["dtype"] == "float32"
    return np.frombuffer(base64.b64decode(a["data"]), dtype="<f4").reshape(a["shape"])


def new(client, **cfg):
    r = client.post(f"{API}/sessions", json={"batch_size": 8, **cfg})
    assert r.status_code == 201, r.text
    return r.json()


def test_create_and_step(client):
    body = new(client)
    assert body["config"]["resolved"]["h_dim"] == 16 and body["config"]["resolved"]["train_images"] == 1438
    m = body["metrics"]
    assert m["step"] == 0 and m["chance_loss"] == pytest.approx(math.log(15))
    assert abs(m["loss"] - math.log(15)) < 0.3  # untrained: every view looks alike
    r = client.post(f"{API}/sessions/{body['id']}/step",
                    json={"steps": 30, "include": ["metrics", "history"]})
    assert r.status_code == 200
    out = r.json()
    assert out["step"] == 30 and out["metrics"]["step"] == 30
    h = out["history"]
    assert f32(h["steps"])[-1] == 29 and f32(h["eval_steps"]).tolist() == [0, 25]


def test_frame_parts_are_compact_and_consistent(client):
    sid = new(client, batch_size=16)["id"]
    client.post(f"{API}/sessions/{sid}/step", json={"steps": 5})
    r = client.get(f"{API}/sessions/{sid}",
                   params={"include": ["batch", "row", "embedding", "metrics"], "row": 3})
    body = r.json()
    b = body["batch"]
    sims = grid(b["sims"])
    assert sims.shape == (32, 32) and b["views"]["shape"] == [32, 8, 8]
    np.testing.assert_allclose(sims, sims.T, atol=2 / 255)
    np.testing.assert_allclose(np.diag(sims), 1.0, atol=2 / 255)
    row = body["row"]
    probs, exact = f32(row["probs"]), f32(row["sims"])
    assert row["index"] == 3 and row["positive"] == 19
    assert probs.sum() == pytest.approx(1.0, abs=1e-5) and probs[3] == 0.0
    assert row["loss"] == pytest.approx(-math.log(probs[19]), rel=1e-5)
    # the row's softmax is softmax(cos / τ) over the other views
    logits = exact / 0.2
    logits[3] = -np.inf
    np.testing.assert_allclose(probs, np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum(),
                               rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(f32(b["row_losses"]).mean(), body["metrics"]["loss"], rtol=1e-5)
    coords = grid(body["embedding"]["coords"])
    assert coords.shape == (359, 2)
    # no list of floats anywhere: arrays travel as base64
    text = json.dumps(body)
    assert len(text) < 30_000
    assert not any(isinstance(v, list) and len(v) > 8 for part in body.values() if isinstance(part, dict)
                   for v in part.values())


@pytest.mark.parametrize(("cfg", "says"), [
    ({"tau": 0}, "tau"), ({"tau": -0.5}, "tau"), ({"tau": 1.5}, "tau"),
    ({"batch_size": 1}, "batch_size"), ({"batch_size": 0}, "batch_size"),
    ({"rotate": 90}, "rotate"), ({"crop": 0.9}, "crop"), ({"flip": -1}, "flip"),
    ({"encoder": "resnet"}, "encoder"), ({"lr": 0}, "lr"), ({"extra": 1}, "extra"),
])
def test_bad_configs_are_422(client, cfg, says):
    r = client.post(f"{API}/sessions", json=cfg)
    assert r.status_code == 422
    assert says in r.text


def test_limits_name_their_settings(client_with):
    c = client_with(max_ssl_batch=16, max_work_per_call=10_000_000, max_ssl_sweep_runs=3,
                    max_ssl_sweep_steps=50)
    r = c.post(f"{API}/sessions", json={"batch_size": 32})
    assert r.status_code == 422 and "NP_MAX_SSL_BATCH" in problems(r)
    sid = c.post(f"{API}/sessions", json={"batch_size": 16}).json()["id"]
    r = c.post(f"{API}/sessions/{sid}/step", json={"steps": 1000})
    assert r.status_code == 422 and "NP_MAX_WORK_PER_CALL" in problems(r)
    r = c.post(f"{API}/sessions/{sid}/sweep", json={"taus": [0.1, 0.2, 0.5, 1.0], "batch_sizes": []})
    assert r.status_code == 422 and "NP_MAX_SSL_SWEEP_RUNS" in problems(r)
    r = c.post(f"{API}/sessions/{sid}/sweep", json={"taus": [0.1], "batch_sizes": [], "steps": 100})
    assert r.status_code == 422 and "NP_MAX_SSL_SWEEP_STEPS" in problems(r)
    r = c.patch(f"{API}/sessions/{sid}", json={"batch_size": 32})
    assert r.status_code == 422 and "NP_MAX_SSL_BATCH" in problems(r)


def test_probe_table(client):
    sid = new(client)["id"]
    client.post(f"{API}/sessions/{sid}/step", json={"steps": 40})
    r = client.post(f"{API}/sessions/{sid}/probe",
                    json={"fractions": [0.1, 1.0], "rows": ["contrastive", "random"]})
    assert r.status_code == 200
    job = r.json()
    assert job["state"] == "done" and job["step"] == 40 and job["done"] == job["total"] == 4
    cells = {(c["row"], c["fraction"]): c for c in job["cells"]}
    assert set(cells) == {("contrastive", 0.1), ("contrastive", 1.0), ("random", 0.1), ("random", 1.0)}
    assert len(cells["random", 0.1]["accuracies"]) == 3 and cells["random", 1.0]["labelled"] == 1438
    assert all(0 < c["accuracy"] <= 1 for c in job["cells"])
    assert client.get(f"{API}/sessions/{sid}/probe").json()["probe"]["cells"] == job["cells"]
    r = client.post(f"{API}/sessions/{sid}/probe", json={"fractions": [0]})
    assert r.status_code == 422


def test_probe_without_waiting_then_polled(client):
    sid = new(client)["id"]
    r = client.post(f"{API}/sessions/{sid}/probe",
                    json={"fractions": [1.0], "rows": ["random"], "wait": False})
    assert r.status_code in (200, 202)
    deadline = time.monotonic() + 30
    while (job := client.get(f"{API}/sessions/{sid}/probe").json()["probe"])["state"] != "done":
        assert time.monotonic() < deadline and job["state"] in ("queued", "running")
        time.sleep(0.05)
    assert len(job["cells"]) == 1 and job["cells"][0]["row"] == "random"


def test_sweep_runs_in_the_background(client):
    sid = new(client)["id"]
    r = client.post(f"{API}/sessions/{sid}/sweep", json={"taus": [0.1, 0.5], "batch_sizes": [4], "steps": 4})
    assert r.status_code == 202
    assert r.json()["total"] == 3 and r.json()["taus"] == [0.1, 0.5]
    deadline = time.monotonic() + 60
    while (job := client.get(f"{API}/sessions/{sid}/sweep").json()["sweep"])["state"] != "done":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    runs = [(p["param"], p["value"]) for p in job["points"]]
    assert runs == [("tau", 0.1), ("tau", 0.5), ("batch_size", 4)]
    assert all(0 <= p["accuracy"] <= 1 for p in job["points"])
    # a sweep stops on request, keeping what it finished
    client.post(f"{API}/sessions/{sid}/sweep",
                json={"taus": [0.1, 0.2, 0.5], "batch_sizes": [], "steps": 300})
    assert client.delete(f"{API}/sessions/{sid}/sweep").status_code == 204
    deadline = time.monotonic() + 30
    while (job := client.get(f"{API}/sessions/{sid}/sweep").json()["sweep"])["state"] in ("queued",
                                                                                          "running"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert job["state"] == "cancelled" and len(job["points"]) < 3


def test_jobs_stop_with_their_session():
    class Owner:
        pass

    owner, gate = Owner(), threading.Event()

    def endless(job):
        while not job.cancelled:
            gate.wait(0.05)
            yield 1

    job = Job("sweep", 1, endless, max_jobs=5, owner=owner)
    time.sleep(0.2)
    assert job.state == "running"
    del owner  # the session was deleted or evicted: nothing holds its runner any more
    assert job.wait(10) and job.state == "cancelled"


def test_neighbours(client):
    sid = new(client)["id"]
    r = client.get(f"{API}/sessions/{sid}/neighbours", params={"index": 5, "k": 4})
    body = r.json()
    assert r.status_code == 200 and len(body["neighbours"]) == 4
    assert body["images"]["shape"] == [5, 8, 8]
    cos = [n["cosine"] for n in body["neighbours"]]
    assert cos == sorted(cos, reverse=True) and 5 not in [n["index"] for n in body["neighbours"]]
    assert client.get(f"{API}/sessions/{sid}/neighbours", params={"index": 359}).status_code == 422


def test_views_of_an_image(client):
    r = client.post(f"{API}/augment", json={"index": 10, "views": 5, "rotate": 30, "seed": 2})
    body = r.json()
    assert r.status_code == 200 and body["views"]["shape"] == [5, 8, 8] and body["label"] == 0
    assert body["augmentation"]["rotate"] == 30
    again = client.post(f"{API}/augment", json={"index": 10, "views": 5, "rotate": 30, "seed": 2}).json()
    assert again["views"] == body["views"]  # seeded
    own = client.post(f"{API}/augment", json={"image": [[0, 1, 0, 0]] * 4, "views": 2, "crop": 0, "rotate": 0,
                                               "shift": 0, "contrast": 0, "blur": 0, "noise": 0, "flip": 1})
    np.testing.assert_allclose(grid(own.json()["views"])[0], [[0, 0, 1, 0]] * 4)  # mirrored
    assert client.post(f"{API}/augment", json={"image": [[2.0] * 4] * 4}).status_code == 422
    assert client.post(f"{API}/augment", json={"image": [[0.5] * 3] * 3}).status_code == 422
    assert client.post(f"{API}/augment", json={"index": 5000}).status_code == 422


@pytest.mark.parametrize(("image", "loc", "says"), [
    ([[], [1e-233, -2e16, -1.7976931348623157e308, 5e16]], ["body", "image", 0], "at least 1 item"),
    ([[0.5] * 6, [0.5] * 6, [0.5] * 5, [0.5] * 6], ["body", "image"], "row 2 has 5"),
    ([[0.5] * 65] * 4, ["body", "image"], "at most 64 values a row, not 65"),
    ([[0.5] * 4] * 65, ["body", "image"], "at most 64 items"),
    ([[True] * 4] * 4, ["body", "image", 0, 0], "valid number"),
    ([["0.5"] * 64] * 64, ["body", "image", 0, 0], "valid number"),
])
def test_a_ragged_or_loose_image_is_a_422_naming_it(client, image, loc, says):
    r = client.post(f"{API}/augment", json={"image": image, "shift": 3})
    assert r.status_code == 422, r.text
    [item] = r.json()["detail"]  # one problem, however many bad values
    assert item["loc"] == loc and says in item["msg"]


@pytest.mark.parametrize(("path", "body", "loc"), [
    ("/sessions", {"tau": "0.2"}, ["body", "tau"]),
    ("/sessions", {"crop": True}, ["body", "crop"]),
    ("/sessions", {"shift": 1.5}, ["body", "shift"]),
    ("/sessions", {"seed": False}, ["body", "seed"]),
    ("/augment", {"views": "8"}, ["body", "views"]),
    ("/augment", {"flip": False}, ["body", "flip"]),
])
def test_numbers_are_json_numbers(client, path, body, loc):
    r = client.post(f"{API}{path}", json=body)
    assert r.status_code == 422 and [e["loc"] for e in r.json()["detail"]] == [loc], r.text


def test_a_session_refuses_loose_numbers_over_rest_and_the_stream(client):
    sid = new(client)["id"]
    assert client.post(f"{API}/sessions/{sid}/step", json={"steps": "2"}).status_code == 422
    r = client.post(f"{API}/sessions/{sid}/probe", json={"fractions": [0.1, "1"]})
    assert r.status_code == 422 and [e["loc"] for e in r.json()["detail"]] == [["body", "fractions", 1]]
    r = client.post(f"{API}/sessions/{sid}/sweep", json={"taus": [True]})
    assert r.status_code == 422 and [e["loc"] for e in r.json()["detail"]] == [["body", "taus", 0]]
    r = client.patch(f"{API}/sessions/{sid}", json={"row": "3"})
    assert r.status_code == 422 and "row" in problems(r)
    with client.websocket_connect(f"{API}/sessions/{sid}/stream") as ws:
        until(ws, "frame")
        ws.send_json({"type": "set", "params": {"tau": "0.5"}})
        assert "tau" in until(ws, "error")["message"]
        ws.send_json({"type": "set", "params": {"tau": 0.5}})
        assert until(ws, "config")["config"]["tau"] == 0.5


def test_patch_continues_or_restarts(client):
    sid = new(client)["id"]
    client.post(f"{API}/sessions/{sid}/step", json={"steps": 3})
    r = client.patch(f"{API}/sessions/{sid}", json={"tau": 0.5, "noise": 0.2, "row": 4})
    assert r.status_code == 200 and r.json()["reset"] is False and r.json()["step"] == 3
    assert r.json()["config"]["tau"] == 0.5
    r = client.patch(f"{API}/sessions/{sid}", json={"embed_dim": 8})
    assert r.json()["reset"] is True and r.json()["step"] == 0
    assert client.patch(f"{API}/sessions/{sid}", json={"tau": 0}).status_code == 422
    assert client.patch(f"{API}/sessions/{sid}", json={"batch_size": 1}).status_code == 422
    assert client.post(f"{API}/sessions/{sid}/reset").json()["step"] == 0


def test_stream(client):
    sid = new(client)["id"]
    with client.websocket_connect(f"{API}/sessions/{sid}/stream") as ws:
        config = until(ws, "config")["config"]
        assert config["heldout_key"] == "digits:0:1000:12:0.1:0.8" and "heldout" not in config
        heldout = client.get(f"{API}/sessions/{sid}", params={"include": "heldout"}).json()["heldout"]
        assert heldout["images"]["shape"] == [359, 8, 8] and heldout["classes"][3] == "3"
        frame = until(ws, "frame")
        assert {"metrics", "batch", "row", "embedding", "history", "probe", "sweep"} <= set(frame)
        assert frame["probe"] is None
        ws.send_json({"type": "step", "n": 2})
        assert until(ws, "frame")["step"] == 2
        ws.send_json({"type": "set", "params": {"tau": -1}})
        assert "tau" in until(ws, "error")["message"]
        ws.send_text("not json")
        assert until(ws, "error")["type"] == "error"
        ws.send_json({"type": "set", "params": {"row": 5}})
        assert until(ws, "frame")["row"]["index"] == 5  # the socket stayed open


def test_jobs_wait_for_a_free_slot():
    gate = threading.Event()

    def blocked(job):
        gate.wait(10)
        yield 1

    def quick(job):
        yield 2

    first = Job("probe", 1, blocked, max_jobs=1)
    second = Job("probe", 1, quick, max_jobs=1)
    time.sleep(0.3)
    assert first.state == "running" and second.state == "queued"
    gate.set()
    assert second.wait(10) and second.state == "done" and second.results == [2]
    hold = threading.Event()

    def held(job):
        hold.wait(10)
        yield 3

    third = Job("sweep", 1, held, max_jobs=1)
    third.cancel()  # asked while it computes: what it yields after is dropped
    hold.set()
    assert third.wait(10) and third.state == "cancelled" and third.results == []
