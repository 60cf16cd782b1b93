"""The optimizer lab's API: stateless paths, compact surface grids, sessions and the stream,
and bad input answered with a clear 4xx (never a 500, never NaN in JSON)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from app.labs.optimizers.session import round_significant
from engine import paths, surfaces
from tests.streams import until

API = "/api/v1/optimizers"


def strict_json(text: str):
    """Parse JSON, failing on NaN / Infinity (which browsers reject)."""
    def refuse(name):
        raise AssertionError(f"{name} in JSON")
    return json.loads(text, parse_constant=refuse)


def race(**kw):
    body = {"surface": "ravine", "optimizers": [{"name": "gd", "lr": 0.1}]}
    body.update(kw)
    return body




# ---- POST /paths ----------------------------------------------------------------------

def test_paths_first_step_and_stop_reason(client):
    r = client.post(f"{API}/paths", json=race(starts=[[-1.8, 1.0]], surface_params={"condition": 10}))
    assert r.status_code == 200
    data = strict_json(r.text)
    run = data["runs"][0]
    # θ₁ = θ₀ − 0.1 (x, 10 y) = (−1.62, 0), f = 1.62²/2 (worked out in test_optimizers)
    assert run["path"][0] == [-1.8, 1.0] and run["path"][1] == pytest.approx([-1.62, 0.0])
    assert run["losses"][1] == pytest.approx(1.3122)
    assert run["stop_reason"] == "gradient_norm" and run["iterations"][-1] == run["steps"]
    assert data["surface"]["minima"] == [[0.0, 0.0]]


def test_many_optimizers_times_starts_in_one_call(client):
    kinds = ["gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
    body = race(surface="bowl", starts=[[1, 1], [-1, 0.5]],
                optimizers=[{"name": k, "lr": 0.05} for k in kinds], stop={"max_iterations": 50})
    data = strict_json(client.post(f"{API}/paths", json=body).text)
    assert len(data["runs"]) == 14
    order = [(r["optimizer"], r["start_index"]) for r in data["runs"][:3]]
    assert order == [("gd", 0), ("gd", 1), ("sgd", 0)]
    assert data["runs"][1]["path"][0] == [-1, 0.5]


def test_diverging_run_is_reported_and_json_stays_finite(client):
    body = race(optimizers=[{"name": "gd", "lr": 0.21}, {"name": "gd", "lr": 5.0}],
                stop={"max_iterations": 2000}, include_internals=True)
    r = client.post(f"{API}/paths", json=body)
    assert r.status_code == 200
    data = strict_json(r.text)
    for run in data["runs"]:
        assert run["stop_reason"] == "diverged"
        assert all(v is not None for p in run["path"] for v in p)
        assert len(run["internals"]["grad"]) == len(run["path"])


def test_internals_and_schedule_and_labels(client):
    body = race(surface="bowl", starts=[[1, -2]],
                optimizers=[{"name": "adagrad", "lr": 0.5, "label": "ada"},
                            {"name": "gd", "lr": 0.1, "schedule": "step",
                             "schedule_params": {"step_size": 1, "gamma": 0.5}}],
                stop={"max_iterations": 3, "grad_tol": 0}, include_internals=True)
    data = strict_json(client.post(f"{API}/paths", json=body).text)
    ada, gd = data["runs"]
    assert ada["label"] == "ada"
    assert ada["internals"]["scale"][0] == [None, None]  # nothing accumulated yet
    assert ada["internals"]["scale"][1] == pytest.approx([0.25, 0.125])  # 0.5 / |g|, g = (2, −4)
    assert ada["internals"]["velocity"][1] == [None, None]
    # γ = 0.1, 0.05, 0.025: x ← x (1 − 2γ) = 1 · 0.8 · 0.9 · 0.95
    assert gd["path"][-1][0] == pytest.approx(0.8 * 0.9 * 0.95)


def test_max_points_thins_paths_but_keeps_the_end(client):
    body = race(surface="rosenbrock", optimizers=[{"name": "gd", "lr": 0.001}],
                stop={"max_iterations": 3000}, max_points=50)
    run = strict_json(client.post(f"{API}/paths", json=body).text)["runs"][0]
    assert len(run["path"]) == 50 and run["iterations"][-1] == 3000 == run["steps"]


def test_real_loss_surface_reports_validation_and_early_stopping(client):
    sgd = {"name": "sgd", "lr": 0.5, "hyperparameters": {"batch_size": 4}}
    body = race(surface="logistic", optimizers=[{"name": "gd", "lr": 0.5}, sgd],
                stop={"max_iterations": 3000, "patience": 100}, seed=1)
    data = strict_json(client.post(f"{API}/paths", json=body).text)
    gd = data["runs"][0]
    assert gd["stop_reason"] == "early_stopping" and gd["steps"] == gd["best_step"] + 100
    assert len(gd["val_losses"]) == len(gd["losses"])
    assert data["surface"]["has_validation"] is True
    again = strict_json(client.post(f"{API}/paths", json=body).text)
    assert again["runs"][1]["path"] == data["runs"][1]["path"]  # same seed, same noise


# ---- GET /surfaces --------------------------------------------------------------------

def test_surface_grid_is_compact_uint16(client):
    r = client.get(f"{API}/surfaces/rosenbrock?res=100")
    assert r.status_code == 200
    d = strict_json(r.text)
    g = d["grid"]
    assert g["dtype"] == "uint16" and g["shape"] == [100, 100]
    assert len(base64.b64decode(g["data"])) == 100 * 100 * 2
    assert len(r.content) < 40_000
    assert d["scale"] == "log" and d["minima"] == [[1.0, 1.0]]
    # Rebuild the values: f = 10^q + offset; f(−2, −1) = 9 + 100·25 = 2509 (grid corner).
    q = np.frombuffer(base64.b64decode(g["data"]), dtype="<u2").reshape(100, 100)
    lo, hi = g["range"]
    f = 10 ** (lo + q / 65535 * (hi - lo)) + d["offset"]
    assert f[0, 0] == pytest.approx(2509, rel=1e-3)


def test_surface_parameters_in_the_query(client):
    d = client.get(f"{API}/surfaces/ravine?res=20&condition=50").json()
    assert d["params"] == {"condition": 50.0} and d["grid"]["shape"] == [20, 20]
    lin = client.get(f"{API}/surfaces/saddle?res=10").json()
    assert lin["scale"] == "linear" and lin["saddles"] == [[0.0, 0.0]]


def test_surface_list(client):
    d = client.get(f"{API}/surfaces").json()
    assert {s["name"] for s in d["surfaces"]} >= {"bowl", "ravine", "rosenbrock", "beale", "himmelblau",
                                                   "saddle", "camel", "plateau", "logistic"}
    assert d["optimizers"]["adam"]["beta1"] == 0.9 and d["optimizers"]["sgd"]["batch_size"] == 10


# ---- bad input ------------------------------------------------------------------------

@pytest.mark.parametrize("body, says", [
    (race(surface="nope"), "ravine"),
    (race(optimizers=[{"name": "gd", "lr": -0.1}]), "greater than 0"),
    (race(optimizers=[{"name": "lion", "lr": 0.1}]), "adam"),
    (race(optimizers=[{"name": "adam", "lr": 0.1, "hyperparameters": {"momentum": 0.9}}]), "beta1"),
    (race(optimizers=[{"name": "adam", "lr": 0.1, "hyperparameters": {"beta2": 1.5}}]), "beta2"),
    (race(optimizers=[{"name": "gd", "lr": 0.1, "schedule": "cosine",
                       "schedule_params": {"gamma": 1}}]), "T_max"),
    (race(optimizers=[]), "at least 1"),
    (race(surface_params={"condition": 0}), "condition"),
    (race(surface_params={"kappa": 3}), "condition"),
    (race(stop={"max_iterations": 10**9}), "NP_MAX_OPTIMIZER_ITERATIONS"),
    (race(stop={"grad_tol": -1}), "grad_tol"),
    (race(starts=[[0, 0, 0]]), "starts"),
    (race(extra=1), "extra"),
])
def test_bad_input_is_a_clear_422(client, body, says):
    r = client.post(f"{API}/paths", json=body)
    assert r.status_code == 422, r.text
    assert says in r.text


def test_limits_from_settings(limited_client):
    body = race(optimizers=[{"name": "gd", "lr": 0.1}] * 5)  # 5 runs > 4
    r = limited_client.post(f"{API}/paths", json=body)
    assert r.status_code == 422 and "NP_MAX_OPTIMIZER_RUNS" in r.text
    r = limited_client.post(f"{API}/paths", json=race(stop={"max_iterations": 101}))
    assert r.status_code == 422 and "NP_MAX_OPTIMIZER_ITERATIONS" in r.text
    r = limited_client.get(f"{API}/surfaces/bowl?res=41")
    assert r.status_code == 422 and "NP_MAX_GRID" in r.text


def test_bad_surface_queries(client):
    assert client.get(f"{API}/surfaces/nope").status_code == 422
    r = client.get(f"{API}/surfaces/ravine?condition=abc")
    assert r.status_code == 422 and "condition" in r.text
    r = client.get(f"{API}/surfaces/bowl?condition=3")
    assert r.status_code == 422 and "no parameter" in r.text


# ---- sessions and the stream ------------------------------------------------------------

def test_session_rest_lifecycle(client):
    r = client.post(f"{API}/sessions", json=race(surface="bowl", starts=[[1, 1]]))
    assert r.status_code == 201
    sid = r.json()["id"]
    assert r.json()["iterations"] == 0 and r.json()["runs"][0]["path"] == [[1, 1]]
    d = client.post(f"{API}/sessions/{sid}/step", json={"steps": 2}).json()
    assert d["iterations"] == 2 and d["runs"][0]["path"][1] == pytest.approx([0.8, 0.8])
    d = client.patch(f"{API}/sessions/{sid}", json={"surface": "ravine", "starts": [[-1, 1]]}).json()
    assert d["reset"] is True and d["iterations"] == 0 and d["config"]["surface"] == "ravine"
    r = client.patch(f"{API}/sessions/{sid}", json={"optimizers": [{"name": "gd", "lr": -1}]})
    assert r.status_code == 422 and "lr" in r.text
    assert client.post(f"{API}/sessions/{sid}/reset").json()["iterations"] == 0
    assert client.get(f"{API}/sessions/{sid}").status_code == 200
    assert client.delete(f"{API}/sessions/{sid}").status_code == 204
    r = client.get(f"{API}/sessions/{sid}")
    assert r.status_code == 404 and "create a new one" in r.text


def test_stream_frames_commands_and_a_malformed_message(client):
    sid = client.post(f"{API}/sessions", json=race(surface="bowl", starts=[[1, 1]],
                                                    stop={"max_iterations": 40})).json()["id"]
    with client.websocket_connect(f"{API}/sessions/{sid}/stream") as ws:
        config = until(ws, "config")
        assert config["config"]["surface"]["name"] == "bowl"
        first = until(ws, "frame")
        assert first["step"] == 0 and first["from"] == -1
        assert first["runs"][0]["path"] == [[1, 1]] and first["runs"][0]["stop_reason"] is None
        ws.send_json({"type": "step", "n": 3})
        f = until(ws, "frame")
        assert f["from"] == 0 and f["step"] == 3 and f["runs"][0]["iterations"] == [1, 2, 3]
        assert f["runs"][0]["path"][-1] == pytest.approx([0.512, 0.512])  # 0.8³
        ws.send_text("not json")
        assert "bad command" in until(ws, "error")["message"]
        ws.send_json({"type": "set", "params": {"optimizers": [{"name": "adam", "lr": -1}]}})
        assert "lr" in until(ws, "error")["message"]
        ws.send_json({"type": "set", "params": {"optimizers": [{"name": "adam", "lr": 0.1}]}})
        msg = until(ws, "config")
        assert msg["reset"] is True and msg["config"]["config"]["optimizers"][0]["name"] == "adam"
        f = until(ws, "frame")
        assert f["from"] == -1 and f["step"] == 0
        ws.send_json({"type": "speed", "steps_per_frame": 10})
        ws.send_json({"type": "play"})
        # The last frame and the "done" status may arrive in either order (control messages
        # are sent before a pending frame): read until both were seen.
        last_frame, done_status = None, None
        for _ in range(500):
            msg = ws.receive_json()
            if msg["type"] == "frame" and msg["done"]:
                last_frame = msg
            elif msg["type"] == "status" and msg["done"]:
                done_status = msg
            if last_frame and done_status:
                break
        assert last_frame and done_status
        assert last_frame["runs"][0]["stop_reason"] == "max_iterations" and last_frame["step"] == 40


def test_stream_unknown_session_is_refused(client):
    with client.websocket_connect(f"{API}/sessions/nope/stream") as ws:
        assert ws.receive_json()["type"] == "error"


def test_page_renders_with_params_and_preset(client):
    r = client.get("/labs/optimizers?surface=rosenbrock")
    assert r.status_code == 200
    assert 'id="lab-params"' in r.text and "rosenbrock" in r.text
    assert 'src="/static/js/optimizers/lab.js"' in r.text
    r = client.get("/labs/optimizers?preset=momentum-on-ravine")
    assert r.status_code == 200 and "momentum" in r.text


def test_rounding_keeps_every_finite_number_finite():
    from app.labs.optimizers.session import rounded

    values = np.array([1e-310, -2.5e-320, 5e-324, 1e-303, 1.23456789e-300, 0.0, -0.0, 1.23456789e300,
                       np.finfo(float).max, -np.finfo(float).max, 123.456789, np.nan, np.inf])
    out = rounded(values)
    assert out[-2:] == [None, None]
    for v, r in zip(values[:-2], out[:-2], strict=True):
        assert isinstance(r, float) and np.isfinite(r)
        assert r == pytest.approx(v, rel=1e-5, abs=0)  # six significant digits
    assert out[10] == 123.457 and out[4] == 1.23457e-300
    assert rounded(1e-305) == 1e-305 and rounded(np.float64(-3e-320)) == -3e-320
    assert rounded({"a": [np.array([1e-308])]}) == {"a": [[1e-308]]}


def test_tiny_losses_near_a_minimum_stay_numbers(client):
    # GD on the bowl with no gradient tolerance: θ halves its distance to 0 each update
    # (lr 0.25: θ ← θ − 0.25·2θ = θ/2), so f = ‖θ‖² falls below 1e-303 after ~500 updates.
    body = race(surface="bowl", optimizers=[{"name": "gd", "lr": 0.25}],
                stop={"max_iterations": 1200, "grad_tol": 0})
    r = client.post(f"{API}/paths", json={**body, "max_points": 2000})
    assert r.status_code == 200
    losses = strict_json(r.text)["runs"][0]["losses"]
    assert len(losses) == 1201 and all(isinstance(v, float) for v in losses)
    assert losses[-1] == 0.0 and min(v for v in losses if v > 0) < 1e-303


# ---- work budgets -----------------------------------------------------------------------
# Work = Σ over runs of iterations × (1 + data points one update evaluates / 64): one unit is an
# update of one run on an analytic surface. On the 40-point real-loss surface an update reads
# 20 training + 20 validation points (+ the mini-batch for sgd, at most the 20 training points).


@pytest.fixture
def budget_client(client_with):
    return client_with(max_optimizer_work=1000, max_optimizer_points=500)


def test_work_budget_refuses_races_past_it(budget_client):
    c = budget_client
    gd = {"name": "gd", "lr": 0.1}
    body = race(optimizers=[gd] * 4, stop={"max_iterations": 250, "grad_tol": 0}, max_points=100)
    r = c.post(f"{API}/paths", json=body)
    assert r.status_code == 200  # 4 × 250 × 1 = 1000: at the limit
    body["stop"]["max_iterations"] = 251
    r = c.post(f"{API}/paths", json=body)
    assert r.status_code == 422 and "NP_MAX_OPTIMIZER_WORK" in r.text and "1004" in r.text, r.text
    # sgd on the real loss with a huge batch: the batch counts as the 20 training points,
    # 1 + (40 + 20)/64 = 1.9375 per update: 516 updates fit, 517 do not.
    sgd = {"name": "sgd", "lr": 0.5, "hyperparameters": {"batch_size": 10_000}}
    body = race(surface="logistic", optimizers=[sgd], stop={"max_iterations": 516, "grad_tol": 0},
                max_points=100)
    r = c.post(f"{API}/paths", json=body)
    assert r.status_code == 200, r.text
    body["stop"]["max_iterations"] = 517
    r = c.post(f"{API}/paths", json=body)
    assert r.status_code == 422 and "NP_MAX_OPTIMIZER_WORK" in r.text
    # recording the internals counts twice: 2 × 250 × 2 = 1000 fits, 2 × 251 × 2 = 1004 does not
    body = race(optimizers=[gd] * 2, stop={"max_iterations": 250}, max_points=100, include_internals=True)
    assert c.post(f"{API}/paths", json=body).status_code == 200
    body["stop"]["max_iterations"] = 251
    r = c.post(f"{API}/paths", json=body)
    assert r.status_code == 422 and "NP_MAX_OPTIMIZER_WORK" in r.text and "1004" in r.text


def test_points_budget_counts_the_points_a_path_can_have(budget_client):
    c = budget_client
    gd = {"name": "gd", "lr": 0.01}
    # 2 runs × min(max_points 300, 200 + 1) = 402 ≤ 500
    body = race(optimizers=[gd] * 2, stop={"max_iterations": 200, "grad_tol": 0}, max_points=300,
                include_internals=True)
    assert c.post(f"{API}/paths", json=body).status_code == 200
    body["stop"]["max_iterations"] = 400  # 2 × 300 = 600 > 500 (work 2 × 400 = 800 fits)
    body["include_internals"] = False
    r = c.post(f"{API}/paths", json=body)
    assert r.status_code == 422 and "NP_MAX_OPTIMIZER_POINTS" in r.text and "600" in r.text, r.text
    # reading a session back asks for points too
    sid = c.post(f"{API}/sessions", json=race(optimizers=[gd] * 2, stop={"max_iterations": 400})).json()["id"]
    assert c.get(f"{API}/sessions/{sid}?max_points=250").status_code == 200
    r = c.get(f"{API}/sessions/{sid}?max_points=251")
    assert r.status_code == 422 and "NP_MAX_OPTIMIZER_POINTS" in r.text
    r = c.post(f"{API}/sessions/{sid}/step", json={"steps": 5, "max_points": 2000})
    assert r.status_code == 422 and "NP_MAX_OPTIMIZER_POINTS" in r.text


def test_work_budget_for_sessions_patch_and_stream(budget_client):
    c = budget_client
    gd = {"name": "gd", "lr": 0.1}
    r = c.post(f"{API}/sessions", json=race(optimizers=[gd] * 3, stop={"max_iterations": 400}))
    assert r.status_code == 422 and "NP_MAX_OPTIMIZER_WORK" in r.text
    r = c.post(f"{API}/sessions", json=race(optimizers=[gd] * 2, stop={"max_iterations": 400}))
    assert r.status_code == 201
    sid = r.json()["id"]
    r = c.patch(f"{API}/sessions/{sid}", json={"optimizers": [gd] * 3})
    assert r.status_code == 422 and "NP_MAX_OPTIMIZER_WORK" in r.text
    assert len(c.get(f"{API}/sessions/{sid}?max_points=10").json()["runs"]) == 2  # unchanged
    with c.websocket_connect(f"{API}/sessions/{sid}/stream") as ws:
        until(ws, "frame")
        ws.send_json({"type": "set", "params": {"stop": {"max_iterations": 501}}})
        msg = until(ws, "error")
        assert "NP_MAX_OPTIMIZER_WORK" in msg["message"]


def test_every_preset_fits_the_default_budgets():
    from app import presets
    from app.labs.optimizers.session import RaceIn
    from app.settings import Settings

    settings = Settings()
    found = 0
    for p in presets.for_lab("optimizers"):
        params = dict(p["params"]) if "params" in p else {}
        body = {k: params[k] for k in ("surface", "starts", "optimizers", "seed") if k in params}
        if isinstance(params.get("surface_params"), str):
            body["surface_params"] = json.loads(params["surface_params"])
        body["stop"] = {"max_iterations": int(params.get("max_iterations", 500))}
        RaceIn(**body).check_limits(settings)
        found += 1
    assert found >= 2


# ---- precision -------------------------------------------------------------------------------

def test_paths_in_full_precision_match_the_engine_to_the_last_bit(client):
    body = race(starts=[[-1.8, 1.0]], optimizers=[{"name": "adam", "lr": 0.05}], stop={"max_iterations": 30})
    shown = client.post(f"{API}/paths", json=body).json()["runs"][0]
    full = client.post(f"{API}/paths", json={**body, "precision": "full"}).json()["runs"][0]
    s = surfaces.make("ravine")
    ref = paths.run(s, [paths.RunSpec("adam", (-1.8, 1.0), 0.05)], paths.StopRules(30, grad_tol=1e-6))
    exact = ref.run_history(0, "path")
    assert np.array_equal(np.array(full["path"]), exact)  # float64 as computed
    assert np.array_equal(np.array(shown["path"]), round_significant(exact))  # 6 significant digits
    assert not np.array_equal(np.array(shown["path"]), exact)
    sid = client.post(f"{API}/sessions", json=body).json()["id"]
    client.post(f"{API}/sessions/{sid}/step", json={"steps": 30})
    got = client.get(f"{API}/sessions/{sid}", params={"precision": "full"}).json()["runs"][0]
    assert np.array_equal(np.array(got["path"]), exact)
    stepped = client.post(f"{API}/sessions/{sid}/step", json={"steps": 1, "precision": "full"}).json()
    assert stepped["runs"][0]["path"][: len(exact)] == exact.tolist()
    assert "6 significant digits" in str(client.get("/openapi.json").json())
