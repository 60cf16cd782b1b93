"""Optimizers (engine/optimizers.py, shared with the MLP lab) checked step by step against
torch.optim's documented formulas, worked by hand below; then races of many optimizers ×
start points (engine/paths.py): vectorized = one run at a time, stopping rules, divergence.

The worked examples start at θ₀ = (1, −2) and feed two fixed gradients g₁ = (0.5, −1) and
g₂ = (0.2, 0.4), so every number can be followed on paper.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import optimizers, paths, surfaces

THETA0 = [1.0, -2.0]
G1 = np.array([0.5, -1.0])
G2 = np.array([0.2, 0.4])


def two_steps(name: str, **hp) -> tuple[np.ndarray, np.ndarray, optimizers.Optimizer]:
    p = np.array(THETA0)
    opt = optimizers.make(name, [p], **hp)
    opt.step([G1.copy()])
    first = p.copy()
    opt.step([G2.copy()])
    return first, p.copy(), opt


def test_sgd_by_hand():
    # θ ← θ − γ g
    first, second, _ = two_steps("sgd", lr=0.1)
    assert_allclose(first, [0.95, -1.9])
    assert_allclose(second, [0.93, -1.94])


def test_sgd_weight_decay_by_hand():
    # g ← g + λθ: g₁ = (0.5 + 0.1·1, −1 + 0.1·(−2)) = (0.6, −1.2); θ₁ = (0.94, −1.88)
    first, _, _ = two_steps("sgd", lr=0.1, weight_decay=0.1)
    assert_allclose(first, [0.94, -1.88])


def test_momentum_by_hand():
    # b₁ = g₁ = (0.5, −1); θ₁ = (0.95, −1.9)
    # b₂ = 0.9 b₁ + g₂ = (0.65, −0.5); θ₂ = θ₁ − 0.1 b₂ = (0.885, −1.85)
    first, second, opt = two_steps("momentum", lr=0.1, momentum=0.9)
    assert_allclose(first, [0.95, -1.9])
    assert_allclose(second, [0.885, -1.85])
    assert_allclose(opt.state[0]["momentum_buffer"], [0.65, -0.5])


def test_momentum_dampening_by_hand():
    # torch: the first buffer is g₁ undamped; then b₂ = 0.9 b₁ + (1 − 0.5) g₂ = (0.55, −0.7)
    _, second, _ = two_steps("momentum", lr=0.1, momentum=0.9, dampening=0.5)
    assert_allclose(second, [0.95 - 0.055, -1.9 + 0.07])


def test_nesterov_by_hand():
    # b₁ = g₁; step₁ = g₁ + 0.9 b₁ = (0.95, −1.9); θ₁ = (0.905, −1.81)
    # b₂ = (0.65, −0.5); step₂ = g₂ + 0.9 b₂ = (0.785, −0.05); θ₂ = (0.8265, −1.805)
    first, second, _ = two_steps("nesterov", lr=0.1, momentum=0.9)
    assert_allclose(first, [0.905, -1.81])
    assert_allclose(second, [0.8265, -1.805])


def test_adagrad_by_hand():
    # s₁ = g₁² = (0.25, 1); θ₁ = θ₀ − 0.1 g₁ / √s₁ = (0.9, −1.9)
    # s₂ = (0.29, 1.16); θ₂ = θ₁ − 0.1 g₂ / √s₂
    first, second, opt = two_steps("adagrad", lr=0.1)
    assert_allclose(first, [0.9, -1.9])
    assert_allclose(second, [0.9 - 0.1 * 0.2 / math.sqrt(0.29), -1.9 - 0.1 * 0.4 / math.sqrt(1.16)])
    assert_allclose(opt.state[0]["sum"], [0.29, 1.16])


def test_adagrad_lr_decay_and_initial_accumulator_by_hand():
    # γ̃₂ = 0.1 / (1 + 1 · 0.5); with s₀ = 1: s₁ = (1.25, 2), s₂ = (1.29, 2.16)
    first, second, _ = two_steps("adagrad", lr=0.1, lr_decay=0.5, initial_accumulator_value=1.0)
    assert_allclose(first, [1 - 0.1 * 0.5 / math.sqrt(1.25), -2 + 0.1 / math.sqrt(2)])
    lr2 = 0.1 / 1.5
    assert_allclose(second, first - lr2 * G2 / np.sqrt([1.29, 2.16]))


def test_rmsprop_by_hand():
    # v₁ = 0.01 g₁² = (0.0025, 0.01); √v₁ = (0.05, 0.1); θ₁ = θ₀ − 0.01 (10, −10) = (0.9, −1.9)
    # v₂ = 0.99 v₁ + 0.01 g₂² = (0.002875, 0.0115)
    first, second, opt = two_steps("rmsprop", lr=0.01)
    assert_allclose(first, [0.9, -1.9], rtol=1e-6)
    assert_allclose(opt.state[0]["square_avg"], [0.002875, 0.0115])
    assert_allclose(second, first - 0.01 * G2 / np.sqrt([0.002875, 0.0115]), rtol=1e-6)


def test_rmsprop_centered_and_momentum_by_hand():
    # centered: ḡ₁ = 0.01 g₁ = (0.005, −0.01); v̂ = v₁ − ḡ₁² = (0.0025 − 0.000025, 0.01 − 0.0001)
    first, _, _ = two_steps("rmsprop", lr=0.01, centered=True)
    assert_allclose(first, np.array(THETA0) - 0.01 * G1 / np.sqrt([0.002475, 0.0099]), rtol=1e-6)
    # momentum 0.5: b₁ = g₁/√v₁ = (10, −10); b₂ = 0.5 b₁ + g₂/√v₂
    first, second, _ = two_steps("rmsprop", lr=0.01, momentum=0.5)
    b2 = 0.5 * np.array([10.0, -10.0]) + G2 / np.sqrt([0.002875, 0.0115])
    assert_allclose(second, first - 0.01 * b2, rtol=1e-6)


def test_adam_by_hand():
    # t = 1: m̂ = g₁, v̂ = g₁², the step is γ·sign(g₁): θ₁ = (0.9, −1.9)
    # t = 2: m₂ = 0.9·0.1 g₁ + 0.1 g₂ = (0.065, −0.05)
    #        v₂ = 0.999·0.001 g₁² + 0.001 g₂² = (0.00028975, 0.001159)
    #        θ₂ = θ₁ − 0.1 (m₂ / 0.19) / (√(v₂ / 0.001999) + ε)
    first, second, opt = two_steps("adam", lr=0.1)
    assert_allclose(first, [0.9, -1.9], rtol=1e-7)
    assert_allclose(opt.state[0]["exp_avg"], [0.065, -0.05])
    assert_allclose(opt.state[0]["exp_avg_sq"], [0.00028975, 0.001159])
    m_hat = np.array([0.065, -0.05]) / 0.19
    v_hat = np.array([0.00028975, 0.001159]) / 0.001999
    assert_allclose(second, first - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8), rtol=1e-9)


def test_adam_amsgrad_uses_the_largest_second_moment():
    # With g₂ = 0 after g₁, v shrinks; AMSGrad keeps max(v₁, v₂) = v₁ = 0.001 g₁².
    p = np.array(THETA0)
    opt = optimizers.make("adam", [p], lr=0.1, amsgrad=True)
    opt.step([G1.copy()])
    first = p.copy()
    opt.step([np.zeros(2)])
    v_hat = 0.001 * G1**2 / 0.001999
    m_hat = 0.09 * G1 / 0.19
    assert_allclose(p, first - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8), rtol=1e-9)


@pytest.mark.parametrize("name", sorted(optimizers.OPTIMIZERS))
def test_array_learning_rate_is_a_sweep(name):
    # One optimizer over a (3, 2) block with lr of shape (3, 1) = three separate optimizers.
    lrs = np.array([[0.01], [0.05], [0.2]])
    starts = np.array([[1.0, -2.0], [0.5, 0.5], [-1.0, 1.5]])
    P = starts.copy()
    opt = optimizers.make(name, [P], lr=lrs)
    singles = [(starts[i:i + 1].copy(), i) for i in range(3)]
    single_opts = [optimizers.make(name, [p], lr=float(lrs[i, 0])) for p, i in singles]
    for _ in range(5):
        opt.step([2 * P])  # the bowl's gradient
        for (p, _), o in zip(singles, single_opts, strict=True):
            o.step([2 * p])
    assert_allclose(P, np.vstack([p for p, _ in singles]), rtol=1e-12)


def test_make_refuses_unknown_names_and_hyperparameters():
    with pytest.raises(KeyError, match="unknown optimizer"):
        optimizers.make("lion", [np.zeros(2)])
    with pytest.raises(KeyError, match="momentum"):
        optimizers.make("adam", [np.zeros(2)], momentum=0.9)


def test_set_keeps_state():
    p = np.array(THETA0)
    opt = optimizers.make("momentum", [p], lr=0.1, momentum=0.9)
    opt.step([G1.copy()])
    opt.set(lr=0.2)
    opt.step([G2.copy()])
    assert_allclose(p, [0.95 - 0.2 * 0.65, -1.9 + 0.2 * 0.5])


# ---- races: many optimizers × start points -------------------------------------------------

def spec(kind: str, start=(-1.8, 1.0), lr=0.1, **hp) -> paths.RunSpec:
    return paths.RunSpec(kind, start, lr, tuple(sorted(hp.items())))


def test_race_first_step_by_hand():
    # GD on the ravine (κ = 10) from (−1.8, 1): ∇f = (x, 10 y) = (−1.8, 10);
    # θ₁ = (−1.8 + 0.18, 1 − 1) = (−1.62, 0); f(θ₁) = 1.62² / 2 = 1.3122
    race = paths.Race(surfaces.make("ravine", condition=10), [spec("gd", lr=0.1)])
    race.step(1)
    assert_allclose(race.run_history(0, "path"), [[-1.8, 1.0], [-1.62, 0.0]], atol=1e-15)
    assert race.run_history(0, "loss")[1] == pytest.approx(1.3122)


DETERMINISTIC = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def test_vectorized_race_equals_one_run_at_a_time():
    s = surfaces.make("rosenbrock")
    starts = [(-1.5, 2.0), (0.0, 0.0), (1.5, -0.5)]
    runs = [spec(k, st, lr) for k in DETERMINISTIC for st in starts for lr in (0.0005, 0.001)]
    stop = paths.StopRules(max_iterations=200)
    together = paths.run(s, runs, stop)
    for i, r in enumerate(runs):
        alone = paths.run(s, [r], stop)
        assert_allclose(together.run_history(i, "path"), alone.run_history(0, "path"), rtol=1e-12)
        assert together.status(i)["stop_reason"] == alone.status(0)["stop_reason"]


def test_internals_after_one_step_by_hand():
    # Bowl from (1, −2): g = (2, −4). AdaGrad lr 0.5: s = g², scale = 0.5 / (|g| + ε);
    # Adam: m̂ = g, v̂ = g², scale = 0.1 / (|g| + ε); momentum: b = g.
    s = surfaces.make("bowl")
    race = paths.Race(s, [spec("adagrad", (1, -2), 0.5), spec("adam", (1, -2), 0.1),
                          spec("momentum", (1, -2), 0.1), spec("gd", (1, -2), 0.1)], record_internals=True)
    race.step(1)
    a, m, b, g = (race.run_history(i, k)[1]
                  for i, k in [(0, "scale"), (1, "velocity"), (2, "velocity"), (3, "velocity")])
    assert_allclose(a, [0.25, 0.125])
    assert_allclose(race.run_history(0, "accumulator")[1], [4.0, 16.0])
    assert_allclose(m, [2.0, -4.0])
    assert_allclose(race.run_history(1, "scale")[1], [0.05, 0.025], rtol=1e-7)
    assert_allclose(b, [2.0, -4.0])
    assert np.all(np.isnan(g))  # GD has no velocity
    # The gradient recorded at each point is ∇f there: (0.5, −1) after AdaGrad's first step.
    assert_allclose(race.run_history(0, "path")[1], [0.5, -1.5])
    assert_allclose(race.run_history(0, "grad")[1], [1.0, -3.0])


def test_adam_reaches_the_bowl_minimum():
    race = paths.run(surfaces.make("bowl"), [spec("adam", (1.5, -1.0), 0.1)],
                     paths.StopRules(max_iterations=5000, grad_tol=1e-6))
    st = race.status(0)
    assert st["stop_reason"] == "gradient_norm"
    assert_allclose(st["point"], [0, 0], atol=1e-6)


def test_gd_with_a_small_step_follows_rosenbrocks_valley_to_1_1():
    race = paths.run(surfaces.make("rosenbrock"), [spec("gd", (-1.5, 2.0), 0.001)],
                     paths.StopRules(max_iterations=20_000, grad_tol=1e-8))
    path = race.run_history(0, "path")
    loss = race.run_history(0, "loss")
    assert np.linalg.norm(path[-1] - [1, 1]) < 1e-3
    assert np.all(np.diff(loss) <= 1e-12)  # a small enough step never goes uphill
    # Half-way it is already in the curved valley (y ≈ x²), still far from (1, 1).
    mid = path[len(path) // 10]
    assert abs(mid[1] - mid[0] ** 2) < 0.1 and np.linalg.norm(mid - [1, 1]) > 0.1


def test_too_large_a_step_is_reported_diverged_not_raised():
    # GD on the ravine diverges for γ > 2/κ = 0.2: the y-coordinate is multiplied by 1 − 10γ.
    race = paths.run(surfaces.make("ravine", condition=10), [spec("gd", lr=0.21), spec("gd", lr=0.19)],
                     paths.StopRules(max_iterations=2000, grad_tol=1e-6))
    bad, good = race.status(0), race.status(1)
    assert bad["stop_reason"] == "diverged" and good["stop_reason"] == "gradient_norm"
    path = race.run_history(0, "path")
    assert np.all(np.isfinite(path)) and len(path) == bad["steps"] + 1
    # y flips sign every step and grows by |1 − 2.1| = 1.1
    ys = path[1:6, 1]
    assert_allclose(ys[1:] / ys[:-1], -1.1, rtol=1e-9)


def test_divergence_to_infinity_keeps_the_last_finite_point():
    # Rosenbrock with a huge step overflows to inf within a few steps.
    race = paths.run(surfaces.make("rosenbrock"), [spec("gd", (-1.5, 2.0), 0.5)],
                     paths.StopRules(max_iterations=100, grad_tol=0, diverge_bound=1e300))
    st = race.status(0)
    assert st["stop_reason"] == "diverged"
    assert np.all(np.isfinite(race.run_history(0, "path")))
    assert math.isfinite(st["loss"])


def test_stopping_rules_and_frozen_runs():
    s = surfaces.make("bowl")
    race = paths.run(s, [spec("gd", (1, 1), 0.1), spec("gd", (1, 1), 0.001)],
                     paths.StopRules(max_iterations=50, loss_tol=1e-4))
    fast, slow = race.status(0), race.status(1)
    assert fast["stop_reason"] == "loss_change"
    # |Δf| = f·(1 − 0.8²) on the bowl with γ = 0.1: below 1e-4 once f < 1e-4 / 0.36
    loss = race.run_history(0, "loss")
    assert abs(loss[-1] - loss[-2]) < 1e-4 <= abs(loss[-2] - loss[-3])
    assert slow["stop_reason"] == "max_iterations" and slow["steps"] == 50
    # The stopped run stayed where it stopped while the other went on.
    final = race.history("path")[:, race.row[0]]
    frozen = final[fast["steps"]:]
    assert len(frozen) == 51 - fast["steps"] and np.all(frozen == frozen[0])


def test_gradient_tolerance_can_stop_at_the_start():
    race = paths.run(surfaces.make("bowl"), [spec("adam", (0, 0), 0.1)],
                     paths.StopRules(grad_tol=1e-6))
    assert race.status(0)["stop_reason"] == "gradient_norm" and race.status(0)["steps"] == 0


def test_early_stopping_on_validation_loss():
    s = surfaces.make("logistic")
    race = paths.run(s, [spec("gd", s.default_start, 0.5)],
                     paths.StopRules(max_iterations=3000, patience=100))
    st = race.status(0)
    assert st["stop_reason"] == "early_stopping"
    val = race.run_history(0, "val")
    assert st["steps"] == st["best_step"] + 100
    assert val[st["best_step"]] == pytest.approx(val.min())
    assert val[-1] > val.min()  # it went on past the best point: validation loss rose


def test_sgd_is_noisy_but_seeded():
    s = surfaces.make("bowl")
    runs = [spec("sgd", (1, 1), 0.1, noise=1.0)]
    a = paths.run(s, runs, paths.StopRules(max_iterations=30), seed=3).run_history(0, "path")
    b = paths.run(s, runs, paths.StopRules(max_iterations=30), seed=3).run_history(0, "path")
    c = paths.run(s, runs, paths.StopRules(max_iterations=30), seed=4).run_history(0, "path")
    gd = paths.run(s, [spec("gd", (1, 1), 0.1)],
                   paths.StopRules(max_iterations=30)).run_history(0, "path")
    assert_allclose(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, gd)


def test_schedule_in_a_race():
    race = paths.Race(surfaces.make("bowl"), [paths.RunSpec("gd", (1, 1), 0.1, (), "step",
                                                            (("gamma", 0.5), ("step_size", 2)))])
    lrs = []
    for _ in range(5):
        lrs.append(race.lr_now()[0])
        race.step(1)
    assert_allclose(lrs, [0.1, 0.1, 0.05, 0.05, 0.025])
    # x ← x (1 − 2γ): 1 · 0.8 · 0.8 · 0.9 · 0.9 · 0.95
    assert race.theta[0, 0] == pytest.approx(0.8 * 0.8 * 0.9 * 0.9 * 0.95)


def test_reset_replays_the_same_run():
    race = paths.Race(surfaces.make("logistic"), [spec("sgd", (0, 0), 0.5, batch_size=4)], seed=5)
    race.step(20)
    first = race.run_history(0, "path")
    race.reset()
    race.step(20)
    assert_allclose(race.run_history(0, "path"), first)


@pytest.mark.parametrize("bad, match", [
    (paths.RunSpec("lion", (0, 0), 0.1), "unknown optimizer"),
    (paths.RunSpec("gd", (0, 0), -0.1), "learning rate"),
    (paths.RunSpec("adam", (0, 0), 0.1, (("momentum", 0.9),)), "no hyperparameter"),
    (paths.RunSpec("adam", (0, 0), 0.1, (("beta1", 1.0),)), "beta1"),
    (paths.RunSpec("momentum", (0, 0), 0.1, (("momentum", -0.5),)), "momentum"),
    (paths.RunSpec("gd", (0, 0), 0.1, (), "cosine", (("T_max", 0),)), "T_max"),
])
def test_bad_run_specs_are_refused(bad, match):
    with pytest.raises((KeyError, ValueError), match=match):
        paths.Race(surfaces.make("bowl"), [bad])


def test_adagrad_internals_read_the_decayed_rate_from_the_optimizer():
    # Adagrad with lr_decay 0.1 on the bowl from (1, −1): update k uses γ_k = γ / (1 + (k − 1)·0.1).
    # After 5 updates the latest rate is 0.5 / 1.4; the step taken is −γ_5 ∇f / (√s + ε).
    race = paths.Race(surfaces.make("bowl"), [spec("adagrad", (1.0, -1.0), 0.5, lr_decay=0.1)],
                      paths.StopRules(max_iterations=50))
    race.step(4)
    grad_used = race.grad.copy()
    before = race.theta.copy()
    race.step(1)
    opt = race.groups[0].opt
    assert opt.t == 5
    assert_allclose(opt.decayed_lr(), 0.5 / 1.4, rtol=1e-15)
    scale = race.internals()["scale"]
    assert_allclose(scale, opt.decayed_lr() / (np.sqrt(opt.state[0]["sum"]) + opt.eps), rtol=1e-15)
    assert_allclose(race.theta - before, -scale * grad_used, rtol=1e-12)


# ---- what a race prints: path length, reversals, escaping a saddle -------------------------

def test_path_length_and_reversals_by_hand():
    # GD on the ravine κ = 10 with γ = 0.15 from (0, 1): x stays 0, y ← (1 − 1.5)·y = −y/2.
    # Steps: −1.5, 0.75, −0.375: path length 2.625, and every step after the first turns back.
    race = paths.Race(surfaces.make("ravine", condition=10), [spec("gd", (0.0, 1.0), 0.15)])
    race.step(3)
    st = race.status(0)
    assert st["path_length"] == pytest.approx(2.625, rel=1e-12)
    assert st["reversals"] == 2
    # A straight run never turns back: GD on the bowl from (1, 1) with γ = 0.25 halves θ.
    race = paths.run(surfaces.make("bowl"), [spec("gd", (1.0, 1.0), 0.25)], paths.StopRules(10))
    st = race.status(0)
    assert st["reversals"] == 0
    assert st["path_length"] == pytest.approx(math.sqrt(2) * (1 - 0.5**10), rel=1e-12)


def test_path_measures_match_the_recorded_path():
    race = paths.run(surfaces.make("rosenbrock"), [spec(k, (-1.5, 2.0), lr) for k, lr in
                     [("gd", 0.001), ("momentum", 0.0005), ("adam", 0.05)]], paths.StopRules(300))
    for i in range(3):
        d = np.diff(race.run_history(i, "path"), axis=0)
        st = race.status(i)
        assert st["path_length"] == pytest.approx(np.linalg.norm(d, axis=1).sum(), rel=1e-12)
        assert st["reversals"] == int(np.sum(np.einsum("ij,ij->i", d[1:], d[:-1]) < 0))


def test_leaving_a_saddle_is_escaping_not_diverging():
    # GD and momentum from just off the saddle's ridge: y grows by 1 + 2γ a step and f = x² − y²
    # falls; the run stops where it leaves the plotted window, with a lower loss than at the
    # start, and says it escaped.
    s = surfaces.make("saddle")
    race = paths.run(s, [spec("gd", (-1.8, 0.001), 0.05), spec("momentum", (-1.8, 0.001), 0.02),
                         spec("adam", (-1.8, 0.001), 0.05)], paths.StopRules(2000, grad_tol=1e-6))
    (x0, x1), (y0, y1) = s.domain
    for i in range(3):
        st = race.status(i)
        assert st["stop_reason"] == "escaped", st
        x, y = st["point"]
        assert not (x0 <= x <= x1 and y0 <= y <= y1)
        path = race.run_history(i, "path")
        inside = [(x0 <= a <= x1 and y0 <= b <= y1) for a, b in path[:-1]]
        assert all(inside)  # it stopped at the first point outside
        assert st["loss"] < race.run_history(i, "loss")[0]
    # A surface with a minimum never "escapes": a run thrown out of the ravine diverges.
    race = paths.run(surfaces.make("ravine", condition=10), [spec("gd", lr=0.21)], paths.StopRules(2000))
    assert race.status(0)["stop_reason"] == "diverged"


def suggested(surface: surfaces.Surface, kinds=("gd", "momentum", "adagrad", "rmsprop", "adam")):
    hp = surface.suggested_hyperparameters
    return [paths.RunSpec(k, surface.default_start, surface.suggested_lr[k],
                          tuple(sorted(hp.get(k, {}).items()))) for k in kinds]


def test_the_default_ravine_tells_the_lectures_story():
    """The lab opens on the ravine with the lecture's five at the surface's suggestions: GD
    zig-zags across the valley, momentum damps the zig-zag and arrives sooner, the adaptive
    methods rescale the coordinates and walk nearly straight, and GD is the slowest."""
    s = surfaces.make("ravine")
    race = paths.run(s, suggested(s), paths.StopRules(500, grad_tol=1e-6))
    st = {k: race.status(i) for i, k in enumerate(["gd", "momentum", "adagrad", "rmsprop", "adam"])}
    assert all(v["stop_reason"] == "gradient_norm" for v in st.values()), st
    straight = math.dist(s.default_start, s.minima[0])
    gd = st["gd"]
    assert gd["reversals"] >= 10 and gd["path_length"] > 3 * straight
    assert st["momentum"]["steps"] * 2 <= gd["steps"]
    assert st["momentum"]["reversals"] * 3 <= gd["reversals"]
    for k in ("adagrad", "rmsprop", "adam"):
        assert st[k]["path_length"] < 1.25 * straight, (k, st[k])
        assert st[k]["reversals"] <= 1
    assert max(v["steps"] for v in st.values()) == gd["steps"]


def test_the_bowl_does_not_make_momentum_look_slow():
    s = surfaces.make("bowl")
    race = paths.run(s, suggested(s, ("gd", "momentum")), paths.StopRules(500, grad_tol=1e-6))
    gd, mom = race.status(0), race.status(1)
    assert mom["stop_reason"] == gd["stop_reason"] == "gradient_norm"
    assert mom["steps"] <= gd["steps"] and mom["path_length"] < 1.05 * gd["path_length"]
