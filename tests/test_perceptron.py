"""Perceptron lab: the learning rule by hand, the convergence bound, XOR's failure, the API."""

from __future__ import annotations

import numpy as np
import pytest

from engine import perceptron
from engine.perceptron import Perceptron, featurize, make_data


def run_on(name: str, feats=("x1", "x2"), **kw) -> Perceptron:
    X, y = make_data(name)
    p = Perceptron(featurize(X, list(feats)), y, **kw)
    p.run()
    return p


def test_first_updates_on_and_by_hand():
    # Examples in order (0,0)−, (0,1)−, (1,0)−, (1,1)+, from w = (0, 0), b = 0, η = 1.
    X, y = make_data("gate_and")
    p = Perceptron(featurize(X, ["x1", "x2"]), y)
    u = p.step()  # s = 0 for a negative example: too high → w −= x, b −= 1
    assert (u.score, u.decision, u.mistake) == (0.0, "too_high", True)
    assert list(u.w_after) == [0.0, 0.0] and u.b_after == -1.0
    u = p.step()  # (0,1): s = 0·0 + 0·1 − 1 = −1 → correct
    assert (u.score, u.decision) == (-1.0, "correct") and u.db == 0.0
    u = p.step()  # (1,0): s = −1 → correct
    assert u.decision == "correct"
    u = p.step()  # (1,1)+: s = −1, too low → w += (1,1), b += 1
    assert (u.score, u.decision) == (-1.0, "too_low")
    assert list(u.w_after) == [1.0, 1.0] and u.b_after == 0.0
    assert p.mistakes_per_epoch == [2] and p.epoch == 2


def test_and_or_nand_converge_to_separating_lines():
    for gate in ("gate_and", "gate_or", "gate_nand"):
        p = run_on(gate)
        assert p.status == "converged" and p.mistakes_per_epoch[-1] == 0
        X, y = make_data(gate)
        assert np.all(y * p.scores(featurize(X, ["x1", "x2"])) > 0)
    p = run_on("gate_and")
    assert list(p.w) == [3.0, 2.0] and p.b == -4.0  # computed by the rule above, epoch by epoch


def test_xor_never_converges_and_the_cycle_is_detected():
    p = run_on("gate_xor")
    assert p.status == "cycle" and p.separable_verdict == "not_separable"
    assert all(m > 0 for m in p.mistakes_per_epoch)
    # From zero weights XOR's four updates cancel: the weights are back at 0 after epoch 1.
    assert list(p.w) == [0.0, 0.0] and p.b == 0.0 and p.cycle_start == 0
    for seed in range(5):
        q = run_on("gate_xor", init="random", seed=seed, lr=0.3)
        assert q.status == "cycle" and min(q.mistakes_per_epoch) > 0
    q = run_on("gate_xor", shuffle=True, seed=1, max_epochs=40)
    assert q.status == "epoch_limit" and len(q.mistakes_per_epoch) == 40
    assert min(q.mistakes_per_epoch) > 0


def test_xor_with_the_x1x2_feature_converges():
    p = run_on("gate_xor", feats=("x1", "x2", "x1x2"))
    assert p.status == "converged"
    X, y = make_data("gate_xor")
    assert np.all(y * p.scores(featurize(X, ["x1", "x2", "x1x2"])) > 0)


@pytest.mark.parametrize("seed", range(6))
def test_mistakes_stay_within_the_novikoff_bound(seed):
    X, y = make_data("separable", 200, 0.2, seed)
    Phi = featurize(X, ["x1", "x2"])
    bound = perceptron.novikoff_bound(Phi, y, np.array([1.0, 1.0]), 0.0)  # the generating line
    assert np.isfinite(bound)
    for lr in (1.0, 0.1):
        p = Perceptron(Phi, y, lr=lr, max_epochs=10_000, shuffle=seed % 2 == 1, seed=seed)
        p.run()
        assert p.status == "converged"
        assert p.total_mistakes <= bound


