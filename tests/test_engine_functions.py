"""Activations, losses and regularizers: each derivative against central differences."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import activations, gradcheck, losses, regularizers

Z = np.linspace(-3.0, 3.0, 61) + 0.013  # avoid the kinks of relu / leaky_relu / elu at 0


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
def test_activation_derivative_matches_central_differences(name):
    act = activations.get(name)
    a = act.output(Z)
    assert_allclose(act.der(Z, a), gradcheck.elementwise_der(act.output, Z), rtol=1e-6, atol=1e-8)


def test_activation_values_by_hand():
    z = np.array([-2.0, 0.0, 1.0])
    assert_allclose(activations.get("sigmoid").output(z), [1 / (1 + np.e**2), 0.5, 1 / (1 + np.e**-1)])
    assert_allclose(activations.get("relu").output(z), [0, 0, 1])
    assert_allclose(activations.get("leaky_relu").output(z), [-0.02, 0, 1])
    assert_allclose(activations.get("elu").output(z), [np.exp(-2) - 1, 0, 1])
    assert_allclose(activations.get("softplus").output(z), np.log1p(np.exp(z)))


def test_sigmoid_does_not_overflow():
    with np.errstate(over="raise", invalid="raise"):
        out = activations.sigmoid(np.array([-1000.0, 1000.0]))
    assert_allclose(out, [0.0, 1.0])


def test_unknown_activation_names_the_choices():
    with pytest.raises(KeyError, match="relu"):
        activations.get("swish")


def _loss_gradcheck(loss_name, out_act, z, t):
    loss = losses.get(loss_name)
    act = None if out_act == "softmax" else activations.get(out_act)
    _, grad, _ = loss.value_and_grad(z, t, act)
    num = gradcheck.numerical_grad(lambda: loss.value_and_grad(z, t, act)[0], z)
    assert_allclose(grad, num, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("out_act", ["tanh", "linear", "sigmoid"])
def test_squared_error_gradient(out_act):
    rng = np.random.default_rng(1)
    _loss_gradcheck("squared", out_act, rng.normal(size=(5, 1)), rng.choice([-1.0, 1.0], (5, 1)))


def test_bce_gradient_and_stability():
    rng = np.random.default_rng(2)
    _loss_gradcheck("bce", "sigmoid", rng.normal(size=(6, 1)) * 3, rng.integers(0, 2, (6, 1)).astype(float))
    # Large logits: the naive −t·log σ(z) would give log(0); the logit form stays finite.
    value, grad, _ = losses.get("bce").value_and_grad(np.array([[800.0], [-800.0]]), np.array([[0.0], [1.0]]),
                                                      activations.get("sigmoid"))
    assert value == pytest.approx(800.0)
    assert_allclose(grad, [[0.5], [-0.5]])


def test_bce_value_by_hand():
    # z = 0 → σ = ½ → −log ½ = log 2 for either target.
    value, grad, _ = losses.get("bce").value_and_grad(np.zeros((2, 1)), np.array([[1.0], [0.0]]),
                                                      activations.get("sigmoid"))
    assert value == pytest.approx(np.log(2))
    assert_allclose(grad, [[-0.25], [0.25]])


def test_softmax_cross_entropy_gradient_and_value():
    rng = np.random.default_rng(3)
    _loss_gradcheck("softmax_ce", "softmax", rng.normal(size=(4, 3)), np.array([0, 2, 1, 2]))
    # Equal logits over K = 4 classes: loss log 4, gradient (¼ − onehot) / N.
    value, grad, p = losses.get("softmax_ce").value_and_grad(np.zeros((1, 4)), np.array([2]), None)
    assert value == pytest.approx(np.log(4))
    assert_allclose(grad, [[0.25, 0.25, -0.75, 0.25]])
    assert_allclose(p.sum(axis=1), [1.0])


@pytest.mark.parametrize(("name", "out_act", "shape", "labels"), [
    ("squared", "tanh", (0, 1), (0, 1)), ("bce", "sigmoid", (0, 1), (0, 1)),
    ("softmax_ce", "softmax", (0, 3), (0,))])
def test_the_mean_over_an_empty_batch_is_nan_not_an_error(name, out_act, shape, labels):
    """As np.mean and torch's mean reduction: no rows, no mean (and an empty gradient)."""
    act = None if out_act == "softmax" else activations.get(out_act)
    value, grad, a = losses.get(name).value_and_grad(np.zeros(shape), np.zeros(labels), act)
    assert np.isnan(value) and grad.shape == shape and a.shape == shape


@pytest.mark.parametrize("name", sorted(regularizers.REGULARIZERS))
def test_regularizer_derivative(name):
    reg = regularizers.get(name)
    w = np.array([[-1.5, 0.3], [0.7, -0.2]])
    assert_allclose(reg.der(w), gradcheck.numerical_grad(lambda: reg.output(w), w), atol=1e-8)


def test_regularizer_values_by_hand():
    w = np.array([3.0, -4.0])
    assert regularizers.get("l1").output(w) == 7.0
    assert regularizers.get("l2").output(w) == 12.5
    assert regularizers.get("none").output(w) == 0.0
