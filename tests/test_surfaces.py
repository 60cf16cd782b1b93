"""Loss surfaces: analytic gradients against central differences, known minima, mini-batch
gradients of the real-loss surface, parameter checks, and learning-rate schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import gradcheck, schedules, surfaces

NAMES = sorted(surfaces.SURFACES)


def sample_points(s: surfaces.Surface, n: int = 12, seed: int = 0) -> np.ndarray:
    (x0, x1), (y0, y1) = s.domain
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name):
    s = surfaces.make(name)
    pts = sample_points(s)
    analytic = s.grad(pts)
    assert analytic.shape == pts.shape
    for i in range(len(pts)):
        x = pts[i].copy()
        err = gradcheck.check(lambda x=x: float(s.value(x[None])[0]), x, analytic[i], h=1e-6)
        assert err < 1e-5, f"{name} at {pts[i]}: relative error {err}"


@pytest.mark.parametrize("name", NAMES)
def test_value_is_vectorized_and_grid_is_oriented(name):
    s = surfaces.make(name)
    pts = sample_points(s, 5)
    one_by_one = np.array([s.value(p[None])[0] for p in pts])
    assert_allclose(s.value(pts), one_by_one, rtol=1e-12)
    xs, ys, v = s.grid(7)
    assert v.shape == (7, 7)
    # values[i, j] = f(xs[j], ys[i]): rows are y.
    assert_allclose(v[2, 5], s.value(np.array([[xs[5], ys[2]]]))[0], rtol=1e-12)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "saddle"])
def test_minima_are_stationary_and_lowest(name):
    s = surfaces.make(name)
    m = np.array(s.minima)
    assert_allclose(s.grad(m), 0.0, atol=2e-4)
    # No grid point in the window is below the minimum value.
    _, _, v = s.grid(60)
    assert np.nanmin(v) >= s.min_value - 1e-9


def test_worked_values():
    # Numbers a person can check: f at simple points.
    assert surfaces.make("bowl").value(np.array([[1.0, 2.0]]))[0] == pytest.approx(5.0)
    assert surfaces.make("ravine", condition=10).value(np.array([[1.0, 1.0]]))[0] == pytest.approx(5.5)
    assert_allclose(surfaces.make("ravine", condition=10).grad(np.array([[1.0, 1.0]])), [[1.0, 10.0]])
    assert surfaces.make("rosenbrock").value(np.array([[0.0, 0.0]]))[0] == pytest.approx(1.0)
    assert_allclose(surfaces.make("rosenbrock").grad(np.array([[0.0, 0.0]])), [[-2.0, 0.0]])
    # Beale at (0, 0): 1.5² + 2.25² + 2.625² = 14.203125
    assert surfaces.make("beale").value(np.array([[0.0, 0.0]]))[0] == pytest.approx(14.203125)
    # Himmelblau at (0, 0): 121 + 49 = 170
    assert surfaces.make("himmelblau").value(np.array([[0.0, 0.0]]))[0] == pytest.approx(170.0)
    assert_allclose(surfaces.make("saddle").grad(np.array([[1.0, 1.0]])), [[2.0, -2.0]])
    assert surfaces.make("camel").min_value == pytest.approx(-1.0316, abs=1e-4)
    assert surfaces.make("himmelblau").value(np.array(surfaces.make("himmelblau").minima)) == pytest.approx(
        [0, 0, 0, 0], abs=1e-8)


def test_plateau_is_flat_then_a_cliff():
    s = surfaces.make("plateau", height=2.0, steepness=10.0)
    flat = np.linalg.norm(s.grad(np.array([[-3.0, 0.0]])))
    cliff = np.linalg.norm(s.grad(np.array([[0.0, 0.0]])))
    assert flat < 0.15 and cliff > 4.5  # cliff slope ≈ h k / 4 = 5
    assert s.minima[0][0] == pytest.approx(2.0, abs=1e-3)


def test_logistic_surface_minimum_and_minibatches():
    s = surfaces.make("logistic")
    w = np.array(s.minima)
    assert_allclose(s.grad(w), 0.0, atol=1e-10)
    # The loss at w = 0 is log 2 (every prediction 1/2), whatever the data.
    assert s.value(np.zeros((1, 2)))[0] == pytest.approx(math.log(2))
    assert s.validation_loss(w).shape == (1,)
    # A mini-batch gradient is noisy, but its mean is the full-batch gradient.
    theta = np.tile([[-1.0, 1.0]], (4000, 1))
    g = s.stochastic_grad(theta, np.random.default_rng(0), batch_size=5)
    assert g.std(axis=0).min() > 0.01
    assert_allclose(g.mean(axis=0), s.grad(theta[:1])[0], atol=0.02)
    # Each run gets its own batch: two rows at the same point differ.
    assert not np.allclose(g[0], g[1])


def test_minibatch_gradient_is_the_gradient_of_its_batch_loss():
    """Each run's mini-batch gradient is exactly ∂/∂w of the logistic loss on the points it drew
    (with replacement) plus λw, by central differences."""
    s = surfaces.make("logistic")
    theta = np.array([[-1.0, 1.0], [0.5, 2.0], [3.0, -0.5]])
    g = s.stochastic_grad(theta, np.random.default_rng(5), batch_size=7)
    idx = np.random.default_rng(5).integers(0, len(s.y_train), (3, 7))  # the same draws
    for run in range(3):
        X, y = s.X_train[idx[run]], s.y_train[idx[run]]
        w = theta[run].copy()
        err = gradcheck.check(lambda w=w, X=X, y=y: float(s._data_loss(w[None], X, y)[0]), w, g[run])
        assert err < 1e-8


def test_analytic_noise_is_seeded():
    s = surfaces.make("bowl")
    theta = np.zeros((3, 2))
    a = s.stochastic_grad(theta, np.random.default_rng(7), noise=0.5)
    b = s.stochastic_grad(theta, np.random.default_rng(7), noise=0.5)
    assert_allclose(a, b)
    assert_allclose(s.stochastic_grad(theta, np.random.default_rng(7), noise=0.0), 0.0)


def test_bad_surface_input_is_refused():
    with pytest.raises(KeyError, match="unknown surface"):
        surfaces.make("nope")
    with pytest.raises(KeyError, match="condition"):
        surfaces.make("bowl", condition=3)
    with pytest.raises(ValueError, match="between 1 and 1000"):
        surfaces.make("ravine", condition=0.5)


def test_describe_is_plain_json():
    import json
    for name in NAMES:
        d = surfaces.describe(surfaces.make(name))
        json.dumps(d, allow_nan=False)
        assert d["name"] == name and set(d["suggested_lr"]) == {"gd", "sgd", "momentum", "nesterov",
                                                                "adagrad", "rmsprop", "adam"}


# ---- learning-rate schedules, torch's closed forms, by hand ------------------------------

def test_schedules_by_hand():
    assert schedules.lr_at("none", 0.1, 50) == 0.1
    # StepLR(step_size=10, gamma=0.5): 0.1 for t < 10, 0.05 for 10 ≤ t < 20, 0.025 after.
    assert [schedules.lr_at("step", 0.1, t, step_size=10, gamma=0.5) for t in (0, 9, 10, 25)] == \
        pytest.approx([0.1, 0.1, 0.05, 0.025])
    # ExponentialLR(gamma=0.9): 0.1 · 0.9³ = 0.0729
    assert schedules.lr_at("exponential", 0.1, 3, gamma=0.9) == pytest.approx(0.0729)
    # CosineAnnealingLR(T_max=100, eta_min=0.01): half-way is the mean, the end is eta_min.
    assert schedules.lr_at("cosine", 0.1, 50, T_max=100, eta_min=0.01) == pytest.approx(0.055)
    assert schedules.lr_at("cosine", 0.1, 100, T_max=100, eta_min=0.01) == pytest.approx(0.01)
    # An array of base rates (a sweep) keeps its shape.
    lr = schedules.lr_at("exponential", np.array([[0.1], [1.0]]), 2, gamma=0.5)
    assert_allclose(lr, [[0.025], [0.25]])


def test_bad_schedules_are_refused():
    with pytest.raises(KeyError, match="unknown schedule"):
        schedules.check("linear", {})
    with pytest.raises(KeyError, match="no parameter"):
        schedules.check("step", {"T_max": 3})
    with pytest.raises(ValueError, match="gamma"):
        schedules.check("exponential", {"gamma": 2.0})


def test_minibatches_are_capped_at_the_training_set_and_points_per_update_counted():
    s = surfaces.make("logistic")  # 40 points: 20 to train on, 20 to validate
    n = len(s.y_train)
    assert n == 20 and s.batch_cap(10_000) == 20 and s.batch_cap(7) == 7
    theta = np.tile([[-1.0, 1.0]], (3, 1))
    big = s.stochastic_grad(theta, np.random.default_rng(4), batch_size=10_000)
    capped = s.stochastic_grad(theta, np.random.default_rng(4), batch_size=n)
    assert_allclose(big, capped, rtol=0, atol=0)
    # an update evaluates the training loss and gradient, the validation loss and the batch
    assert s.points_per_update() == 40 and s.points_per_update(10_000) == 60
    bowl = surfaces.make("bowl")
    assert bowl.points_per_update() == 0 and bowl.points_per_update(10_000) == 0
    assert bowl.batch_cap(10_000) == 0


def test_plot_grid_log_scales_from_the_minimum():
    # Ravine κ = 10 on its window, 5 × 5: the minimum value 0 is on the grid (centre), the
    # highest is at a corner. δ = 1e-3 · (max − 0), offset = −δ, so the minimum plots as
    # log10(δ) and every value as log10(f + δ).
    s = surfaces.make("ravine")
    pg = surfaces.plot_grid(s, 5)
    assert pg.scale == "log"
    hi = float(np.max(pg.values))
    assert pg.value_range == (0.0, hi)
    delta = 1e-3 * hi
    assert pg.offset == pytest.approx(-delta, rel=1e-15)
    assert pg.plot[2, 2] == pytest.approx(math.log10(delta), rel=1e-12)
    assert_allclose(pg.plot, np.log10(pg.values + delta), rtol=1e-12)
    assert_allclose(10 ** pg.plot + pg.offset, pg.values, atol=1e-9)  # what a client undoes
    # a linear surface plots its values as they are
    lin = surfaces.plot_grid(surfaces.make("saddle"), 5)
    assert lin.scale == "linear" and lin.offset == 0.0 and np.array_equal(lin.plot, lin.values)