def test_novikoff_bound_by_hand():
    # Two points (1, 0)+ and (−1, 0)−, separator u = (1, 0), u_b = 0: γ = 1, R = ‖(1, 0, 1)‖ = √2.
    Phi = np.array([[1.0, 0.0], [-1.0, 0.0]])
    bound = perceptron.novikoff_bound(Phi, np.array([1.0, -1.0]), np.array([1.0, 0.0]), 0.0)
    assert bound == pytest.approx(2.0)


def test_delta_rule_update_by_hand():
    Phi = np.array([[1.0, 2.0]])
    p = Perceptron(Phi, np.array([1.0]), rule="adaline", lr=0.1)
    u = p.step()  # s = 0; w += 0.1·(1 − 0)·(1, 2) = (0.1, 0.2), b += 0.1
    assert u.w_after == pytest.approx([0.1, 0.2]) and u.b_after == pytest.approx(0.1)
    u = p.step()  # s = 0.1 + 0.4 + 0.1 = 0.6 → scale 0.1·0.4 = 0.04
    assert u.score == pytest.approx(0.6) and u.db == pytest.approx(0.04)


def test_huge_rate_on_adaline_is_a_diverged_state():
    X, y = make_data("gauss", 50, 0.3, 0)
    p = Perceptron(featurize(X, ["x1", "x2"]), y, rule="adaline", lr=10, max_epochs=2000)
    with np.errstate(all="ignore"):
        p.run()
    assert p.status == "diverged"


def test_a_delta_rule_step_past_float_range_is_a_diverged_state():
    """Squared features of far points: the second step's error (y − s)² is past 1e308; the run
    says diverged, it does not raise. The same holds for the bound of such data."""
    Phi = featurize(np.array([[1e40, 1e40], [-1e40, -1e40]]), ["x1sq", "x2sq"])
    p = Perceptron(Phi, np.array([1.0, -1.0]), rule="adaline", lr=10)
    with np.errstate(all="ignore"):
        p.run()
    assert p.status == "diverged" and p.step_count == 2
    # R = 1e150, γ = 1e-150: (R/γ)² is past float range, an infinite bound
    far_and_near = np.array([[1e150, 0.0], [1e-150, 0.0]])
    assert perceptron.novikoff_bound(far_and_near, np.ones(2), np.array([1.0, 0.0]), 0.0) == np.inf


def test_api_far_points_on_the_delta_rule_diverge_without_an_error(client):
    body = {"points": [[1e40, 1e40, 1], [-1e40, -1e40, -1]], "features": ["x1sq", "x2sq"],
            "rule": "adaline", "lr": 10}
    r = client.post("/api/v1/perceptron/run", json=body)
    assert r.status_code == 200 and r.json()["status"] == "diverged"


# ------------------------------------------------------------------ API


def test_run_api_updates_and_epochs(client):
    r = client.post("/api/v1/perceptron/run", json={"dataset": "gate_and", "record": "updates"})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "converged" and body["verdict"] == "separable"
    first = body["updates"][0]
    assert first["decision"] == "too_high" and first["b_after"] == -1.0
    assert body["w"] == [3.0, 2.0] and body["b"] == -4.0
    r = client.post("/api/v1/perceptron/run", json={"dataset": "gate_xor"})
    body = r.json()
    assert body["status"] == "cycle"
    assert body["message"].startswith("not linearly separable: no line separates these points")
    assert body["epochs"][0]["w"] == [0.0, 0.0]
    r = client.post("/api/v1/perceptron/run", json={"dataset": "gate_xor", "features": ["x1", "x2", "x1x2"]})
    assert r.json()["status"] == "converged"


def test_run_api_user_points(client):
    pts = [[0, 0, -1], [1, 1, 1], [2, 0, 1]]
    r = client.post("/api/v1/perceptron/run", json={"points": pts})
    assert r.status_code == 200 and r.json()["status"] == "converged"
    assert r.json()["data"]["points"] == pts


