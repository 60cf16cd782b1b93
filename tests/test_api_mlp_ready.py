"""The MLP API for notebooks and for the lecture: clicked points join a running network, the
run's diagnosis, class probability maps, the trace's batch, full precision on request, and a
saved run's epoch and history restored."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from engine.mlp import MLP

API = "/api/v1/mlp/sessions"


def _create(client, **cfg):
    r = client.post(API, json=cfg)
    assert r.status_code == 201, r.text
    return r.json()


def test_added_points_join_the_running_network(client):
    sid = _create(client, dataset="circle", n_points=100, seed=2)["id"]
    client.post(f"{API}/{sid}/step", json={"epochs": 5})
    before = client.get(f"{API}/{sid}", params={"include": ["data", "weights", "history"]}).json()
    r = client.patch(f"{API}/{sid}", json={"added": [[1.0, 2.0, 1], [-3.0, 0.5, -1]]})
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["reset"] is False and after["epoch"] == 5 and after["weights"] == before["weights"]
    assert after["config"]["train_percent"] == 50
    assert after["config"]["added"] == [[1.0, 2.0, 1.0], [-3.0, 0.5, -1.0]]
    data = client.get(f"{API}/{sid}", params={"include": ["data"]}).json()["data"]
    assert data["train"][-2:] == [[1.0, 2.0, 1.0], [-3.0, 0.5, -1.0]]
    assert len(data["train"]) == len(before["data"]["train"]) + 2 and data["test"] == before["data"]["test"]
    stepped = client.post(f"{API}/{sid}/step", json={"epochs": 1, "include": ["history"]}).json()
    assert stepped["epoch"] == 6 and stepped["history"]["epochs"][-1] == 6


@pytest.mark.parametrize("cfg, says", [
    ({"dataset": "circle", "added": [[0, 0, 2]]}, "added points of two classes need labels -1 or 1"),
    ({"dataset": "blobs", "num_classes": 3, "added": [[0, 0, 3]]}, "labels 0 … 2"),
    ({"points": [], "problem": "classification"}, "at least 2 points"),
])
def test_added_points_are_checked(client, cfg, says):
    r = client.post(API, json=cfg)
    assert r.status_code == 422 and says in r.text, r.text


def test_your_own_drawn_points_all_train(client):
    s = _create(client, points=[], added=[[1, 1, 1], [-1, -1, -1]], problem="classification")
    data = client.get(f"{API}/{s['id']}", params={"include": ["data"]}).json()["data"]
    assert data == {"train": [[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]], "test": []}


def test_a_stuck_run_is_diagnosed_in_steps_and_frames(client):
    sid = _create(client, dataset="circle", lr=10)["id"]
    body = client.post(f"{API}/{sid}/step", json={"epochs": 30, "include": ["diagnosis"]}).json()
    d = body["diagnosis"]
    assert d["state"] == "warning" and d["stalled"] and d["saturated_outputs"] > 0.9
    assert any("learning rate 10" in m for m in d["messages"])
    assert len(d["grad_norms"]) == 3 and d["units"] == [4, 2]
    with client.websocket_connect(f"{API}/{sid}/stream") as ws:
        msgs = [ws.receive_json() for _ in range(3)]
    frame = next(m for m in msgs if m["type"] == "frame")
    assert frame["diagnosis"]["state"] == "warning"
    healthy = _create(client, dataset="circle")["id"]
    d = client.post(f"{API}/{healthy}/step", json={"epochs": 30, "include": ["diagnosis"]}).json()
    d = d["diagnosis"]
    assert d["state"] == "ok" and d["messages"] == []


def test_multiclass_grids_carry_one_probability_map_per_class(client):
    sid = _create(client, dataset="blobs", num_classes=4)["id"]
    client.post(f"{API}/{sid}/step", json={"epochs": 3})
    g = client.get(f"{API}/{sid}", params={"include": ["grids"], "res": 20, "neuron_res": 10}).json()["grids"]
    probs = g["probabilities"]
    assert len(probs) == 4 and all(p["shape"] == [10, 10] and p["range"] == [0.0, 1.0] for p in probs)
    q = np.array([np.frombuffer(base64.b64decode(p["data"]), np.uint8) for p in probs], float) / 255
    assert np.allclose(q.sum(axis=0), 1.0, atol=4 / 255)


def test_a_trace_can_be_recomputed_outside_in_full_precision(client):
    """The batch's rows and targets come with the trace; with precision=full the weights and
    the data are the engine's float64 numbers, so a notebook recomputes ∂L/∂W to 1e-12."""
    sid = _create(client, dataset="xor", n_points=60, batch_size=7, seed=1)["id"]
    client.post(f"{API}/{sid}/step", json={"steps": 3})
    full = {"include": ["weights", "data"], "precision": "full"}
    before = client.get(f"{API}/{sid}", params=full).json()
    body = client.post(f"{API}/{sid}/step", json={"steps": 1, "include": ["trace"],
                                                   "precision": "full"}).json()
    tr = body["trace"]
    rows, targets = tr["rows"], np.array(tr["targets"])
    assert len(rows) == 7 and targets.shape == (7, 1)
    train = np.array(before["data"]["train"])
    assert np.array_equal(np.array(tr["inputs"]), train[rows, :2])  # features x1, x2
    assert np.array_equal(targets[:, 0], train[rows, 2])
    net = MLP([2, 4, 2, 1], "tanh", "tanh")
    for layer, w in enumerate(before["weights"]):
        net.W[layer][...], net.b[layer][...] = np.array(w["W"]), np.array(w["b"])
    again = net.loss_and_grads(train[rows, :2], targets, "squared")
    for mine, theirs in zip(again.dW, tr["layers"], strict=True):
        np.testing.assert_allclose(mine, np.array(theirs["dL_dW"]), rtol=1e-12, atol=1e-15)


