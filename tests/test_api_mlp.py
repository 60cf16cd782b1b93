"""The MLP sessions API: every endpoint, its limits and bad input."""

from __future__ import annotations

import base64

import numpy as np
import pytest

API = "/api/v1/mlp/sessions"


def _create(client, **cfg):
    r = client.post(API, json=cfg)
    assert r.status_code == 201, r.text
    return r.json()


def test_health(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_dataset_preview(client):
    r = client.get("/api/v1/datasets/spiral", params={"n": 40, "noise": 10, "seed": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["problem"] == "classification" and len(body["points"]) == 40
    assert all(p[2] in (-1, 1) for p in body["points"])
    assert r.json() == client.get("/api/v1/datasets/spiral?n=40&noise=10&seed=3").json()
    assert client.get("/api/v1/datasets/nope").status_code == 422
    assert client.get("/api/v1/datasets/circle?n=0").status_code == 422
    assert client.get("/api/v1/datasets").json()["circle"]["problem"] == "classification"


def test_create_read_step_reset_delete(client):
    s = _create(client, dataset="circle", hidden=[4, 2], seed=1)
    sid = s["id"]
    assert len(sid) >= 20
    assert s["config"]["resolved"]["sizes"] == [2, 4, 2, 1]
    assert s["config"]["resolved"]["parameters"] == 2 * 4 + 4 + 4 * 2 + 2 + 2 + 1
    assert s["step"] == 0 and len(s["weights"]) == 3

    r = client.post(f"{API}/{sid}/step", json={"epochs": 20, "include": ["metrics", "history"]})
    body = r.json()
    assert r.status_code == 200 and body["epoch"] == 20 and body["step"] == 20 * 25
    assert body["metrics"]["train_loss"] < s["metrics"]["train_loss"]
    assert body["history"]["epochs"][-1] == 20

    r = client.post(f"{API}/{sid}/step", json={"steps": 3, "include": ["trace", "optimizer", "weights"]})
    body = r.json()
    layers = body["trace"]["layers"]
    assert [np.array(layer["dL_dW"]).shape for layer in layers] == [(2, 4), (4, 2), (2, 1)]
    assert np.array(layers[0]["z"]).shape == (10, 4)
    assert body["optimizer"]["name"] == "sgd" and body["optimizer"]["t"] == 503

    r = client.get(f"{API}/{sid}", params={"include": ["metrics", "grids"], "res": 30, "neuron_res": 8})
    grids = r.json()["grids"]
    assert grids["output"]["shape"] == [30, 30] and grids["output"]["dtype"] == "uint8"
    assert len(base64.b64decode(grids["output"]["data"])) == 900
    assert [len(layer) for layer in grids["neurons"]] == [4, 2]
    assert grids["neurons"][0][0]["shape"] == [8, 8]

    r = client.post(f"{API}/{sid}/reset")
    assert r.json()["step"] == 0 and r.json()["weights"] == s["weights"]

    assert client.delete(f"{API}/{sid}").status_code == 204
    assert client.get(f"{API}/{sid}").status_code == 404


def test_output_grid_is_compact(client):
    sid = _create(client)["id"]
    r = client.get(f"{API}/{sid}", params={"include": ["grids"], "res": 100})
    out = r.json()["grids"]["output"]
    assert len(out["data"]) < 14_000  # 10 000 bytes, base64
    assert out["range"] == [-1.0, 1.0]


def test_patch_learning_rate_continues_and_architecture_resets(client):
    sid = _create(client, optimizer="momentum", optimizer_params={"momentum": 0.5})["id"]
    client.post(f"{API}/{sid}/step", json={"steps": 7})
    r = client.patch(f"{API}/{sid}", json={"lr": 0.3, "optimizer_params": {"momentum": 0.8}})
    assert r.status_code == 200 and r.json()["reset"] is False and r.json()["step"] == 7
    assert r.json()["config"]["lr"] == 0.3
    r = client.patch(f"{API}/{sid}", json={"hidden": [3, 3, 3]})
    assert r.json()["reset"] is True and r.json()["step"] == 0
    assert r.json()["config"]["resolved"]["sizes"] == [2, 3, 3, 3, 1]


@pytest.mark.parametrize(
    ("cfg", "says"),
    [
        ({"dataset": "moon"}, "circle"),
        ({"activation": "swish"}, "relu"),
        ({"optimizer": "lbfgs"}, "adam"),
        ({"lr": -0.1}, "greater than 0"),
        ({"noise": 80}, "less than or equal to 50"),
        ({"features": []}, "at least 1"),
        ({"features": ["x1", "x1"]}, "repeat"),
        ({"hidden": [0]}, "at least 1 neuron"),
        ({"loss": "softmax_ce"}, "multi-class"),
        ({"dataset": "blobs", "loss": "squared"}, "softmax_ce"),
        ({"dataset": "plane", "loss": "bce"}, "regression"),
        ({"optimizer": "sgd", "optimizer_params": {"beta1": 0.9}}, "beta1"),
        ({"points": [[0, 0, 2], [1, 1, 1]]}, "labels -1 or 1"),
        ({"colour": "red"}, "Extra inputs"),
        ({"dataset": "circle", "problem": "multiclass"}, "classification problem"),
        ({"dataset": "blobs", "problem": "classification"}, "multiclass problem"),
        ({"optimizer": "adagrad", "optimizer_params": {"lr_decay": -1}}, "lr_decay must be at least 0"),
        ({"optimizer": "adam", "optimizer_params": {"beta1": 1.5}}, "beta1 must be at least 0 and below 1"),
        ({"optimizer": "rmsprop", "optimizer_params": {"centered": 1}}, "centered is true or false"),
    ],
)
def test_bad_config_is_422_saying_what_to_change(client, cfg, says):
    r = client.post(API, json=cfg)
    assert r.status_code == 422
    assert says in r.text


def test_limits_are_settings(limited_client):
    c = limited_client
    r = c.post(API, json={"hidden": [4, 4, 4]})
    assert r.status_code == 422 and "NP_MAX_LAYERS" in r.text
    r = c.post(API, json={"hidden": [5]})
    assert r.status_code == 422 and "NP_MAX_NEURONS" in r.text
    r = c.post(API, json={"n_points": 500})
    assert r.status_code == 422 and "NP_MAX_POINTS" in r.text
    sid = c.post(API, json={"n_points": 100}).json()["id"]
    r = c.post(f"{API}/{sid}/step", json={"steps": 51})
    assert r.status_code == 422 and "NP_MAX_STEPS_PER_CALL" in r.text
    r = c.post(f"{API}/{sid}/step", json={"epochs": 10})  # 10 × 5 batches = 50: allowed
    assert r.status_code == 200 and r.json()["epoch"] == 10
    r = c.get(f"{API}/{sid}", params={"include": ["grids"], "res": 41})
    assert r.status_code == 422 and "NP_MAX_GRID" in r.text
    r = c.patch(f"{API}/{sid}", json={"hidden": [9]})
    assert r.status_code == 422 and "NP_MAX_NEURONS" in r.text
    c.post(API, json={"n_points": 100})
    r = c.post(API, json={"n_points": 100})
    assert r.status_code == 429 and "maximum of 2 sessions" in r.text


def test_unknown_session_is_404(client):
    for method, path in [("get", ""), ("post", "/step"), ("post", "/reset"), ("delete", "")]:
        r = getattr(client, method)(f"{API}/doesnotexist{path}", **({"json": {}} if method == "post" else {}))
        assert r.status_code == 404 and "create a new one" in r.text
    assert client.patch(f"{API}/doesnotexist", json={"lr": 0.1}).status_code == 404


def test_bad_step_and_patch_bodies(client):
    sid = _create(client)["id"]
    assert client.post(f"{API}/{sid}/step", json={"steps": 1, "epochs": 1}).status_code == 422
    assert client.post(f"{API}/{sid}/step", json={"steps": 0}).status_code == 422
    assert client.post(f"{API}/{sid}/step", json={"include": ["everything"]}).status_code == 422
    r = client.patch(f"{API}/{sid}", json={"lr": "fast"})
    assert r.status_code == 422 and "lr" in r.text
    r = client.patch(f"{API}/{sid}", json={"wings": 2})
    assert r.status_code == 422 and "wings" in r.text


def test_diverged_run_has_no_nan_in_json(client):
    sid = _create(client, dataset="plane", hidden=[8, 8], activation="relu", lr=10, init="he")["id"]
    r = client.post(f"{API}/{sid}/step", json={"epochs": 20, "include": ["metrics", "weights", "trace",
                                                                         "grids", "history", "optimizer"]})
    assert r.status_code == 200
    assert "NaN" not in r.text and "Infinity" not in r.text
    body = r.json()
    assert body["diverged"] is True and body["metrics"]["diverged"] is True
    assert body["metrics"]["train_loss"] is None


def test_same_seed_same_run_over_the_api(client):
    def run():
        sid = _create(client, dataset="spiral", hidden=[5], seed=9, noise=20)["id"]
        return client.post(f"{API}/{sid}/step", json={"steps": 77, "include": ["weights", "metrics"]}).json()
    a, b = run(), run()
    assert a["weights"] == b["weights"] and a["metrics"] == b["metrics"]


def test_custom_points(client):
    pts = [[0, 0, -1], [0, 1, 1], [1, 0, 1], [1, 1, -1]]
    s = _create(client, points=pts, train_percent=100, hidden=[4], lr=0.1, batch_size=4)
    r = client.post(f"{API}/{s['id']}/step", json={"epochs": 1000})
    assert r.json()["metrics"]["train_accuracy"] == 1.0
    r = client.get(f"{API}/{s['id']}", params={"include": ["data"]})
    assert sorted(r.json()["data"]["train"]) == sorted([[float(v) for v in p] for p in pts])


def test_rejected_weights_leave_the_session_as_it_was(client):
    s = _create(client, hidden=[2])
    r = client.patch(f"{API}/{s['id']}", json={"hidden": [3], "weights": [{"W": [[1]], "b": [0]}]})
    assert r.status_code == 422 and "list of 2 layers" in r.text
    now = client.get(f"{API}/{s['id']}").json()
    assert now["config"]["hidden"] == [2] and now["weights"] == s["weights"]


def test_work_budget_is_a_setting(client_with):
    client = client_with(max_work_per_call=100_000)
    sid = _create(client, hidden=[4, 2])["id"]  # one update: batch 10 × 25 parameters = 250
    r = client.post(f"{API}/{sid}/step", json={"steps": 401})
    assert r.status_code == 422 and "NP_MAX_WORK_PER_CALL" in r.text and "at most 400" in r.text
    assert client.post(f"{API}/{sid}/step", json={"steps": 400}).status_code == 200