@pytest.mark.parametrize("body, needle", [
    ({"dataset": "gate_xr"}, "gate_xor"),
    ({"rule": "hebb"}, "adaline"),
    ({"features": ["x3"]}, "x1x2"),
    ({"features": ["x1", "x1"]}, "repeat"),
    ({"points": [[0, 0, 2]]}, "-1 or 1"),
    ({"lr": -1}, "lr"),
    ({"record": "all"}, "record"),
    ({"bogus": 1}, "bogus"),
    ({"max_epochs": 20_000}, "NP_MAX_PERCEPTRON_EPOCHS"),
    ({"dataset": "separable", "n_points": 5000, "max_epochs": 1000}, "NP_MAX_STEPS_PER_CALL"),
])
def test_run_api_rejects_bad_input(client, body, needle):
    r = client.post("/api/v1/perceptron/run", json=body)
    assert r.status_code == 422
    assert needle in r.text


def test_limits_come_from_settings(limited_client):
    r = limited_client.post("/api/v1/perceptron/run", json={"max_epochs": 21})
    assert r.status_code == 422 and "NP_MAX_PERCEPTRON_EPOCHS" in r.text
    r = limited_client.post("/api/v1/perceptron/sessions", json={"dataset": "separable", "n_points": 101})
    assert r.status_code == 422 and "NP_MAX_POINTS" in r.text


def test_session_steps_examples_and_epochs(client):
    r = client.post("/api/v1/perceptron/sessions", json={"dataset": "gate_and"})
    assert r.status_code == 201
    sid = r.json()["id"]
    s = client.post(f"/api/v1/perceptron/sessions/{sid}/step", json={}).json()
    assert s["update"]["decision"] == "too_high" and s["b"] == -1.0 and s["position"] == 1
    s = client.post(f"/api/v1/perceptron/sessions/{sid}/step", json={"epochs": 20}).json()
    assert s["status"] == "converged" and s["w"] == [3.0, 2.0]
    both = client.post(f"/api/v1/perceptron/sessions/{sid}/step", json={"examples": 1, "epochs": 1})
    assert both.status_code == 422
    r = client.patch(f"/api/v1/perceptron/sessions/{sid}", json={"dataset": "gate_xor"})
    assert r.status_code == 200 and r.json()["reset"] is True and r.json()["step"] == 0
    assert client.patch(f"/api/v1/perceptron/sessions/{sid}", json={"rule": "x"}).status_code == 422
    assert client.delete(f"/api/v1/perceptron/sessions/{sid}").status_code == 204
    assert client.post(f"/api/v1/perceptron/sessions/{sid}/step", json={}).status_code == 404


def test_websocket_plays_xor_to_its_verdict_and_answers_bad_commands(client):
    cfg = {"dataset": "gate_xor", "init": "random"}
    sid = client.post("/api/v1/perceptron/sessions", json=cfg).json()["id"]
    with client.websocket_connect(f"/api/v1/perceptron/sessions/{sid}/stream") as ws:
        assert [ws.receive_json()["type"] for _ in range(3)] == ["config", "status", "frame"]
        ws.send_json({"type": "jump"})
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"type": "set", "params": {"lr": "fast"}})
        msg = ws.receive_json()
        assert msg["type"] == "error" and "lr" in msg["message"]
        ws.send_json({"type": "step", "n": 1})
        frame = next(m for m in (ws.receive_json() for _ in range(2)) if m["type"] == "frame")
        assert frame["step"] == 1 and frame["update"]["index"] == 0
        assert frame["grid"]["shape"] == [60, 60]
        ws.send_json({"type": "speed", "steps_per_frame": 50})
        ws.send_json({"type": "play"})
        for _ in range(50):
            m = ws.receive_json()
            if m["type"] == "frame" and m["status"] != "running":
                break
        assert m["status"] == "cycle" and "no line separates these points" in m["message"]


def test_page_and_presets(client):
    for preset in ("perceptron-and", "perceptron-xor-fails", "xor-with-feature-x1x2"):
        r = client.get(f"/labs/perceptron?preset={preset}")
        assert r.status_code == 200 and 'id="lab-params"' in r.text
    assert "x1x2" in client.get("/labs/perceptron?preset=xor-with-feature-x1x2").text
    assert "/labs/mlp?preset=xor-2-2-1-mlp" in client.get("/labs/perceptron").text


# ---- continuing a saved run (JSON import) ------------------------------------------------

SAVED_KEYS = ("w", "b", "epoch", "position", "mistakes_per_epoch", "sq_error_per_epoch", "total_mistakes",
              "epoch_sq_error", "status", "cycle_start")


