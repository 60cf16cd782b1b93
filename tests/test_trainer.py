"""Training runs a person can check: XOR, the TF Playground default on circle, seeds, divergence."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine import datasets, features
from engine.mlp import MLP
from engine.trainer import MLPConfig, Trainer

XOR_TABLE = ((0, 0, -1), (0, 1, 1), (1, 0, 1), (1, 1, -1))


def test_xor_truth_table_learned_by_2_4_1_tanh():
    t = Trainer(MLPConfig(points=XOR_TABLE, train_ratio=1.0, hidden=(4,), lr=0.1, batch_size=4, seed=0))
    t.run_epochs(1000)
    m = t.metrics()
    assert m.train_accuracy == 1.0
    assert m.train_loss < 0.01
    out = t.model.predict(features.transform(np.array([[0, 0], [0, 1], [1, 0], [1, 1.0]]), ("x1", "x2")))
    assert_array_equal(np.sign(out[:, 0]), [-1, 1, 1, -1])


def test_xor_dataset_learned_by_2_4_1_tanh():
    t = Trainer(MLPConfig(dataset="xor", hidden=(4,), lr=0.03, seed=2))
    t.run_epochs(300)
    m = t.metrics()
    assert (m.train_accuracy, m.test_accuracy) == (1.0, 1.0)


def test_circle_learned_by_the_tf_playground_default():
    # 2-4-2-1 tanh, lr 0.03, batch 10, 500 points, half for training.
    t = Trainer(MLPConfig(dataset="circle", hidden=(4, 2), activation="tanh", lr=0.03, batch_size=10))
    assert t.model.sizes == [2, 4, 2, 1]
    first = t.metrics().train_loss
    t.run_epochs(100)
    m = t.metrics()
    assert m.epoch == 100 and m.step == 100 * 25
    assert m.train_loss < first / 10
    assert m.test_accuracy >= 0.97


def test_same_seed_same_run_and_other_seed_another():
    def run(seed):
        t = Trainer(MLPConfig(dataset="spiral", hidden=(6, 6), noise=0.1, seed=seed))
        t.step(137)
        return t
    a, b, c = run(4), run(4), run(5)
    for Wa, Wb in zip(a.model.W, b.model.W, strict=True):
        assert_array_equal(Wa, Wb)
    assert a.history.train_loss == b.history.train_loss
    assert not np.array_equal(a.model.W[0], c.model.W[0])


def test_reset_gives_back_the_initial_weights():
    t = Trainer(MLPConfig(seed=3))
    w0 = [W.copy() for W in t.model.W]
    t.step(40)
    t.reset()
    for a, b in zip(w0, t.model.W, strict=True):
        assert_array_equal(a, b)
    assert t.step_count == 0 and t.epoch == 0


def test_learning_rate_change_continues_the_run():
    t = Trainer(MLPConfig(optimizer="momentum", optimizer_params=(("momentum", 0.9),)))
    t.step(30)
    w = [W.copy() for W in t.model.W]
    buf = t.optimizer.state[0]["momentum_buffer"].copy()
    assert t.update(lr=0.1) is False
    assert t.optimizer.lr == 0.1 and t.step_count == 30
    for a, b in zip(w, t.model.W, strict=True):
        assert_array_equal(a, b)
    assert_array_equal(buf, t.optimizer.state[0]["momentum_buffer"])
    assert t.update(hidden=(3,)) is True
    assert t.step_count == 0 and t.model.sizes == [2, 3, 1]


def test_switching_optimizer_keeps_weights_with_fresh_state():
    t = Trainer(MLPConfig())
    t.step(10)
    w = t.model.W[0].copy()
    t.update(optimizer="adam", lr=0.01)
    assert t.optimizer.name == "adam" and t.optimizer.t == 0
    assert_array_equal(w, t.model.W[0])
    t.step(1)
    assert t.optimizer.t == 1


def test_divergence_is_a_state():
    t = Trainer(MLPConfig(dataset="plane", hidden=(8, 8), activation="relu", lr=10.0, init="he"))
    t.run_epochs(20)
    m = t.metrics()
    assert m.diverged and t.diverged
    ran = t.step(5)
    assert ran == 0  # a diverged run does not go on


def test_epochs_reshuffle_and_count_partial_batches():
    t = Trainer(MLPConfig(n_points=46, train_ratio=0.5, batch_size=10))  # 23 training points
    assert t.batches_per_epoch == 3
    first = t._F_epoch.copy()
    t.step(3)
    assert t.epoch == 1 and t.history.epochs == [0, 1]
    assert not np.array_equal(first, t._F_epoch)


def test_multiclass_softmax_training():
    t = Trainer(MLPConfig(dataset="blobs", num_classes=4, hidden=(8,), optimizer="adam", lr=0.01))
    assert t.config.resolved_loss == "softmax_ce" and t.model.sizes[-1] == 4
    t.run_epochs(60)
    assert t.metrics().test_accuracy > 0.9
    g = t.grids(16)
    assert g["output"].shape == (16, 16) and set(np.unique(g["output"])) <= {0, 1, 2, 3}
    assert_allclose(g["confidence"].max() <= 1.0, True)


def test_bce_with_sigmoid_output():
    t = Trainer(MLPConfig(dataset="gauss", loss="bce", hidden=(3,), lr=0.1))
    assert t.config.output_activation == "sigmoid"
    assert set(np.unique(t.T_train)) == {0.0, 1.0}
    t.run_epochs(30)
    assert t.metrics().test_accuracy > 0.95
    out = t.grids(8)["output"]
    assert out.min() >= -1 and out.max() <= 1


def test_grids_cover_every_neuron_in_one_pass():
    t = Trainer(MLPConfig(features=("x1", "x2", "x1x2"), hidden=(5, 3)))
    g = t.grids(20)
    assert g["inputs"].shape == (3, 20, 20)
    assert [n.shape for n in g["neurons"]] == [(5, 20, 20), (3, 20, 20)]
    # Row 0 is the top of the plot (x2 = +6), column 0 its left edge (x1 = −6).
    assert g["inputs"][0][0, 0] == pytest.approx(-6) and g["inputs"][1][0, 0] == pytest.approx(6)
    assert g["inputs"][2][0, 0] == pytest.approx(-36)


@pytest.mark.parametrize("name", sorted(datasets.DATASETS))
def test_datasets_shapes_and_labels(name):
    X, y = datasets.generate(name, 200, 0.2, seed=1, num_classes=4)
    assert X.shape == (200, 2) and y.shape == (200,)
    assert np.all(np.abs(X) < 9)
    problem = datasets.get(name).problem
    if problem == "classification":
        assert set(np.unique(y)) == {-1.0, 1.0}
    elif problem == "multiclass":
        assert set(np.unique(y)) == {0.0, 1.0, 2.0, 3.0}
    elif name == "plane":  # (x + y) / 10 of the noisy point, not clipped (as dataset.ts)
        assert np.all(np.abs(y) <= (12 + 12 * 0.2) / 10)
    else:
        assert np.all(np.abs(y) <= 1)


def test_circle_labels_follow_the_radius_without_noise():
    X, y = datasets.generate("circle", 300, 0.0, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.all((r < 2.5) == (y > 0))


def test_features_by_hand():
    X = np.array([[2.0, -3.0]])
    F = features.transform(X, ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"])
    assert_allclose(F, [[2, -3, 4, 9, -6, np.sin(2), np.sin(-3)]])
    with pytest.raises(KeyError, match="x1x2"):
        features.transform(X, ["x3"])


# ---- points clicked in, the trace's batch, a restored run, class probabilities -------------

def test_added_points_join_the_training_set_without_a_restart():
    t = Trainer(MLPConfig(dataset="circle", n_points=100, seed=2))
    t.run_epochs(5)
    step, epoch, W = t.step_count, t.epoch, [w.copy() for w in t.model.W]
    n_train, n_test = len(t.X_train), len(t.X_test)
    assert t.update(added=((1.0, 2.0, 1.0), (-3.0, 0.5, -1.0))) is False
    assert (t.step_count, t.epoch) == (step, epoch)
    assert all(np.array_equal(a, b) for a, b in zip(W, t.model.W, strict=True))
    assert len(t.X_train) == n_train + 2 and len(t.X_test) == n_test
    assert t.X_train[-2:].tolist() == [[1.0, 2.0], [-3.0, 0.5]] and t.y_train[-2:].tolist() == [1.0, -1.0]
    assert t.config.train_ratio == 0.5  # the split of the other points stays as it was
    t.run_epochs(1)
    assert t.epoch == epoch + 1 and len(t.history.epochs) == epoch + 2
    # a reset keeps the added points in the training set
    t.reset()
    assert len(t.X_train) == n_train + 2 and t.step_count == 0


def test_drawn_points_alone_are_a_training_set():
    t = Trainer(MLPConfig(points=(), added=((1.0, 1.0, 1.0), (-1.0, -1.0, -1.0)), problem="classification",
                          lr=0.3))
    assert len(t.X_train) == 2 and len(t.X_test) == 0
    t.run_epochs(50)
    assert t.metrics().train_accuracy == 1.0 and t.metrics().test_accuracy is None


def test_the_trace_names_its_batch_rows_and_targets():
    t = Trainer(MLPConfig(dataset="xor", n_points=60, batch_size=7, seed=1))
    t.step(3)
    rows, tr = t.trace_rows, t.trace
    assert len(rows) == 7 and len(set(rows.tolist())) == 7
    assert np.array_equal(tr.inputs, t.F_train[rows])
    assert np.array_equal(t.trace_targets, t.T_train[rows])
    # the batch's gradient recomputed from its rows (weights before the step are not kept:
    # recompute the forward of the next step instead)
    W = [w.copy() for w in t.model.W]
    b = [v.copy() for v in t.model.b]
    t.step(1)
    net = MLP(t.model.sizes, t.config.activation, t.config.output_activation)
    for l in range(len(W)):
        net.W[l][...], net.b[l][...] = W[l], b[l]
    again = net.loss_and_grads(t.F_train[t.trace_rows], t.T_train[t.trace_rows], "squared")
    assert again.loss == pytest.approx(t.trace.loss, rel=1e-12)
    for g1, g2 in zip(again.dW, t.trace.dW, strict=True):
        assert np.allclose(g1, g2, rtol=1e-12, atol=1e-15)


def test_restored_progress_keeps_epoch_and_history():
    t = Trainer(MLPConfig(dataset="circle", n_points=100))
    t.run_epochs(7)
    h = t.history
    u = Trainer(MLPConfig(dataset="circle", n_points=100))
    u.set_weights([(w.copy(), b.copy()) for w, b in zip(t.model.W, t.model.b, strict=True)])
    u.restore_progress(t.step_count, t.epoch, h.epochs, h.train_loss, h.test_loss)
    assert (u.step_count, u.epoch) == (t.step_count, t.epoch)
    assert u.history.epochs == h.epochs and u.history.train_loss == pytest.approx(h.train_loss)
    # the epochs' shuffles consumed as the uninterrupted run: the next epoch is the same
    t.run_epochs(1)
    u.run_epochs(1)
    assert np.allclose(t.model.W[0], u.model.W[0], rtol=1e-12)
    with pytest.raises(ValueError, match="history"):
        u.restore_progress(10, 2, [0, 1], [0.5], [0.5, 0.4])


def test_multiclass_grids_carry_each_class_probability():
    t = Trainer(MLPConfig(dataset="blobs", num_classes=4, n_points=200))
    t.run_epochs(3)
    g = t.grids(12)
    P = g["probabilities"]
    assert P.shape == (4, 12, 12)
    assert np.allclose(P.sum(axis=0), 1.0)
    assert np.array_equal(np.argmax(P, axis=0), g["output"])
