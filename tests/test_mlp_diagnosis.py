"""Why an MLP run stops learning, as the engine says it (engine.diagnosis): dead ReLU units,
saturated units and outputs, a stalled loss, and the per-layer gradient norms over the
training set that show a gradient vanishing toward the input."""

from __future__ import annotations

import numpy as np
import pytest

from engine import diagnosis
from engine.mlp import MLP
from engine.trainer import MLPConfig, Trainer


def trained(epochs: int = 30, **cfg) -> Trainer:
    t = Trainer(MLPConfig(**cfg))
    t.run_epochs(epochs)
    return t


def test_dead_and_saturated_units_by_hand():
    # One input, two ReLU units: w = (1, −1), b = (−10, −10): on x ∈ [−6, 6] both z < 0,
    # both dead. A tanh unit with w = 100 is saturated wherever |x| ≥ 0.03.
    X = np.linspace(-6, 6, 41)[:, None]
    net = MLP([1, 2, 1], "relu", "tanh")
    net.W[0][...] = [[1.0, -1.0]]
    net.b[0][...] = [-10.0, -10.0]
    d = diagnosis.diagnose(net, X, np.sign(X), "squared", lr=0.03)
    assert d.dead == [2] and d.units == [2]
    net = MLP([1, 1, 1], "tanh", "tanh")
    net.W[0][...] = [[100.0]]
    net.b[0][...] = [0.0]
    net.W[1][...] = [[50.0]]
    d = diagnosis.diagnose(net, X, np.sign(X), "squared", lr=0.03)
    assert d.saturated == [1] and d.dead == [0]
    assert d.saturated_outputs == pytest.approx(40 / 41)  # every x but 0 gives |ŷ| > 0.99
    assert d.wrong_saturated == 0.0  # and on the right side


def test_gradient_norms_are_the_full_batch_gradients():
    t = trained(epochs=2, dataset="circle", hidden=[4, 2], seed=3)
    d = t.diagnosis()
    tr = t.model.loss_and_grads(t.F_train, t.T_train, "squared")
    assert d.grad_norms == pytest.approx([float(np.linalg.norm(g)) for g in tr.dW], rel=1e-12)


def test_a_large_rate_saturates_the_outputs_and_the_loss_stalls():
    """lr = 10 on the circle (tanh): every output sits at ±1, half of them on the wrong side,
    where tanh' ≈ 0 passes no gradient back; the loss does not move. The diagnosis says so."""
    t = trained(dataset="circle", activation="tanh", lr=10)
    d = t.diagnosis()
    assert not t.diverged and d.stalled and d.saturated_outputs > 0.9 and d.wrong_saturated > 0.3
    text = " ".join(d.messages)
    assert "stalled" in text and "Saturated outputs" in text and "learning rate 10" in text, text
    assert d.state == "warning"


def test_a_large_rate_kills_relu_units():
    t = trained(dataset="circle", activation="relu", lr=10)
    d = t.diagnosis()
    assert sum(d.dead) >= 1 and d.stalled
    assert any("dead" in m for m in d.messages), d.messages


@pytest.mark.parametrize("cfg", [{"dataset": "circle"}, {"dataset": "xor", "activation": "relu"},
                                 {"dataset": "gauss", "lr": 10}])
def test_a_healthy_run_says_nothing(cfg):
    # gauss at lr 10 saturates its outputs too, but on the right side: the run is done, not stuck
    t = trained(**cfg)
    d = t.diagnosis()
    assert d.state == "ok" and d.messages == [], d.messages


def test_sigmoid_depth_shows_the_gradient_vanishing_toward_the_input():
    # The sigmoid-vs-relu preset: three layers of 4 sigmoids; the first layer's gradient is a
    # small fraction of the output layer's. With ReLU it is not.
    sig = trained(epochs=5, dataset="circle", hidden=[4, 4, 4], activation="sigmoid").diagnosis()
    relu = trained(epochs=5, dataset="circle", hidden=[4, 4, 4], activation="relu").diagnosis()
    assert sig.grad_norms[0] < 0.1 * sig.grad_norms[-1]
    assert relu.grad_norms[0] > 0.1 * relu.grad_norms[-1]
    assert sig.grad_norms == sorted(sig.grad_norms)  # shrinking at every layer toward the input