def test_restore_continues_and_by_hand():
    # After epoch 1 on AND (see the first test): w = (1, 1), b = 0, one epoch with 2 mistakes.
    X, y = make_data("gate_and")
    p = Perceptron(featurize(X, ["x1", "x2"]), y)
    p.restore([1.0, 1.0], 0.0, epoch=2, mistakes_per_epoch=[2], sq_error_per_epoch=[0.625], total_mistakes=2)
    assert p.step_count == 4 and p.epoch == 2 and p.position == 0
    u = p.step()  # (0,0)−: s = 0 → too high, b ← 0 − 1 = −1
    assert (u.epoch, u.index, u.score, u.decision) == (2, 0, 0.0, "too_high")
    assert list(u.w_after) == [1.0, 1.0] and u.b_after == -1.0 and p.total_mistakes == 3
    p.run()
    assert p.status == "converged" and list(p.w) == [3.0, 2.0] and p.b == -4.0


@pytest.mark.parametrize("kw", [{}, {"shuffle": True, "init": "random", "seed": 4}])
def test_restore_mid_epoch_goes_on_as_the_uninterrupted_run(kw):
    X, y = make_data("xor", 30, 0.1, 2)
    Phi = featurize(X, ["x1", "x2"])
    a, b = Perceptron(Phi, y, max_epochs=40, **kw), Perceptron(Phi, y, max_epochs=40, **kw)
    for _ in range(77):  # epoch 3, example 18
        a.step()
    b.restore(a.w, a.b, a.epoch, a.position, a.mistakes_per_epoch, a.sq_error_per_epoch, a.total_mistakes,
              a.epoch_sq_error)
    assert b.step_count == a.step_count == 77
    for _ in range(100):
        ua, ub = a.step(), b.step()
        assert (ua.index, ua.score, ua.mistake) == (ub.index, ub.score, ub.mistake)
    assert a.mistakes_per_epoch == b.mistakes_per_epoch and a.sq_error_per_epoch == b.sq_error_per_epoch
    assert list(a.w) == list(b.w) and a.b == b.b and a.total_mistakes == b.total_mistakes


@pytest.mark.parametrize(("kw", "needle"), [
    ({"w": [1.0]}, "w must hold 2 weights"),
    ({"w": [np.nan, 0.0]}, "finite"),
    ({"epoch": 101}, "max_epochs = 100"),
    ({"position": 4}, "position must be between 0 and 3"),
    ({"epoch": 3, "mistakes_per_epoch": [1]}, "the 2 finished epochs"),
    ({"epoch": 2, "mistakes_per_epoch": [5], "sq_error_per_epoch": [1.0]}, "between 0 and 4"),
    ({"total_mistakes": 3}, "total_mistakes"),
    ({"status": "cycle", "epoch": 1, "mistakes_per_epoch": [1], "sq_error_per_epoch": [1.0]}, "cycle_start"),
])
def test_restore_rejects_what_does_not_fit_and_changes_nothing(kw, needle):
    X, y = make_data("gate_and")
    p = Perceptron(featurize(X, ["x1", "x2"]), y)
    p.step()
    with pytest.raises(ValueError, match=needle):
        p.restore(**{"w": [0.0, 0.0], "b": 0.0, **kw})
    assert p.step_count == 1 and p.b == -1.0 and p.position == 1


def _saved(frame: dict) -> dict:
    return {k: frame[k] for k in SAVED_KEYS}