def test_display_precision_rounds_and_says_so(client):
    sid = _create(client, dataset="circle")["id"]
    client.post(f"{API}/{sid}/step", json={"epochs": 3})
    shown = client.get(f"{API}/{sid}", params={"include": ["weights", "data"]}).json()
    full = client.get(f"{API}/{sid}", params={"include": ["weights", "data"], "precision": "full"}).json()
    w_shown, w_full = np.array(shown["weights"][0]["W"]), np.array(full["weights"][0]["W"])
    assert np.array_equal(w_shown, np.round(w_full, 6)) and not np.array_equal(w_shown, w_full)
    p_shown, p_full = np.array(shown["data"]["train"]), np.array(full["data"]["train"])
    assert np.array_equal(p_shown, np.round(p_full, 4)) and not np.array_equal(p_shown, p_full)
    assert client.get(f"{API}/{sid}", params={"precision": "exact"}).status_code == 422
    schema = client.get("/openapi.json").json()
    text = str(schema)
    assert "6 decimals" in text and "4 decimals" in text and "full" in text


def test_an_imported_run_keeps_its_epoch_and_history(client):
    a = _create(client, dataset="circle", seed=3)["id"]
    done = client.post(f"{API}/{a}/step", json={"epochs": 12, "include": ["weights", "history"],
                                                 "precision": "full"}).json()
    b = _create(client, dataset="circle", seed=3)["id"]
    progress = {"step": done["step"], "epoch": done["epoch"], "history": done["history"]}
    r = client.patch(f"{API}/{b}", json={"weights": done["weights"], "progress": progress})
    assert r.status_code == 200, r.text
    got = client.get(f"{API}/{b}", params={"include": ["history", "metrics"]}).json()
    assert got["epoch"] == 12 and got["step"] == done["step"]
    assert got["history"]["epochs"] == done["history"]["epochs"]
    assert got["history"]["train_loss"] == pytest.approx(done["history"]["train_loss"], abs=1e-6)
    bad = client.patch(f"{API}/{b}", json={"progress": {"step": 5, "epoch": 1, "history": {"epochs": [0, 3],
                                                        "train_loss": [1, 1], "test_loss": [1, 1]}}})
    assert bad.status_code == 422 and "history" in bad.text
