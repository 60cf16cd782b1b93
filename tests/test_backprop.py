"""Backprop lab: the worked example by hand, gradient checks for every option, the API."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import backprop, gradcheck, graph

X = np.array([2.0, 3.0])
T = np.array([1.0])
W0 = [0.11, 0.21, 0.12, 0.08, 0.14, 0.15]


def classic() -> backprop.Network:
    return backprop.Network.from_flat((2, 2, 1), W0)


# ------------------------------------------------------------------ worked example by hand
# h1 = 2·0.11 + 3·0.21 = 0.22 + 0.63 = 0.85;  h2 = 2·0.12 + 3·0.08 = 0.24 + 0.24 = 0.48
# out = 0.85·0.14 + 0.48·0.15 = 0.119 + 0.072 = 0.191
# Δ = out − t = 0.191 − 1 = −0.809;  E = ½·0.809² = ½·0.654481 = 0.3272405
# ∂E/∂w5 = Δ·h1 = −0.809·0.85 = −0.68765;   ∂E/∂w6 = Δ·h2 = −0.809·0.48 = −0.38832
# ∂E/∂w1 = Δ·w5·i1 = −0.809·0.14·2 = −0.22652;  ∂E/∂w2 = Δ·w5·i2 = −0.809·0.14·3 = −0.33978
# ∂E/∂w3 = Δ·w6·i1 = −0.809·0.15·2 = −0.2427;   ∂E/∂w4 = Δ·w6·i2 = −0.809·0.15·3 = −0.36405
# new w = w − 0.05·grad:
# w1 = 0.11 + 0.011326 = 0.121326   w2 = 0.21 + 0.016989 = 0.226989
# w3 = 0.12 + 0.012135 = 0.132135   w4 = 0.08 + 0.0182025 = 0.0982025
# w5 = 0.14 + 0.0343825 = 0.1743825 w6 = 0.15 + 0.019416 = 0.169416
# Next forward: h1 = 2·0.121326 + 3·0.226989 = 0.242652 + 0.680967 = 0.923619
#               h2 = 2·0.132135 + 3·0.0982025 = 0.26427 + 0.2946075 = 0.5588775
#               out = 0.923619·0.1743825 + 0.5588775·0.169416 = 0.16106307... + 0.09468153... = 0.2557446...
HAND_GRADS = [-0.22652, -0.33978, -0.2427, -0.36405, -0.68765, -0.38832]
HAND_NEW = [0.121326, 0.226989, 0.132135, 0.0982025, 0.1743825, 0.169416]


def test_worked_example_matches_the_hand_calculation():
    tr = backprop.trace(classic(), X, T, "squared", 0.05)
    z = {n.name: n.z for n in tr.forward}
    assert z["h1"] == pytest.approx(0.85, abs=1e-12)
    assert z["h2"] == pytest.approx(0.48, abs=1e-12)
    assert z["o"] == pytest.approx(0.191, abs=1e-12)
    assert tr.outputs[0].delta == pytest.approx(-0.809, abs=1e-12)
    assert pytest.approx(0.3272405, abs=1e-12) == tr.E
    grads = {p.name: p.grad for p in tr.params}
    assert_allclose([grads[f"w{k}"] for k in range(1, 7)], HAND_GRADS, rtol=0, atol=1e-12)
    assert_allclose([p.new for p in tr.params], HAND_NEW, rtol=0, atol=1e-12)
    assert_allclose(tr.next_net.flat_weights(), HAND_NEW, rtol=0, atol=1e-12)
    out2 = 0.923619 * 0.1743825 + 0.5588775 * 0.169416
    assert tr.E_after == pytest.approx(0.5 * (out2 - 1) ** 2, abs=1e-12)


def test_worked_example_chain_rule_products_are_written_out():
    tr = backprop.trace(classic(), X, T, "squared", 0.05)
    p = {q.name: q for q in tr.params}
    w1 = p["w1"].paths
    assert [[f.symbol for f in path] for path in w1] == [["Δ", "w5", "i1"]]
    assert [f.value for f in w1[0]] == pytest.approx([-0.809, 0.14, 2.0], abs=1e-12)
    assert [[f.symbol for f in path] for path in p["w6"].paths] == [["Δ", "h2"]]
    for q in tr.params:  # each written product equals the gradient
        assert sum(np.prod([f.value for f in path]) for path in q.paths) == pytest.approx(q.grad, abs=1e-12)
    h1 = tr.hidden[0]
    assert h1.name == "h1" and h1.act_der is None and h1.delta == pytest.approx(-0.809 * 0.14, abs=1e-12)


def test_weights_are_named_as_on_the_slide():
    nm = backprop.names((2, 2, 1))
    assert nm.weights[0][0, 0] == "w1" and nm.weights[0][1, 0] == "w2"  # i1→h1, i2→h1
    assert nm.weights[0][0, 1] == "w3" and nm.weights[0][1, 1] == "w4"  # i1→h2, i2→h2
    assert list(nm.weights[1][:, 0]) == ["w5", "w6"]
    assert nm.neurons == [["h1", "h2"], ["o"]]


def test_loss_falls_with_repeats_and_blows_up_with_a_large_rate():
    losses, _, diverged = backprop.train(classic(), X, T, "squared", 0.05, 30)
    assert not diverged and all(b < a for a, b in itertools.pairwise(losses))
    losses, _, diverged = backprop.train(classic(), X, T, "squared", 5.0, 200)
    assert diverged or losses[-1] > 1e6


CONFIGS = [
    dict(sizes=sizes, activation=act, output_activation=out, loss=loss, biases=biases)
    for sizes in [(2, 2, 1), (3, 4, 2), (1, 3, 3, 1), (4, 4, 4, 4, 4), (2, 1)]
    for act in backprop.ACTIVATIONS
    for out, loss in [("linear", "squared"), ("sigmoid", "squared"), ("tanh", "squared"),
                      ("relu", "squared"), ("sigmoid", "bce")]
    for biases in (False, True)
]


def _cfg_id(c: dict) -> str:
    bias = 'b' if c['biases'] else 'nob'
    return f"{c['sizes']}-{c['activation']}-{c['output_activation']}-{c['loss']}-{bias}"


@pytest.mark.parametrize("cfg", CONFIGS, ids=_cfg_id)
def test_gradients_agree_with_central_differences(cfg):
    cfg = dict(cfg)
    sizes, loss = cfg.pop("sizes"), cfg.pop("loss")
    rng = np.random.default_rng(sum(sizes))
    net = backprop.Network.random(sizes, seed=len(sizes), **cfg)
    x = rng.uniform(-1, 1, sizes[0]) + 0.05  # away from relu's kink at 0
    t = rng.uniform(0.1, 0.9, sizes[-1])
    _, dW, db = backprop.gradients(net, x, t, loss)
    nW, nb = backprop.numeric_gradients(net, x, t, loss)
    for a, n in zip(dW + db, nW + nb, strict=True):
        assert gradcheck.max_rel_error(a, n) < 1e-6
    tr = backprop.trace(net, x, t, loss, 0.1)
    assert tr.max_rel_error < 1e-6
    # The computational graph's backward pass gives the same gradients.
    g = graph.param_grads(graph.build(net, x, t, loss))
    for p in tr.params:
        assert g[p.name] == pytest.approx(p.grad, rel=1e-9, abs=1e-12)
    for p in tr.params:  # written-out chain rule (when shown) equals the gradient
        if p.paths is not None:
            written = sum(np.prod([f.value for f in path]) for path in p.paths)
            assert written == pytest.approx(p.grad, abs=1e-10)


def test_backward_does_not_mutate_its_inputs():
    net = backprop.Network.random((2, 3, 1), 0, activation="tanh")
    zs, as_ = backprop.forward(net, X)
    keep = [z.copy() for z in zs] + [a.copy() for a in as_]
    backprop.backward(net, X, zs, as_, np.array([0.5]))
    for before, after in zip(keep, zs + as_, strict=True):
        assert np.array_equal(before, after)


def test_graph_values_fill_forward_and_the_loss_node_holds_E():
    g = graph.build(classic(), X, T, "squared")
    assert g.nodes[-1].op == "loss" and g.nodes[-1].value == pytest.approx(0.3272405, abs=1e-12)
    assert g.nodes[-1].grad == 1.0
    muls = [n.value for n in g.nodes if n.op == "mul"]
    assert muls[:4] == pytest.approx([0.22, 0.63, 0.24, 0.24], abs=1e-12)
    for n in g.nodes:
        assert all(i < n.id for i in n.inputs)  # topological order
    # a product node says what it multiplies: its two inputs' names
    assert [n.label for n in g.nodes if n.op == "mul"] == [
        "i1·w1", "i2·w2", "i1·w3", "i2·w4", "h1·w5", "h2·w6"]


def test_wrong_number_of_weights_is_an_error_naming_the_count():
    with pytest.raises(ValueError, match="6 weights"):
        backprop.Network.from_flat((2, 2, 1), [0.1, 0.2])


# ------------------------------------------------------------------ API


def test_trace_api_default_is_the_worked_example(client):
    r = client.post("/api/v1/backprop/trace", json={})
    assert r.status_code == 200
    body = r.json()
    steps = body["steps"]
    assert [n["a"] for n in steps["forward"]] == pytest.approx([0.85, 0.48, 0.191], abs=1e-12)
    assert steps["error"]["E"] == pytest.approx(0.3272405, abs=1e-12)
    assert [u["new"] for u in steps["update"]] == pytest.approx(HAND_NEW, abs=1e-12)
    assert steps["gradcheck"]["max_rel_error"] < 1e-8
    assert len(body["losses"]) == 21 and body["losses"][-1] < body["losses"][0]
    assert {n["op"] for n in steps["graph"]["nodes"]} >= {"mul", "add", "act", "sub", "loss"}


def test_trace_api_diverges_without_nan_in_json(client):
    r = client.post("/api/v1/backprop/trace", json={"lr": 5, "repeats": 300})
    assert r.status_code == 200
    assert r.json()["diverged"] is True
    assert "NaN" not in r.text and "Infinity" not in r.text


@pytest.mark.parametrize("body, needle", [
    ({"weights": [0.1, 0.2]}, "6 weights"),
    ({"hidden": [5]}, "1 to 4 neurons"),
    ({"hidden": [2, 2, 2, 2]}, "hidden"),
    ({"inputs": [1, 2, 3, 4, 5]}, "inputs"),
    ({"activation": "softsign"}, "activation"),
    ({"loss": "bce", "output_activation": "tanh"}, "sigmoid"),
    ({"loss": "bce", "targets": [2]}, "between 0 and 1"),
    ({"lr": 0}, "lr"),
    ({"lr": 0.1, "extra": 1}, "extra"),
    ({"biases": True, "bias_values": [1]}, "3 biases"),
])
def test_trace_api_rejects_bad_input_with_a_422_naming_it(client, body, needle):
    r = client.post("/api/v1/backprop/trace", json=body)
    assert r.status_code == 422
    assert needle in r.text


def test_trace_api_random_weights_from_the_seed(client):
    body = {"weights": None, "hidden": [3, 2], "seed": 7, "activation": "tanh", "biases": True}
    a = client.post("/api/v1/backprop/trace", json=body).json()
    b = client.post("/api/v1/backprop/trace", json=body).json()
    assert a["config"]["weights"] == b["config"]["weights"]
    assert len(a["config"]["weights"]) == 2 * 3 + 3 * 2 + 2


def test_session_steps_through_the_six_steps(client):
    r = client.post("/api/v1/backprop/sessions", json={})
    assert r.status_code == 201 and r.json()["stage"] == "initialize"
    sid = r.json()["id"]
    stages = []
    for _ in range(6):
        stages.append(client.post(f"/api/v1/backprop/sessions/{sid}/step", json={}).json()["stage"])
    assert stages == ["forward", "error", "backward", "update", "repeat", "forward"]
    state = client.get(f"/api/v1/backprop/sessions/{sid}").json()
    assert state["iteration"] == 1
    assert state["losses"] == pytest.approx([0.3272405, 0.2769571713929189], abs=1e-12)
    assert [w["value"] for w in state["network"]["weights"]] == pytest.approx(HAND_NEW, abs=1e-12)
    r = client.patch(f"/api/v1/backprop/sessions/{sid}", json={"hidden": [9]})
    assert r.status_code == 422
    assert client.post(f"/api/v1/backprop/sessions/{sid}/reset").json()["iteration"] == 0
    assert client.delete(f"/api/v1/backprop/sessions/{sid}").status_code == 204
    assert client.get(f"/api/v1/backprop/sessions/{sid}").status_code == 404


def test_websocket_steps_and_survives_bad_commands(client):
    sid = client.post("/api/v1/backprop/sessions", json={}).json()["id"]
    with client.websocket_connect(f"/api/v1/backprop/sessions/{sid}/stream") as ws:
        first = [ws.receive_json() for _ in range(3)]
        assert [m["type"] for m in first] == ["config", "status", "frame"]
        ws.send_text("not json")
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"type": "set", "params": {"activation": "softsign"}})
        msg = ws.receive_json()
        assert msg["type"] == "error" and "activation" in msg["message"]
        ws.send_json({"type": "step", "n": 2})
        frames = [ws.receive_json() for _ in range(2)]
        frame = next(m for m in frames if m["type"] == "frame")
        assert frame["stage"] == "error"
        assert frame["trace"]["error"]["E"] == pytest.approx(0.3272405, abs=1e-12)
        ws.send_json({"type": "set", "params": {"activation": "sigmoid", "biases": True}})
        msgs = [ws.receive_json() for _ in range(3)]
        frame = next(m for m in msgs if m["type"] == "frame")
        assert frame["stage"] == "initialize" and frame["network"]["activation"] == "sigmoid"


def test_stream_of_an_unknown_session_says_so(client):
    with client.websocket_connect("/api/v1/backprop/sessions/nope/stream") as ws:
        assert ws.receive_json()["type"] == "error"


def test_page_renders_with_its_preset(client):
    r = client.get("/labs/backprop?preset=backprop-worked-example")
    assert r.status_code == 200 and "lab-params" in r.text and "0.11" in r.text
    assert client.get("/labs/backprop?preset=nope").status_code == 404


# ---- continuing a saved walk-through (JSON import) ---------------------------------------

def test_patch_state_continues_from_the_hand_computed_weights(client):
    # One iteration by hand (HAND_NEW above), shown at step 2; E before it 0.3272405.
    sid = client.post("/api/v1/backprop/sessions", json={"seed": 4, "weights": None}).json()["id"]
    state = {"weights": HAND_NEW, "iteration": 1, "stage": 2, "losses": [0.3272405, 0.123]}
    r = client.patch(f"/api/v1/backprop/sessions/{sid}", json={"weights": W0, "state": state})
    assert r.status_code == 200 and r.json()["reset"] is True
    got = r.json()
    assert got["iteration"] == 1 and got["stage"] == "forward" and got["loss_iterations"] == [0, 1]
    assert [w["value"] for w in got["network"]["weights"]] == HAND_NEW
    # The newest E is recomputed from the weights: out = 0.2557446…, E = ½(1 − out)².
    out = 0.923619 * 0.1743825 + 0.5588775 * 0.169416
    assert got["losses"] == pytest.approx([0.3272405, 0.5 * (1 - out) ** 2], abs=1e-12)
    assert got["trace"]["forward"][0]["a"] == pytest.approx(0.923619, abs=1e-12)  # h1
    # …and stepping goes on exactly as the uninterrupted walk-through from the worked example.
    ref = client.post("/api/v1/backprop/sessions", json={}).json()["id"]
    client.post(f"/api/v1/backprop/sessions/{ref}/step", json={"steps": 6})  # iteration 1, step 2
    a = client.post(f"/api/v1/backprop/sessions/{ref}/step", json={"steps": 9}).json()
    b = client.post(f"/api/v1/backprop/sessions/{sid}/step", json={"steps": 9}).json()
    assert a["iteration"] == b["iteration"] == 3 and a["stage"] == b["stage"] == "repeat"
    values = [w["value"] for w in a["network"]["weights"]]
    assert values == pytest.approx([w["value"] for w in b["network"]["weights"]], abs=1e-15)
    assert a["losses"][1:] == pytest.approx(b["losses"][1:], abs=1e-15)


@pytest.mark.parametrize(("state", "needle"), [
    ({"weights": [0.1, 0.2]}, "has 6 weights; got 2"),
    ({"weights": W0, "bias_values": [1.0]}, "has 3 biases; got 1"),
    ({"weights": W0, "stage": 7}, "state.stage"),
    ({"weights": W0, "iteration": 2, "losses": [1.0, 0.5]}, "rise from 0 to the iteration"),
    ({"weights": W0, "losses": [1.0], "loss_iterations": [0, 1]}, "same, non-zero length"),
    ({"iteration": 1}, "state.weights"),
    ({"weights": W0, "w": 1}, "state.w"),
])
def test_patch_bad_state_is_a_422_naming_it_and_changes_nothing(client, state, needle):
    sid = client.post("/api/v1/backprop/sessions", json={}).json()["id"]
    before = client.post(f"/api/v1/backprop/sessions/{sid}/step", json={"steps": 6}).json()
    r = client.patch(f"/api/v1/backprop/sessions/{sid}", json={"biases": True, "state": state})
    assert r.status_code == 422 and needle in r.json()["detail"][0]["msg"], r.text
    after = client.get(f"/api/v1/backprop/sessions/{sid}").json()
    assert after["iteration"] == 1 and after["network"] == before["network"]
    assert after["config"]["biases"] is False


def test_from_flat_refuses_non_finite_values():
    with pytest.raises(ValueError, match="finite"):
        backprop.Network.from_flat((2, 2, 1), [0.1, np.inf, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="finite"):
        backprop.Network.from_flat((2, 2, 1), W0, [np.nan, 0, 0], biases=True)


def test_websocket_set_state_and_a_bad_one(client):
    sid = client.post("/api/v1/backprop/sessions", json={}).json()["id"]
    with client.websocket_connect(f"/api/v1/backprop/sessions/{sid}/stream") as ws:
        assert [ws.receive_json()["type"] for _ in range(3)] == ["config", "status", "frame"]
        ws.send_json({"type": "set", "params": {"state": {"weights": HAND_NEW, "iteration": 1, "stage": 6}}})
        msgs = {m["type"]: m for m in (ws.receive_json() for _ in range(3))}
        assert msgs["config"]["reset"] is True
        frame = msgs["frame"]
        assert frame["stage"] == "repeat" and frame["iteration"] == 1 and frame["loss_iterations"] == [1]
        ws.send_json({"type": "set", "params": {"state": {"weights": [1, 2, 3]}}})
        msg = ws.receive_json()
        assert msg["type"] == "error" and "has 6 weights; got 3" in msg["message"]
        ws.send_json({"type": "step", "n": 1})  # step 6 → step 2 of iteration 2, same weights
        frame = next(m for m in (ws.receive_json() for _ in range(2)) if m["type"] == "frame")
        assert frame["stage"] == "forward" and [w["value"] for w in frame["network"]["weights"]] == HAND_NEW


# ------------------------------------------------------------------ a saturated sigmoid output
# One weight, no hidden layer: z = 40·1 = 40, ŷ = σ(40) rounds to 1.0 in float64, so ŷ(1 − ŷ)
# is 0. From the logit: E = max(z, 0) − z·t + log(1 + e^−|z|); with t = 1 that is
# 40 − 40 + log1p(e^−40) ≈ 4.25e-18, and ∂E/∂z = ŷ − t = 0 (the engine's loss gives the same).
# ∂E/∂t = log(1 − ŷ) − log ŷ = −z = −40 exactly.
SATURATED = {"inputs": [40], "targets": [1], "hidden": [], "weights": [1], "loss": "bce"}


def _all_numbers(nodes):
    return all(isinstance(n["value"], float | int) and isinstance(n["grad"], float | int) for n in nodes)


def test_graph_of_a_saturated_bce_output_is_finite_and_seeded_at_z():
    net = backprop.Network.from_flat((1, 1), [1.0], output_activation="sigmoid")
    g = graph.build(net, np.array([40.0]), np.array([1.0]), "bce")
    E = g.nodes[-1]
    assert np.isfinite(E.value) and E.value == pytest.approx(np.exp(-40.0), rel=1e-12)
    engine_E = backprop.loss_of(net, np.array([40.0]), np.array([1.0]), "bce")
    assert E.value == pytest.approx(engine_E, rel=1e-12)
    for n in g.nodes:
        assert np.isfinite(n.value) and np.isfinite(n.grad), n
    z = next(n for n in g.nodes if n.op == "add")
    y = next(n for n in g.nodes if n.op == "act")
    t = next(n for n in g.nodes if n.op == "target")
    assert y.value == 1.0 and z.grad == 0.0  # ŷ − t from the logit
    assert y.grad == pytest.approx(-1.0)  # ∂E/∂ŷ = −t/ŷ + (1 − t)/(1 − ŷ) = −1
    assert t.grad == pytest.approx(-40.0)  # log(1 − ŷ) − log ŷ = −z


@pytest.mark.parametrize("z, target", [(40.0, 1.0), (40.0, 0.0), (-40.0, 1.0), (40.0, 0.5), (800.0, 1.0)])
def test_graph_and_engine_agree_when_the_output_saturates(z, target):
    net = backprop.Network.from_flat((1, 2, 1), [1.0, 1.0, z / 2, z / 2], output_activation="sigmoid",
                                     activation="linear")
    x, t = np.array([1.0]), np.array([target])
    g = graph.build(net, x, t, "bce")
    E, dW, _ = backprop.gradients(net, x, t, "bce")
    assert g.nodes[-1].value == pytest.approx(E, rel=1e-12, abs=1e-300)
    grads = graph.param_grads(g)
    for name, value in zip(["w1", "w2", "w3", "w4"], np.concatenate([W.T.ravel() for W in dW]), strict=True):
        assert grads[name] == pytest.approx(value, rel=1e-12, abs=1e-300)
    for n in g.nodes:
        if not (n.op == "act" and n.fn == "sigmoid" and target not in (0.0, 1.0) and abs(z) > 700):
            assert np.isfinite(n.value) and np.isfinite(n.grad), n


def test_trace_api_of_a_saturated_bce_output_answers_finite_numbers(client):
    r = client.post("/api/v1/backprop/trace", json=SATURATED)
    assert r.status_code == 200, r.text
    steps = r.json()["steps"]
    nodes = steps["graph"]["nodes"]
    assert _all_numbers(nodes)
    assert nodes[-1]["value"] == pytest.approx(steps["error"]["E"], rel=1e-9)
    assert steps["gradcheck"]["max_rel_error"] < 1e-6
    graph_grads = {n["label"]: n["grad"] for n in nodes if n["op"] == "weight"}
    for row in steps["gradcheck"]["rows"]:
        assert graph_grads[row["name"]] == pytest.approx(row["analytic"], abs=1e-12)
    # half saturated with a hidden layer: the gradient check still agrees
    body = {"inputs": [3], "targets": [0], "hidden": [2], "weights": [2, -1, 6, 1], "loss": "bce",
            "activation": "tanh"}
    r = client.post("/api/v1/backprop/trace", json=body)
    assert r.status_code == 200, r.text
    steps = r.json()["steps"]
    assert _all_numbers(steps["graph"]["nodes"]) and steps["gradcheck"]["max_rel_error"] < 1e-6
    assert steps["graph"]["nodes"][-1]["value"] == pytest.approx(steps["error"]["E"], rel=1e-9)


def test_session_frames_of_a_saturated_bce_output(client):
    r = client.post("/api/v1/backprop/sessions", json=SATURATED)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    for _ in range(6):
        r = client.post(f"/api/v1/backprop/sessions/{sid}/step", json={})
        assert r.status_code == 200, r.text
        frame = r.json()
        assert _all_numbers(frame["trace"]["graph"]["nodes"])
        assert frame["trace"]["gradcheck"]["max_rel_error"] < 1e-6
    assert frame["iteration"] == 1 and not frame["diverged"]
    with client.websocket_connect(f"/api/v1/backprop/sessions/{sid}/stream") as ws:
        msgs = [ws.receive_json() for _ in range(3)]
        frame = next(m for m in msgs if m["type"] == "frame")
        assert _all_numbers(frame["trace"]["graph"]["nodes"])


def test_session_updates_through_the_engine_training_step(client, monkeypatch):
    calls = []
    real = backprop.train

    def spy(*args, **kw):
        calls.append(args[4:])
        return real(*args, **kw)

    monkeypatch.setattr(backprop, "train", spy)
    sid = client.post("/api/v1/backprop/sessions", json={}).json()["id"]
    state = client.post(f"/api/v1/backprop/sessions/{sid}/step", json={"steps": 5 * 3}).json()
    assert calls == [(0.05, 1)] * 3  # one engine iteration per walk-through update
    losses, net, diverged = real(classic(), X, T, "squared", 0.05, 3)
    assert not diverged and not state["diverged"]
    assert state["iteration"] == 3 and state["losses"] == pytest.approx(losses, rel=1e-15)
    assert [w["value"] for w in state["network"]["weights"]] == pytest.approx(net.flat_weights(), rel=1e-15)
