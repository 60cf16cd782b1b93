"""The scale lab's engine: the power-law fit recovers known exponents and floors, random
features solve least squares exactly (and their gradient-descent path ends there), cells
count parameters, compute and data as the networks they build, a small sweep on the digits
gets better with data, and the double-descent setting peaks at p = n."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine import powerlaw
from engine.image_trainer import ImageTrainer
from engine.random_features import RandomFeatures, thin_svd
from engine.scale_cells import (
    Cell,
    CellConfig,
    CellResult,
    checkpoints,
    examples_seen,
    image_config,
    run_cell,
    shape,
    train_pool,
    training_data,
)
from engine.sweeps import Grid, aggregate, compute_frontier, double_descent, scaling_fits

# ---- power laws ------------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "alpha", "c"), [(3.0, 0.5, 0.05), (0.8, 0.3, 0.01), (12.0, 1.1, 0.02)])
def test_fit_recovers_exponent_and_floor_exactly(a, alpha, c):
    x = np.logspace(1, 5, 12)
    fit = powerlaw.fit(x, a * x**-alpha + c)
    assert fit.alpha == pytest.approx(alpha, rel=1e-6)
    assert fit.floor == pytest.approx(c, rel=1e-6)
    assert fit.a == pytest.approx(a, rel=1e-6)
    assert fit.r2 == pytest.approx(1.0) and fit.n == 12
    np.testing.assert_allclose(fit.predict(x), a * x**-alpha + c, rtol=1e-9)


def test_fit_recovers_exponent_from_noisy_points():
    """3 % multiplicative noise on 12 points over four decades: α within 0.03 for every seed."""
    x = np.logspace(1, 5, 12)
    for seed in range(10):
        noise = np.exp(np.random.default_rng(seed).normal(0, 0.03, len(x)))
        fit = powerlaw.fit(x, (3 * x**-0.5 + 0.05) * noise)
        assert abs(fit.alpha - 0.5) < 0.03, (seed, fit)
        assert abs(fit.floor - 0.05) < 0.005, (seed, fit)


def test_pure_power_law_and_what_cannot_be_fitted():
    x = np.array([10.0, 100.0, 1000.0])
    fit = powerlaw.fit(x, 2 * x**-0.7, floor=False)
    assert fit.alpha == pytest.approx(0.7) and fit.floor == 0.0
    assert powerlaw.fit(x, 2 * x**-0.7) is None  # a floor needs a fourth point
    assert powerlaw.fit([1, 1, 1, 1], [1, 2, 3, 4]) is None  # one x value
    # zero error (and x ≤ 0) cannot sit on log axes: left out, and said so by n
    fit = powerlaw.fit([0, 10, 100, 1000, 10_000, 100_000], [0.5, 0.2, 0.05, 0.0, 0.005, 0.0015], floor=False)
    assert fit.n == 4


def test_the_floor_never_reaches_the_smallest_point():
    x = np.logspace(0, 3, 8)
    y = 0.3 * x**-2.0 + 0.1  # flat at the end: the floor hugs 0.1 from below
    fit = powerlaw.fit(x, y)
    assert 0.09 < fit.floor < y.min()


# ---- random features ---------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "p"), [(60, 20), (40, 40), (30, 90)])
def test_min_norm_solution_is_least_squares(n, p):
    rng = np.random.default_rng(1)
    X, Xt = rng.normal(size=(n, 8)), rng.normal(size=(25, 8))
    y, yt = rng.integers(0, 3, n), rng.integers(0, 3, 25)
    rf = RandomFeatures(X, y, Xt, yt, p, 3, np.random.default_rng(2))
    F = np.maximum((X - X.mean(axis=0)) @ rf.W, 0)
    expected, *_ = np.linalg.lstsq(F, np.eye(3)[y], rcond=None)
    np.testing.assert_allclose(rf.theta(), expected, atol=1e-8 * max(1, np.abs(expected).max()))
    U, s, V = thin_svd(F)
    np.testing.assert_allclose((U * s) @ V.T, F, atol=1e-9)
    if p >= n:
        assert rf.evaluate()["train_error"] == 0.0  # interpolates


def test_gradient_descent_path_starts_at_zero_and_ends_at_the_solution():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(50, 6)), rng.integers(0, 4, 50)
    rf = RandomFeatures(X, y, X[:10], y[:10], 30, 4, np.random.default_rng(4), ridge=0.1)
    np.testing.assert_allclose(rf.theta(0), 0.0)
    # one explicit gradient step of ½‖Fθ − Y‖² + ½λ‖θ‖² from 0 with step η
    F = np.maximum((X - X.mean(axis=0)) @ rf.W, 0)
    Y = np.eye(4)[y]
    step = -rf.lr * (F.T @ (F @ np.zeros((30, 4)) - Y))
    np.testing.assert_allclose(rf.theta(1), step, atol=1e-12)
    ridge = np.linalg.solve(F.T @ F + 0.1 * np.eye(30), F.T @ Y)
    np.testing.assert_allclose(rf.theta(), ridge, atol=1e-8)
    np.testing.assert_allclose(rf.theta(1e9), ridge, atol=1e-6)


# ---- cells -------------------------------------------------------------------------------------

def test_cell_data_is_the_image_trainers():
    c = CellConfig(width=16, train_size=300, label_noise=0.1, seed=3)
    X_tr, y_tr, _X_te, y_te, K = training_data(c)
    t = ImageTrainer(image_config(c))
    np.testing.assert_array_equal(X_tr, t.X_train)
    np.testing.assert_array_equal(y_tr, t.y_train)
    np.testing.assert_array_equal(y_te, t.y_test)
    assert K == 10 and len(y_tr) == 300 and len(y_te) == 359
    assert train_pool("digits") == 1438 and train_pool("shapes") == 800
    assert (y_tr != training_data(c.with_changes(label_noise=0.0))[1]).mean() == pytest.approx(0.09, abs=0.05)


@pytest.mark.parametrize("config", [
    CellConfig(width=16, depth=2), CellConfig(model="cnn", width=4),
    CellConfig(model="cnn", width=3, dataset="shapes", train_size=800),
    CellConfig(width=5, dataset="shapes", train_size=200),
])
def test_cell_shape_counts_the_built_network(config):
    t = ImageTrainer(image_config(config))
    s = shape(config)
    assert s.parameters == t.model.num_parameters
    assert s.macs == sum(row.macs for row in t.summary())
    n, b = len(t.X_train), min(config.batch_size, len(t.X_train))
    assert s.flops == 6 * s.macs * examples_seen(config.steps, n, b)


def test_examples_seen_follows_the_trainers_batches():
    assert examples_seen(3, 100, 32) == 96
    assert examples_seen(4, 100, 32) == 100  # the epoch's last batch holds 4
    assert examples_seen(5, 100, 32) == 132
    assert checkpoints(400)[0] == 1 and checkpoints(400)[-1] == 400 and 12 <= len(checkpoints(400)) <= 16
    assert checkpoints(3) == [1, 2, 3]


def test_cell_in_pieces_equals_cell_at_once():
    c = CellConfig(width=8, train_size=100, steps=60, seed=2)
    whole = run_cell(c)
    cell = Cell(c)
    while not cell.done:
        cell.step(7)
    pieces = cell.result()
    assert pieces.to_dict() == whole.to_dict()
    assert whole.steps == 60 and whole.parameters == 8 * 65 + 90
    assert whole.curve["step"] == [float(s) for s in checkpoints(60)]
    assert whole.curve["flops"][-1] == whole.flops
    assert 0 <= whole.test_error <= 1 and whole.test_error == pytest.approx(whole.curve["test_error"][-1])


def test_config_key_names_what_matters():
    rf = CellConfig(model="random_features", width=100, train_size=200)
    assert rf.key() == rf.with_changes(steps=9, lr=0.5).key()  # ignored by a solve
    assert rf.key() != rf.with_changes(seed=1).key()
    assert CellConfig().key() != CellConfig(lr=0.02).key()
    with pytest.raises(ValueError, match="digits has 1438 training images"):
        CellConfig(train_size=1500)
    with pytest.raises(ValueError, match="unknown model"):
        CellConfig(model="transformer")


def test_random_features_cell_walks_the_gradient_descent_path():
    c = CellConfig(model="random_features", width=120, train_size=200, label_noise=0.2)
    cell = Cell(c)
    assert cell.shape.parameters == 1200 and cell.shape.units == 29
    cell.step(5)
    assert len(cell.curve["step"]) == 5 and not cell.done
    cell.step(100)
    r = cell.result()
    assert cell.done and r.steps == 0  # solved exactly
    assert r.curve["step"][-1] == 1e6
    assert r.test_error == pytest.approx(cell.rf.evaluate()["test_error"])


# ---- sweeps ------------------------------------------------------------------------------------

def test_grid_lists_every_combination_and_refuses_empty_axes():
    g = Grid(CellConfig(), widths=(4, 8), train_sizes=(50, 100, 200), seeds=(0, 1))
    cells = g.cells()
    assert len(g) == len(cells) == 12
    assert {(c.width, c.train_size, c.seed) for c in cells} == {
        (w, n, s) for w in (4, 8) for n in (50, 100, 200) for s in (0, 1)}
    order = g.spread_order()
    assert sorted(order) == list(range(12))
    assert all(cells[k].seed == 0 for k in order[:6])
    with pytest.raises(ValueError, match="train_sizes is empty"):
        Grid(CellConfig(), widths=(4,), train_sizes=())
    with pytest.raises(ValueError, match="widths repeats"):
        Grid(CellConfig(), widths=(4, 4), train_sizes=(10,))


def test_small_sweep_on_the_digits_gets_better_with_data():
    """End to end: a width-32 MLP, 300 steps, trained on 50, 200 and 800 digits (two seeds)."""
    g = Grid(CellConfig(width=32, steps=300), widths=(32,), train_sizes=(50, 200, 800), seeds=(0, 1))
    results = [(c, run_cell(c)) for c in g.cells()]
    points = aggregate(results)
    errors = [p.mean["test_error"] for p in points]
    assert [p.train_size for p in points] == [50, 200, 800] and all(p.seeds == 2 for p in points)
    assert errors[0] > errors[1] > errors[2], errors
    assert errors[0] > 0.12 and errors[2] < 0.06, errors
    fits = scaling_fits(results)
    assert fits["train_size"]["x"] == [50, 200, 800]
    assert fits["train_size"]["fit"]["alpha"] > 0.3  # three points: a pure power law
    assert fits["parameters"]["fit"] is None  # one model size
    fx, fy = fits["flops"]["x"], fits["flops"]["y"]
    assert fx == sorted(fx) and all(b < a for a, b in itertools.pairwise(fy))


def test_compute_frontier_keeps_only_improvements():
    c1, c2 = CellConfig(width=4), CellConfig(width=8)
    r1 = CellResult(1, 1, 1, 1, 0.3, 1, 0.3, 1, curve={"step": [1, 2, 3], "flops": [10, 20, 30],
                                                        "test_error": [0.9, 0.5, 0.3]})
    r2 = CellResult(1, 1, 1, 1, 0.2, 1, 0.2, 1, curve={"step": [1, 2, 3], "flops": [15, 40, 60],
                                                        "test_error": [0.95, 0.4, 0.2]})
    xs, ys = compute_frontier([(c1, r1), (c2, r2)], "test_error")
    assert xs == [10, 20, 30, 60] and ys == [0.9, 0.5, 0.3, 0.2]


DD_WIDTHS = (20, 50, 100, 150, 180, 200, 220, 250, 300, 400, 600, 1000, 2000)


def test_double_descent_peaks_at_the_interpolation_threshold():
    """Random ReLU features on 200 digits with 20 % noisy labels: test error at p = 200 above
    both neighbours, and the highest of the sweep, for a fixed seed."""
    base = CellConfig(model="random_features", train_size=200, label_noise=0.2, seed=0)
    g = Grid(base, widths=DD_WIDTHS, train_sizes=(200,))
    dd = double_descent(aggregate([(c, run_cell(c)) for c in g.cells()]))
    assert dd["threshold"] == 200 and dd["is_peak"]
    at = dd["at_threshold"]
    assert at["width"] == 200 and dd["peak"]["width"] == 200
    assert at["value"] > 0.7
    assert at["value"] > at["left"]["value"] + 0.1 and at["value"] > at["right"]["value"] + 0.1
    assert dd["widest"]["value"] < 0.3 and dd["best_under"]["value"] < 0.3  # both sides descend