def test_patch_state_continues_a_run_and_rejects_bad_state(client):
    cfg = {"dataset": "xor", "n_points": 30, "noise": 10, "shuffle": True, "seed": 3, "max_epochs": 50}
    a = client.post("/api/v1/perceptron/sessions", json=cfg).json()["id"]
    saved = client.post(f"/api/v1/perceptron/sessions/{a}/step", json={"examples": 45}).json()
    b = client.post("/api/v1/perceptron/sessions", json={}).json()["id"]  # AND, a fresh run
    r = client.patch(f"/api/v1/perceptron/sessions/{b}", json={**cfg, "state": _saved(saved)})
    assert r.status_code == 200 and r.json()["reset"] is True
    got = r.json()
    assert _saved(got) == _saved(saved) and got["step"] == 45 and got["epoch"] == 2 and got["position"] == 15
    ga = client.post(f"/api/v1/perceptron/sessions/{a}/step", json={"examples": 40}).json()
    gb = client.post(f"/api/v1/perceptron/sessions/{b}/step", json={"examples": 40}).json()
    assert _saved(ga) == _saved(gb) and ga["update"] == gb["update"]

    for state, needle in [({"w": [1, 2, 3], "b": 0}, "w must hold 2 weights"),
                          ({"b": 0}, "state.w"),
                          ({"w": [1, 2], "b": 0, "speed": 3}, "state.speed"),
                          ({"w": [1, 2], "b": 0, "epoch": 0}, "state.epoch"),
                          ("weights", "state")]:
        r = client.patch(f"/api/v1/perceptron/sessions/{b}", json={"dataset": "gate_or", "state": state})
        assert r.status_code == 422 and needle in r.json()["detail"][0]["msg"], (state, r.text)
    unchanged = client.get(f"/api/v1/perceptron/sessions/{b}").json()
    assert unchanged["config"]["dataset"] == "xor" and _saved(unchanged) == _saved(gb)


def test_websocket_set_state_and_a_bad_one(client):
    sid = client.post("/api/v1/perceptron/sessions", json={"dataset": "gate_and"}).json()["id"]
    with client.websocket_connect(f"/api/v1/perceptron/sessions/{sid}/stream") as ws:
        assert [ws.receive_json()["type"] for _ in range(3)] == ["config", "status", "frame"]
        ws.send_json({"type": "set", "params": {"state": {"w": [1, 1], "b": 0, "epoch": 2,
                                                          "mistakes_per_epoch": [2], "total_mistakes": 2}}})
        msgs = {m["type"]: m for m in (ws.receive_json() for _ in range(3))}
        assert set(msgs) == {"config", "frame", "status"} and msgs["config"]["reset"] is True
        frame = msgs["frame"]
        assert frame["w"] == [1, 1] and frame["b"] == 0 and frame["epoch"] == 2 and frame["step"] == 4
        ws.send_json({"type": "set", "params": {"state": {"w": [1], "b": 0}}})
        msg = ws.receive_json()
        assert msg["type"] == "error" and "w must hold 2 weights" in msg["message"]
        ws.send_json({"type": "step", "n": 1})
        frame = next(m for m in (ws.receive_json() for _ in range(2)) if m["type"] == "frame")
        assert frame["update"]["decision"] == "too_high" and frame["b"] == -1 and frame["epoch"] == 2


def test_one_state_error_formatter_for_every_lab():
    from app import state_import
    from app.labs.backprop import session as backprop_session
    from app.labs.perceptron import session as perceptron_session

    assert perceptron_session.state_errors is state_import.state_errors
    assert backprop_session.state_errors is state_import.state_errors


# ------------------------------------------------------------------ η, ties and the delta rule


@pytest.mark.parametrize("gate", ["gate_and", "gate_or", "gate_nand"])
def test_from_zero_weights_the_run_does_not_depend_on_eta(gate):
    """From w = 0 every weight is a multiple of η, so the run is the η = 1 run scaled. At
    η = 0.1 on AND the corner (1, 1) once scores −2.8e-17 where exact arithmetic gives 0:
    a score within rounding of 0 is 0, a mistake, as the rule says."""
    ref = run_on(gate)
    for lr in (0.1, 0.3, 0.7, 0.01, 3.0):
        p = run_on(gate, lr=lr)
        assert p.status == ref.status == "converged"
        assert p.mistakes_per_epoch == ref.mistakes_per_epoch, lr
        assert p.w / lr == pytest.approx(ref.w, abs=1e-9) and p.b / lr == pytest.approx(ref.b, abs=1e-9)


