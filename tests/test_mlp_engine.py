"""The MLP's backward pass against central differences, for every option combination."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import activations, gradcheck
from engine.mlp import MLP

HIDDEN = sorted(set(activations.ACTIVATIONS) - {"relu", "leaky_relu"})  # kinks break differences
LOSS_OUTPUT = [("squared", "tanh"), ("squared", "linear"), ("bce", "sigmoid"), ("softmax_ce", "softmax")]


def _targets(loss, rng, n, k):
    if loss == "softmax_ce":
        return rng.integers(0, k, n)
    if loss == "bce":
        return rng.integers(0, 2, (n, 1)).astype(float)
    return rng.choice([-1.0, 1.0], (n, 1))


def _check(model, X, t, loss, reg="none", rate=0.0):
    trace = model.loss_and_grads(X, t, loss, reg, rate)

    def objective():
        return model.loss_and_grads(X, t, loss).loss + model.penalty(reg, rate)

    for W, dW in zip(model.W, trace.dW, strict=True):
        assert gradcheck.check(objective, W, dW) < 1e-6
    for b, db in zip(model.b, trace.db, strict=True):
        assert gradcheck.check(objective, b, db) < 1e-6


@pytest.mark.parametrize(("hidden", "loss_out"), list(itertools.product(HIDDEN, LOSS_OUTPUT)))
@pytest.mark.parametrize("n", [1, 6])
def test_backward_matches_numerical_gradient(hidden, loss_out, n):
    loss, out = loss_out
    rng = np.random.default_rng(7)
    k = 3 if loss == "softmax_ce" else 1
    model = MLP([2, 3, 2, k], hidden, out, "xavier", rng)
    X = rng.normal(size=(n, 2))
    _check(model, X, _targets(loss, rng, n, k), loss)


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu"])
def test_backward_with_kinked_activations(hidden):
    # Inputs and biases chosen so no pre-activation sits within the difference step of 0.
    rng = np.random.default_rng(11)
    model = MLP([2, 4, 1], hidden, "tanh", "he", rng)
    X = rng.normal(size=(5, 2))
    zs, _ = model.forward(X)
    assert np.min(np.abs(zs[0])) > 1e-4
    _check(model, X, rng.choice([-1.0, 1.0], (5, 1)), "squared")


@pytest.mark.parametrize(("reg", "rate"), [("l1", 0.01), ("l2", 0.1)])
def test_regularized_gradient(reg, rate):
    rng = np.random.default_rng(5)
    model = MLP([3, 4, 1], "tanh", "tanh", "tf_uniform", rng)
    X = rng.normal(size=(4, 3))
    _check(model, X, rng.choice([-1.0, 1.0], (4, 1)), "squared", reg, rate)


def test_deep_network_gradient():
    rng = np.random.default_rng(9)
    model = MLP([2, 8, 8, 8, 8, 8, 8, 1], "tanh", "tanh", "xavier", rng)
    X = rng.normal(size=(7, 2))
    _check(model, X, rng.choice([-1.0, 1.0], (7, 1)), "squared")


def test_backward_does_not_mutate_the_forward_values():
    rng = np.random.default_rng(0)
    model = MLP([2, 4, 3, 1], "relu", "tanh", "he", rng)
    X = rng.normal(size=(8, 2))
    zs, as_ = model.forward(X)
    before = [z.copy() for z in zs] + [a.copy() for a in as_]
    model.backward(X, zs, as_, np.ones((8, 1)))
    for old, new in zip(before, zs + as_, strict=True):
        assert_allclose(old, new)


def test_worked_forward_by_hand():
    # One hidden tanh neuron: z1 = 1·0.5 + 2·(−0.25) + 0.1 = 0.1, a1 = tanh 0.1,
    # output z2 = a1·2 − 0.3 → tanh.
    model = MLP([2, 1, 1], "tanh", "tanh")
    model.W = [np.array([[0.5], [-0.25]]), np.array([[2.0]])]
    model.b = [np.array([0.1]), np.array([-0.3])]
    out = model.predict(np.array([[1.0, 2.0]]))
    assert out[0, 0] == pytest.approx(np.tanh(2 * np.tanh(0.1) - 0.3))
