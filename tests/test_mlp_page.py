"""The MLP playground page on the server side: what it renders, its optimizer partial, its
presets (each run through the API to check it shows what its description promises), and
importing weights into a session."""

from __future__ import annotations

import json
import re

import pytest

from app.templating import ROOT
from engine import activations, datasets, features, optimizers

API = "/api/v1/mlp/sessions"
PAGE_KEYS = {"speed", "show_test", "discretize"}
PRESETS = ["xor-2-2-1-mlp", "spiral-needs-depth", "sigmoid-vs-relu", "lr-too-large"]


def _lab_params(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="lab-params">(.*?)</script>', html, re.S)
    assert match, "the page carries its parameters for the lab's module"
    return json.loads(match.group(1))


def _preset_config(name: str) -> dict:
    params = json.loads((ROOT / "presets" / f"{name}.json").read_text())["params"]
    return {k: v for k, v in params.items() if k not in PAGE_KEYS}


def _run(client, cfg: dict, epochs: int) -> dict:
    r = client.post(API, json=cfg)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = client.post(f"{API}/{sid}/step", json={"epochs": epochs})
    assert r.status_code == 200, r.text
    return r.json()["metrics"]


# ---- the page ------------------------------------------------------------------------------

def test_page_renders_every_control_from_the_registries(client):
    r = client.get("/labs/mlp")
    assert r.status_code == 200
    html = r.text
    assert '<script type="module" src="/static/js/mlp/main.js"></script>' in html
    assert '<link rel="stylesheet" href="/static/css/mlp.css">' in html
    for name in ["transport", "epoch", "speed", "lr", "activation", "regularization", "reg_rate",
                 "problem", "loss", "optimizer", "dataset", "num_classes", "train_percent", "noise",
                 "batch_size", "regenerate", "optimizer_params", "hidden", "network", "show_test",
                 "discretize", "points"]:
        assert f'data-control="{name}"' in html, name
    for name in activations.ACTIVATIONS:
        assert f'<option value="{name}">' in html
    for name in optimizers.OPTIMIZERS:
        assert f'<option value="{name}"' in html
    for name in datasets.DATASETS:
        assert f'value="{name}" data-param="dataset"' in html
    # The TF Playground's learning rates, 0.00001 … 10.
    assert '<option value="1e-05">1e-05</option>' in html and '<option value="10">10</option>' in html
    choices = json.loads(re.search(r'id="mlp-choices">(.*?)</script>', html, re.S).group(1))
    assert [f["name"] for f in choices["features"]] == list(features.FEATURES)
    assert choices["limits"]["max_layers"] == 8


def test_page_passes_the_query_and_hides_controls(client):
    html = client.get("/labs/mlp?dataset=xor&hidden=3,3&lr=0.1&hide=lr,regularization").text
    assert _lab_params(html) == {"dataset": "xor", "hidden": "3,3", "lr": "0.1"}
    assert re.search(r'<label class="field" data-control="lr" hidden data-label="Learning rate η">', html)
    assert re.search(r'data-control="regularization" hidden', html)
    assert not re.search(r'data-control="activation" hidden', html)


def test_page_renders_the_links_optimizer_settings(client):
    html = client.get('/labs/mlp?optimizer=adam&optimizer_params={"beta1":0.8}').text
    assert '<option value="adam" selected>Adam</option>' in html
    assert re.search(r'data-hyper="beta1" data-default="0.9" value="0.8"', html)
    assert re.search(r'data-hyper="amsgrad" data-default="false">', html)
    # An unknown optimizer renders SGD's fields; the page then shows the API's 422.
    assert 'data-hyper="beta1"' not in client.get("/labs/mlp?optimizer=nope").text


def test_preset_fills_the_params_and_the_query_overrides_it(client):
    params = _lab_params(client.get("/labs/mlp?preset=spiral-needs-depth&lr=0.01").text)
    assert params["dataset"] == "spiral" and params["hidden"] == [8, 8, 8, 8]
    assert params["lr"] == "0.01"
    assert client.get("/labs/mlp?preset=nope").status_code == 404


def test_optimizer_partial_is_the_htmx_swap(client):
    r = client.get("/labs/mlp/partials/optimizer", params={"optimizer": "rmsprop"})
    assert r.status_code == 200
    names = re.findall(r'data-hyper="(\w+)"', r.text)
    assert names == [k for k in optimizers.OPTIMIZERS["rmsprop"].defaults if k != "lr"]
    assert "<html" not in r.text  # a fragment, not a page
    bad = client.get("/labs/mlp/partials/optimizer", params={"optimizer": "lbfgs"})
    assert bad.status_code == 422 and "adam" in bad.text


# ---- presets: each shows what it promises -----------------------------------------------

@pytest.mark.parametrize("name", PRESETS)
def test_preset_is_a_valid_run_and_its_page_opens(client, name):
    r = client.post(API, json=_preset_config(name))
    assert r.status_code == 201, r.text
    assert client.get(f"/labs/mlp?preset={name}").status_code == 200


def test_xor_2_2_1_reaches_full_accuracy(client):
    cfg = _preset_config("xor-2-2-1-mlp")
    assert cfg["hidden"] == [2] and cfg["activation"] == "tanh" and cfg["features"] == ["x1", "x2"]
    m = _run(client, cfg, 60)
    assert m["train_accuracy"] == 1.0 and m["test_accuracy"] == 1.0


def test_spiral_needs_depth(client):
    deep = _run(client, _preset_config("spiral-needs-depth"), 300)
    shallow = _run(client, {**_preset_config("spiral-needs-depth"), "hidden": [8]}, 300)
    assert deep["test_accuracy"] >= 0.95
    assert shallow["test_accuracy"] < 0.8


def test_sigmoid_stalls_where_relu_learns(client):
    cfg = _preset_config("sigmoid-vs-relu")
    sigmoid = _run(client, cfg, 100)
    relu = _run(client, {**cfg, "activation": "relu"}, 100)
    assert sigmoid["train_loss"] > 0.45 and sigmoid["test_accuracy"] < 0.6
    assert relu["test_accuracy"] >= 0.95


def test_lr_too_large_diverges_and_a_small_lr_does_not(client):
    cfg = _preset_config("lr-too-large")
    m = _run(client, cfg, 20)
    assert m["diverged"] is True and m["train_loss"] is None  # no NaN in JSON
    ok = _run(client, {**cfg, "lr": 0.01}, 20)
    assert ok["diverged"] is False and ok["train_loss"] < 0.05


# ---- importing weights -------------------------------------------------------------------

def test_patch_weights_copies_a_run(client):
    a = client.post(API, json={"hidden": [3], "seed": 1}).json()
    client.post(f"{API}/{a['id']}/step", json={"epochs": 5})
    trained = client.get(f"{API}/{a['id']}").json()
    b = client.post(API, json={"hidden": [3], "seed": 2}).json()
    assert b["weights"] != trained["weights"]
    r = client.patch(f"{API}/{b['id']}", json={"weights": trained["weights"]})
    assert r.status_code == 200, r.text
    assert r.json()["weights"] == trained["weights"]
    assert r.json()["reset"] is False
    # The same weights on the same data give the same loss (seed 1's data for both).
    same = client.patch(f"{API}/{b['id']}", json={"seed": 1, "weights": trained["weights"]}).json()
    assert same["reset"] is True
    assert same["metrics"]["train_loss"] == pytest.approx(trained["metrics"]["train_loss"])
    # Training goes on from the imported weights.
    stepped = client.post(f"{API}/{b['id']}/step", json={"steps": 1, "include": ["weights"]})
    assert stepped.status_code == 200 and stepped.json()["weights"] != trained["weights"]


def test_patch_weights_of_the_wrong_shape_is_a_422(client):
    s = client.post(API, json={"hidden": [3]}).json()
    w = s["weights"]
    r = client.patch(f"{API}/{s['id']}", json={"weights": w[:1]})
    assert r.status_code == 422 and "list of 2 layers" in r.text
    bad = [{"W": [[1.0, 2.0]], "b": [0.0, 0.0, 0.0]}, w[1]]
    r = client.patch(f"{API}/{s['id']}", json={"weights": bad})
    assert r.status_code == 422 and "weights.0: W must have shape [2, 3]" in r.text
    r = client.patch(f"{API}/{s['id']}", json={"weights": [{"W": "x", "b": []}, w[1]]})
    assert r.status_code == 422
    assert client.get(f"{API}/{s['id']}").json()["weights"] == w  # unchanged


def test_stream_set_weights(client):
    s = client.post(API, json={"hidden": [2]}).json()
    new = [{"W": [[0.5, -0.5], [0.25, 0.0]], "b": [0.1, -0.1]}, {"W": [[1.0], [-1.0]], "b": [0.0]}]
    with client.websocket_connect(f"{API}/{s['id']}/stream") as ws:
        kinds = [ws.receive_json()["type"] for _ in range(3)]
        assert kinds == ["config", "status", "frame"]
        ws.send_json({"type": "set", "params": {"weights": new}})
        msgs = [ws.receive_json() for _ in range(3)]
        frame = next(m for m in msgs if m["type"] == "frame")
        assert frame["weights"] == new
        ws.send_json({"type": "set", "params": {"weights": [{"W": [[1]], "b": [0]}]}})
        error = ws.receive_json()
        assert error["type"] == "error" and "list of 2 layers" in error["message"]