def test_a_score_within_rounding_of_zero_is_zero():
    X, y = make_data("gate_and")
    p = Perceptron(featurize(X, ["x1", "x2"]), y, lr=0.1)
    for _ in range(15):
        u = p.step()
    # epoch 4, example (1, 0)−: w = (0.2, 0.1), b = −0.2 (0.1 + 0.1 − 0.1 − 0.1 − 0.1 in
    # floating point) sums to −2.8e-17 where exact arithmetic has 0: on the line, a mistake
    assert (u.epoch, u.index) == (4, 2)
    assert float(u.phi @ u.w_before + u.b_before) == pytest.approx(-2.8e-17, abs=1e-18)
    assert u.score == 0.0 and u.prediction == 0.0 and u.decision == "too_high" and u.mistake


def test_delta_rule_at_eta_1_is_diverged_with_the_bound_it_broke():
    """η = 1 on AND: every step on the corner (1, 1) overshoots (1 − η·‖(1, 1, 1)‖² = −2), the
    squared error grows epoch after epoch; the run stops as diverged, long before overflow."""
    for gate in ("gate_and", "gate_or", "gate_xor"):
        p = run_on(gate, rule="adaline", lr=1.0, max_epochs=1000)
        assert p.status == "diverged", (gate, p.status, len(p.mistakes_per_epoch))
        assert len(p.mistakes_per_epoch) <= 12
        assert np.all(np.isfinite(p.w)) and np.max(np.abs(p.w)) < 1e3
    assert perceptron.stable_rate(featurize(make_data("gate_and")[0], ["x1", "x2"])) == pytest.approx(2 / 3)


def test_delta_rule_converged_means_the_final_line_separates():
    """The delta rule moves the weights on correct examples too: an epoch without a mistake
    only counts as converged when the epoch's final weights classify every example. XOR,
    shuffled, never converges whatever η."""
    for lr in (0.05, 0.3, 1.0):
        p = run_on("gate_xor", rule="adaline", lr=lr, shuffle=True, seed=0, max_epochs=200)
        assert p.status != "converged" and p.separable_verdict != "separable", lr
    p = run_on("gate_and", rule="adaline", lr=0.1)
    X, y = make_data("gate_and")
    assert p.status == "converged" and np.all(y * p.scores(featurize(X, ["x1", "x2"])) > 0)


def test_stable_delta_rule_runs_are_not_called_diverged():
    # A small η converges slowly; random initial weights start with a large error that falls.
    for kw in ({"lr": 0.01}, {"lr": 0.05, "init": "random", "seed": 3}, {"lr": 0.3, "shuffle": True}):
        assert run_on("gate_and", rule="adaline", **kw).status == "converged", kw
    X, y = make_data("separable", 60, 0.0, 0)
    Phi = featurize(X, ["x1", "x2"])
    p = Perceptron(Phi, y, rule="adaline", lr=0.5 * perceptron.stable_rate(Phi), max_epochs=300)
    p.run()
    assert p.status in ("converged", "epoch_limit")


def test_api_delta_rule_defaults_and_names(client):
    # The README's name `delta` is the delta rule too; without lr it takes the rule's own η.
    body = client.post("/api/v1/perceptron/run", json={"dataset": "gate_and", "rule": "delta"}).json()
    assert body["config"]["rule"] == "adaline" and body["config"]["lr"] == 0.1
    assert body["status"] == "converged"
    body = client.post("/api/v1/perceptron/run", json={"dataset": "gate_and"}).json()
    assert body["config"]["lr"] == 1.0 and body["config"]["rule"] == "perceptron"
    body = client.post("/api/v1/perceptron/run", json={"dataset": "gate_and", "rule": "adaline",
                                                       "lr": 1, "max_epochs": 1000}).json()
    assert body["status"] == "diverged" and body["epochs_run"] <= 12
    assert "0.667" in body["message"] and "η = 1" in body["message"]
    # a session switching the rule takes the new rule's η unless η was set apart from the default
    sid = client.post("/api/v1/perceptron/sessions", json={"dataset": "gate_and"}).json()["id"]
    url = f"/api/v1/perceptron/sessions/{sid}"
    assert client.patch(url, json={"rule": "delta"}).json()["config"]["lr"] == 0.1
    client.patch(url, json={"rule": "perceptron", "lr": 0.5})
    assert client.patch(url, json={"rule": "adaline"}).json()["config"]["lr"] == 0.5
