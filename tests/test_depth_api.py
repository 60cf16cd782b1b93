"""The depth lab over HTTP and WebSocket: sessions holding several networks in lockstep, the
per-layer numbers and compact histograms, limits that name their setting, divergence as a
state, the signal-propagation study, the activations endpoint and the page."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest

from tests.answers import message as problems
from tests.streams import until

API = "/api/v1/depth"
SMALL = {"dataset": "spiral", "n_points": 200, "depth": 4, "width": 8}


def decode(grid):
    q = np.frombuffer(base64.b64decode(grid["data"]), dtype=np.uint8 if grid["dtype"] == "uint8" else "<u2")
    return q.reshape(grid["shape"])


def no_nan(text: str) -> None:
    assert "NaN" not in text and "Infinity" not in text


# ---- sessions --------------------------------------------------------------------------------

def test_default_session_is_plain_vs_residual_at_depth_30_with_sigmoids(client):
    r = client.post(f"{API}/sessions", json={})
    assert r.status_code == 201, r.text
    body = r.json()
    c = body["config"]
    assert c["depth"] == 30 and c["width"] == 16 and c["dataset"] == "digits"
    assert [n["residual"] for n in c["networks"]] == [False, True]
    assert c["resolved"]["labels"] == ["plain · sigmoid · xavier", "residual · sigmoid · xavier"]
    assert c["resolved"]["parameters"][0] == c["resolved"]["parameters"][1] == 64 * 16 + 16 + 29 * 272 + 170
    plain, res = (n["layers"]["grad_norms"] for n in body["networks"])
    assert len(plain) == len(res) == 31
    ratio = res[0] / plain[0]
    assert ratio > 1e12, f"first-layer ‖∂L/∂W‖ residual / plain at initialization: {ratio:.3g}"
    assert all(n["metrics"]["verdict"] == "guessing" for n in body["networks"])


def test_step_carries_layers_histograms_and_history(client):
    sid = client.post(f"{API}/sessions", json=SMALL).json()["id"]
    r = client.post(f"{API}/sessions/{sid}/step",
                    json={"steps": 20, "include": ["metrics", "layers", "histograms", "history"]})
    assert r.status_code == 200, r.text
    no_nan(r.text)
    body = r.json()
    assert body["step"] == 20
    for net in body["networks"]:
        layers = net["layers"]
        assert layers["dense"] == ["dense1", *(f"dense{i}" if not net["label"].startswith("residual")
                                              else f"block{i}.dense{i}" for i in range(2, 5)), "output"]
        assert len(layers["grad_norms"]) == len(layers["update_ratios"]) == 5
        assert len(layers["quantiles"]) == 4 and len(layers["quantiles"][0]) == 5
        assert layers["dead"] is None  # sigmoid networks have no dead units
        h = net["histograms"]
        assert h["range"] == [0.0, 1.0] and h["grid"]["shape"] == [4, h["bins"]]
        q = decode(h["grid"])
        assert (q.max(axis=1) == 255).all()  # each layer's largest bin at full scale
        assert h["values_per_layer"] == 32 * 8
    hist = body["history"]
    assert hist["steps"][0] == 0 and len(hist["train_loss"]) == 2
    assert all(len(v) == len(hist["steps"]) for v in hist["train_loss"])


def test_relu_networks_report_dead_units(client):
    relu = {**SMALL, "networks": [{"activation": "relu", "init": "he"}]}
    body = client.post(f"{API}/sessions", json=relu).json()
    dead = body["networks"][0]["layers"]["dead"]
    assert len(dead) == 4 and all(0 <= d <= 1 for d in dead)


def test_a_frame_is_compact(client):
    """Per-layer numbers and quantized histograms: a frame of three 50-layer networks stays small."""
    nets = [{"activation": "relu", "init": "he"}, {"activation": "relu", "init": "he", "residual": True},
            {"activation": "relu", "init": "he", "residual": True, "batchnorm": True}]
    sid = client.post(f"{API}/sessions", json={"depth": 50, "width": 64, "networks": nets}).json()["id"]
    with client.websocket_connect(f"{API}/sessions/{sid}/stream") as ws:
        frame = until(ws, "frame")
    size = len(json.dumps(frame, separators=(",", ":")))
    assert size < 24_000, f"a frame of three 50-layer networks is {size} bytes"
    assert len(frame["networks"][0]["layers"]["grad_norms"]) == 51


def test_lr_continues_depth_restarts_and_weights_import(client):
    sid = client.post(f"{API}/sessions", json=SMALL).json()["id"]
    client.post(f"{API}/sessions/{sid}/step", json={"steps": 15})
    r = client.patch(f"{API}/sessions/{sid}", json={"lr": 0.03})
    assert r.status_code == 200 and r.json()["reset"] is False and r.json()["step"] == 15
    saved = client.get(f"{API}/sessions/{sid}?include=weights&include=metrics").json()
    weights = [n["weights"] for n in saved["networks"]]
    r = client.patch(f"{API}/sessions/{sid}", json={"depth": 5})
    assert r.json()["reset"] is True and r.json()["step"] == 0

    other = client.post(f"{API}/sessions", json={**SMALL, "lr": 0.03}).json()["id"]
    r = client.patch(f"{API}/sessions/{other}", json={"weights": weights})
    assert r.status_code == 200, r.text
    again = client.get(f"{API}/sessions/{other}?include=weights").json()
    assert [n["weights"] for n in again["networks"]] == weights
    r = client.patch(f"{API}/sessions/{other}", json={"weights": weights[:1]})
    assert r.status_code == 422 and "one list of parameter arrays per network" in problems(r)
    r = client.patch(f"{API}/sessions/{other}", json={"weights": [weights[0][:-1], weights[1]]})
    assert r.status_code == 422 and "weights" in problems(r)


def test_a_diverging_network_is_a_state_in_json(client):
    nets = [{"activation": "relu", "init": "tf_uniform"}, {"activation": "relu", "init": "he"}]
    sid = client.post(f"{API}/sessions", json={"depth": 20, "width": 32, "networks": nets}).json()["id"]
    r = client.post(f"{API}/sessions/{sid}/step",
                    json={"steps": 20, "include": ["metrics", "layers", "histograms", "history"]})
    assert r.status_code == 200
    no_nan(r.text)
    exploded, ok = r.json()["networks"]
    assert exploded["diverged"] and exploded["metrics"]["verdict"] == "diverged"
    assert exploded["metrics"]["diverged_at"] <= 10 and exploded["metrics"]["train_loss"] is not None
    assert not ok["diverged"] and r.json()["done"] is False
    assert r.json()["history"]["train_loss"][0][-1] is None


@pytest.mark.parametrize(("body", "words"), [
    ({"depth": 51}, "NP_MAX_DEPTH"),
    ({"width": 65}, "NP_MAX_WIDTH"),
    ({"dataset": "circle", "n_points": 6000}, "NP_MAX_POINTS"),
])
def test_limits_name_their_setting(client, body, words):
    r = client.post(f"{API}/sessions", json=body)
    assert r.status_code == 422 and words in problems(r)


@pytest.mark.parametrize("body", [
    {"networks": []},
    {"networks": [{}, {}, {}, {}]},
    {"networks": [{"activation": "swish"}]},
    {"networks": [{"init": "he", "dropout": 0.5}]},
    {"depth": 1},
    {"dataset": "plane"},
    {"optimizer": "momentum", "optimizer_params": {"momentum": 1.5}},
    {"lr": float("nan")},
    {"colour": "red"},
])
def test_bad_configs_are_422(client, body):
    r = client.post(f"{API}/sessions", content=json.dumps(body, allow_nan=True),
                    headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(("path", "body", "loc"), [
    ("/sessions", {"depth": "30"}, ["body", "depth"]),
    ("/sessions", {"lr": True}, ["body", "lr"]),
    ("/sessions", {"networks": [{"residual": "true"}]}, ["body", "networks", 0, "residual"]),
    ("/sessions", {"networks": [{"batchnorm": 1}]}, ["body", "networks", 0, "batchnorm"]),
    ("/sessions", {"optimizer": "sgd", "optimizer_params": {"momentum": "0.9"}},
     ["body", "optimizer_params"]),
    ("/propagation", {"batchnorm": 0}, ["body", "batchnorm"]),
    ("/propagation", {"width": 64.0}, ["body", "width"]),
    ("/propagation", {"inits": ["glorot"] * 6}, ["body", "inits", 0]),
])
def test_numbers_and_booleans_are_json_numbers_and_booleans(client, path, body, loc):
    r = client.post(f"{API}{path}", json=body)
    assert r.status_code == 422, r.text
    assert all(e["loc"][:len(loc)] == loc for e in r.json()["detail"]), r.text


def test_a_loose_change_is_refused_over_rest_and_the_stream(client):
    sid = client.post(f"{API}/sessions", json=SMALL).json()["id"]
    r = client.patch(f"{API}/sessions/{sid}", json={"batch_size": "16"})
    assert r.status_code == 422 and "batch_size" in problems(r)
    assert client.post(f"{API}/sessions/{sid}/step", json={"steps": True}).status_code == 422
    with client.websocket_connect(f"{API}/sessions/{sid}/stream") as ws:
        until(ws, "frame")
        ws.send_json({"type": "set", "params": {"lr": "0.05"}})
        assert "lr" in until(ws, "error")["message"]
        ws.send_json({"type": "set", "params": {"lr": 0.05}})
        assert until(ws, "config")["config"]["lr"] == 0.05


def test_work_budget_per_call(client_with):
    c = client_with(max_work_per_call=5_000_000)
    sid = c.post(f"{API}/sessions", json={}).json()["id"]
    r = c.post(f"{API}/sessions/{sid}/step", json={"steps": 100})
    assert r.status_code == 422 and "NP_MAX_WORK_PER_CALL" in problems(r)
    assert c.post(f"{API}/sessions/{sid}/step", json={"steps": 1}).status_code == 200
    r = c.post(f"{API}/sessions/{sid}/step", json={"steps": 1, "epochs": 1})
    assert r.status_code == 422


def test_tighter_server_limits(client_with):
    c = client_with(max_depth=10, max_width=8)
    r = c.post(f"{API}/sessions", json={"depth": 11, "width": 9})
    detail = problems(r)
    assert r.status_code == 422 and "at most 10 hidden layers" in detail and "at most 8 units" in detail


# ---- the stream ------------------------------------------------------------------------------

def test_stream_steps_networks_together_and_survives_bad_messages(client):
    sid = client.post(f"{API}/sessions", json=SMALL).json()["id"]
    with client.websocket_connect(f"{API}/sessions/{sid}/stream") as ws:
        config = until(ws, "config")
        assert len(config["config"]["networks"]) == 2
        frame = until(ws, "frame")
        assert frame["step"] == 0 and "histograms" in frame["networks"][0]
        ws.send_json({"type": "step", "n": 3})
        frame = until(ws, "frame")
        assert frame["step"] == 3 and frame["history"]["steps"][0] == 0
        ws.send_text("{not json")
        assert "bad command" in until(ws, "error")["message"]
        ws.send_json({"type": "set", "params": {"depth": 500}})
        assert "NP_MAX_DEPTH" in until(ws, "error")["message"]
        ws.send_json({"type": "set", "params": {"networks": [{"activation": "tanh", "residual": True}]}})
        msg = until(ws, "config")
        assert msg["reset"] is True and msg["config"]["resolved"]["labels"] == ["residual · tanh · xavier"]
        frame = until(ws, "frame")
        assert frame["step"] == 0 and len(frame["networks"]) == 1
        ws.send_json({"type": "play"})
        assert until(ws, "status")["playing"] is True
        steps = [until(ws, "frame")["step"] for _ in range(3)]
        assert steps == sorted(steps) and steps[-1] > 0
        ws.send_json({"type": "pause"})


# ---- signal propagation ----------------------------------------------------------------------

def test_propagation_by_initializer(client):
    r = client.post(f"{API}/propagation", json={"activation": "linear", "depth": 10, "width": 128, "n": 128})
    assert r.status_code == 200, r.text
    body = r.json()
    runs = {p["init"]: p for p in body["inits"]}
    assert list(runs) == ["zeros", "small_uniform", "tf_uniform", "xavier", "he", "orthogonal"]
    assert body["layers"] == list(range(1, 11))
    small = runs["small_uniform"]
    assert small["factor"] == pytest.approx(128 * 0.01**2 / 3, rel=0.05)
    assert math.log10(small["activation_rate"]) == pytest.approx(math.log10(small["factor"]), abs=0.05)
    assert runs["xavier"]["activation_rate"] == pytest.approx(1.0, abs=0.03)
    assert runs["he"]["activation_rate"] == pytest.approx(2.0, abs=0.1)  # linear: He doubles
    assert runs["zeros"]["activation_rate"] is None and runs["zeros"]["activation_var"][0] == 0


@pytest.mark.parametrize(("body", "words"), [
    ({"width": 513}, "NP_MAX_PROPAGATION_WIDTH"),
    ({"depth": 51}, "NP_MAX_DEPTH"),
    ({"n": 6000}, "NP_MAX_POINTS"),
    ({"width": 512, "n": 5000, "depth": 50}, "NP_MAX_WORK_PER_CALL"),
])
def test_propagation_limits(client, body, words):
    r = client.post(f"{API}/propagation", json=body)
    assert r.status_code == 422 and words in problems(r)


def test_propagation_rejects_unknown_initializers(client):
    assert client.post(f"{API}/propagation", json={"inits": ["glorot"]}).status_code == 422


# ---- activations -----------------------------------------------------------------------------

def test_activations_sample_f_and_its_derivative_with_the_lecture_notes(client):
    r = client.get("/api/v1/activations")
    assert r.status_code == 200
    body = r.json()
    assert len(body["z"]) == 241 and body["z"][0] == -6.0
    names = [a["name"] for a in body["activations"]]
    assert names == ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "sine"]
    for a in body["activations"]:
        assert a["formula"] and a["pros"] and a["cons"], a["name"]
        assert len(a["f"]) == len(a["df"]) == 241
    sig = next(a for a in body["activations"] if a["name"] == "sigmoid")
    assert sig["peak"] == {"value": 0.25, "z": 0.0, "plateau": None}
    assert sig["df"][120] == 0.25 and sig["f"][120] == 0.5
    relu = client.get("/api/v1/activations?names=relu&lo=-1&hi=1&n=5").json()["activations"][0]
    assert relu["f"] == [0.0, 0.0, 0.0, 0.5, 1.0] and relu["peak"]["plateau"][1] == 1.0


@pytest.mark.parametrize(("query", "words"), [
    ("names=swish", "unknown activation"),
    ("lo=2&hi=1", "lo must be below hi"),
    ("n=6000", "NP_MAX_POINTS"),
])
def test_activations_bad_queries(client, query, words):
    r = client.get(f"/api/v1/activations?{query}")
    assert r.status_code == 422 and words in problems(r)


def test_activations_refuse_non_finite_bounds(client):
    assert client.get("/api/v1/activations?lo=nan").status_code == 422


# ---- the page and the gallery ----------------------------------------------------------------

def test_page_marks_its_controls_and_main_picture(client):
    r = client.get("/labs/depth")
    assert r.status_code == 200
    for name in ("views", "transport", "networks", "settings", "explanation", "distributions", "updates"):
        assert f'data-control="{name}"' in r.text
    # each view is a part with its own picture; the hidden parts are hidden
    assert r.text.count("data-main-picture") == 3 and r.text.count("data-part") == 3
    assert 'id="view-train" class="view" role="tabpanel" aria-labelledby="tab-train" data-part >' in r.text
    assert 'id="depth-main" data-main-picture' in r.text
    # another view: its controls are the page's, the others' wait in data-view-control
    r = client.get("/labs/depth?view=propagation&hide=prop_inits,settings")
    assert 'id="prop-canvas" data-main-picture' in r.text
    assert 'aria-labelledby="tab-train" data-part hidden' in r.text
    assert 'data-control="prop_inits" hidden' in r.text
    assert 'data-view-control="settings" hidden' in r.text and 'data-control="settings"' not in r.text


def test_gallery_lists_the_depth_lab(client):
    html = client.get("/").text
    assert 'id="lab-depth"' in html and "/static/img/depth.svg" in html
    assert 'class="later"' not in html  # the last topic waiting for its lab was this one
    assert client.get("/static/img/depth.svg").status_code == 200
