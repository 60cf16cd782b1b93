"""The compiled training loop (engine.fused) against its definition, the NumPy engine.

Every activation, loss, regularizer and optimizer: the same weights, optimizer state, epochs,
loss history, batches and trace as the NumPy engine's updates over hundreds of steps taken in
uneven chunks; its gradients against central differences; a run replays to the same bits
however its steps are chunked (what failover relies on); divergence is found at the same step.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine import fused, gradcheck, losses
from engine.trainer import MLPConfig, Trainer

pytestmark = pytest.mark.skipif(not fused.available, reason="numba is not installed")

CHUNKS = (1, 7, 25, 100, 167)  # 300 updates, across epoch ends and inside epochs


def both(config: MLPConfig) -> tuple[Trainer, Trainer]:
    compiled, numpy_ = Trainer(config, compiled=True), Trainer(config, compiled=False)
    assert compiled.runs_compiled and not numpy_.runs_compiled
    for n in CHUNKS:
        assert compiled.step(n) == numpy_.step(n)
    return compiled, numpy_


def assert_same_run(a: Trainer, b: Trainer, tol: float = 1e-12) -> None:
    assert (a.step_count, a.epoch, a.diverged) == (b.step_count, b.epoch, b.diverged)
    assert a.optimizer.t == b.optimizer.t
    for pa, pb in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert_allclose(pa, pb, rtol=0, atol=tol)
    for sa, sb in zip(a.optimizer.state, b.optimizer.state, strict=True):
        for k in sa:
            assert_allclose(sa[k], sb[k], rtol=tol, atol=tol)
    assert a.history.epochs == b.history.epochs
    assert_allclose(a.history.train_loss, b.history.train_loss, rtol=tol, atol=tol)
    assert_array_equal(a.trace_rows, b.trace_rows)
    ta, tb = a.trace, b.trace
    assert ta is not None and tb is not None
    assert ta.loss == pytest.approx(tb.loss, rel=tol, abs=tol)
    for x, y in zip(ta.dW + ta.db + ta.a, tb.dW + tb.db + tb.a, strict=True):
        assert_allclose(x, y, rtol=0, atol=tol)


@pytest.mark.parametrize("activation", fused.ACTIVATIONS)
def test_every_activation_updates_as_the_numpy_engine(activation):
    assert_same_run(*both(MLPConfig(dataset="xor", hidden=(4, 3), activation=activation, noise=0.1)))


@pytest.mark.parametrize("config", [
    MLPConfig(dataset="circle", loss="bce"),  # sigmoid output, cross-entropy from logits
    MLPConfig(dataset="blobs", hidden=(6, 4), lr=0.1),  # softmax over 3 classes
    MLPConfig(dataset="spiral_arms", num_classes=5, hidden=(8, 8), lr=0.1),
    MLPConfig(dataset="plane", hidden=(3,), lr=0.01),  # regression: linear output
    MLPConfig(dataset="spiral", hidden=(8,) * 6, lr=0.03),  # the deepest network a page offers
    MLPConfig(dataset="circle", features=("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")),
], ids=["bce", "softmax3", "softmax5", "regression", "6x8", "features"])
def test_every_loss_and_shape_updates_as_the_numpy_engine(config):
    assert_same_run(*both(config))


@pytest.mark.parametrize("regularization,rate", [("l1", 0.01), ("l2", 0.03), ("l2", 0.0)])
def test_regularizers_update_as_the_numpy_engine(regularization, rate):
    assert_same_run(*both(MLPConfig(regularization=regularization, reg_rate=rate)))


@pytest.mark.parametrize("optimizer,params", [
    ("sgd", {}), ("sgd", {"weight_decay": 0.01}), ("momentum", {}),
    ("momentum", {"dampening": 0.3, "weight_decay": 0.01}), ("nesterov", {"weight_decay": 0.001}),
    ("adagrad", {}), ("adagrad", {"lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("rmsprop", {}), ("rmsprop", {"centered": True, "momentum": 0.5}), ("adam", {}),
    ("adam", {"amsgrad": True, "weight_decay": 0.01, "beta1": 0.8}),
])
def test_every_optimizer_updates_as_torch_optim_does_in_the_numpy_engine(optimizer, params):
    config = MLPConfig(optimizer=optimizer, optimizer_params=tuple(sorted(params.items())), lr=0.01)
    assert_same_run(*both(config), tol=1e-11)


def test_changes_mid_run_keep_both_engines_together():
    a, b = both(MLPConfig(dataset="spiral", hidden=(6, 6)))
    for t in (a, b):
        t.update(lr=0.1, optimizer="momentum", optimizer_params=(("momentum", 0.8),))
        t.step(60)
        t.update(added=((1.0, 1.0, 1.0), (-2.0, 0.5, -1.0)), regularization="l2", reg_rate=0.001)
        t.step(61)
    assert_same_run(a, b)


@pytest.mark.parametrize("activation,loss,dataset", [
    (act, None, "circle") for act in fused.ACTIVATIONS
] + [("tanh", "bce", "circle"), ("relu", "softmax_ce", "blobs"), ("tanh", "squared", "plane")])
def test_the_compiled_gradient_is_the_loss_gradient(activation, loss, dataset):
    # One plain SGD update with γ = 1 moves θ by −∇L: read it off and compare with central
    # differences of the NumPy engine's batch loss (plus the L2 penalty) at the old θ.
    config = MLPConfig(dataset=dataset, hidden=(3, 2), activation=activation, loss=loss, lr=1.0,
                       batch_size=7, regularization="l2", reg_rate=0.01, seed=3)
    t = Trainer(config)
    params = [p.copy() for p in t.model.parameters()]
    rows = t._perm[:7]
    X, T = t.F_train[rows], t.T_train[rows]
    t.step(1)
    model = t.model
    moved = [old - p for p, old in zip(model.parameters(), params, strict=True)]  # γ ∇L
    for p, old in zip(model.parameters(), params, strict=True):
        p[...] = old  # back to θ, to differentiate the loss there
    loss = losses.LOSSES[t.config.resolved_loss]

    def batch_loss() -> float:
        z = model.forward(X)[0][-1]
        return loss.value_and_grad(z, T, model._out_act)[0] + model.penalty("l2", 0.01)

    for p, step in zip(model.parameters(), moved, strict=True):
        assert gradcheck.max_rel_error(step, gradcheck.numerical_grad(batch_loss, p)) < 1e-6


def test_a_run_replays_to_the_same_bits_however_it_is_chunked():
    config = MLPConfig(dataset="spiral", hidden=(8, 8), noise=0.2, optimizer="adam", lr=0.01)
    whole, pieces = Trainer(config), Trainer(config)
    whole.step(1000)
    rng = np.random.default_rng(1)
    while pieces.step_count < 1000:
        pieces.step(int(min(rng.integers(1, 60), 1000 - pieces.step_count)))
    for pa, pb in zip(whole.model.parameters(), pieces.model.parameters(), strict=True):
        assert_array_equal(pa, pb)
    assert whole.history.train_loss == pieces.history.train_loss


def test_divergence_is_found_at_the_same_step_and_stops_both():
    config = MLPConfig(dataset="plane", hidden=(8, 8), activation="relu", lr=10.0, init="he")
    a, b = Trainer(config), Trainer(config, compiled=False)
    a.run_epochs(20)
    b.run_epochs(20)
    assert a.diverged and b.diverged and a.step_count == b.step_count
    assert a.step(5) == 0
    assert a.metrics().diverged


def test_configurations_it_does_not_cover_run_in_numpy(monkeypatch):
    t = Trainer(MLPConfig())
    assert t.runs_compiled
    monkeypatch.setattr(fused, "OPTIMIZERS", ("adam",))
    assert not t.runs_compiled  # sgd is not on the (patched) list: the NumPy engine runs it
    before = t.model.W[0].copy()
    assert t.step(5) == 5 and not np.array_equal(before, t.model.W[0])
    assert t.trace is not None


def test_large_updates_run_in_numpy_where_blas_is_faster():
    small = Trainer(MLPConfig(hidden=(8,) * 6))
    large = Trainer(MLPConfig(dataset="spiral", hidden=(32,) * 8, n_points=1000, batch_size=250))
    assert small.runs_compiled and not large.runs_compiled
    large.update(batch_size=1)  # a live change: from the next update on, the compiled loop pays
    assert large.runs_compiled


def test_the_trace_is_of_the_update_that_ran_whatever_changes_after_it():
    added = tuple((0.1 * i, -0.2 * i, 1.0 if i % 2 else -1.0) for i in range(40))
    config = MLPConfig(n_points=40, added=added)
    a, b = Trainer(config), Trainer(config, compiled=False)
    for t in (a, b):
        t.step(5)
        t.update(regularization="l2", reg_rate=0.5)  # after the update: not in its trace
    for x, y in zip(a.trace.dW, b.trace.dW, strict=True):
        assert_allclose(x, y, rtol=0, atol=1e-12)
    a.run_epochs(1)
    a.update(added=None)  # the training set shrinks: the last batch's rows are gone from it
    assert a.trace is not None and len(a.trace.inputs) == 10
