"""engine.image_trainer: the default ConvNet learns the digits, runs are reproducible from the
seed, live changes keep the weights, divergence is a state, and the readings (confusion,
examples, filters, gradient norms, update ratios) agree with each other."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.image_trainer import DEFAULT_LAYERS, LIVE_FIELDS, ImageConfig, ImageTrainer


@pytest.fixture(scope="module")
def trained():
    """The default network after 4 epochs on the digits (the lab's first ten seconds)."""
    tr = ImageTrainer(ImageConfig())
    tr.run_epochs(4)
    return tr


def test_default_convnet_passes_95_percent_on_the_digits(trained):
    m = trained.metrics()
    assert len(trained.X_train) == 1438 and len(trained.X_test) == 359  # 80 / 20, class by class
    assert m.epoch == 4 and m.step == 4 * 45
    assert m.test_accuracy >= 0.95, m
    h = trained.history
    assert h.epochs == [0, 1, 2, 3, 4]
    assert h.test_accuracy[0] < 0.3 < h.test_accuracy[-1]  # from chance to learned
    assert h.train_loss[-1] < h.train_loss[0] / 5


def test_confusion_matrix_agrees_with_accuracy_and_examples(trained):
    c = trained.confusion()
    assert c.shape == (10, 10) and c.sum() == len(trained.X_test)
    assert np.trace(c) / c.sum() == pytest.approx(trained.metrics().test_accuracy)
    np.testing.assert_array_equal(c.sum(axis=1), np.bincount(trained.y_test, minlength=10))
    t, p = np.unravel_index(np.argmax(c - np.diag(np.diag(c))), c.shape)  # the most common mistake
    idx = trained.confusion_examples(t, p)
    assert len(idx) == c[t, p]
    assert np.all(trained.y_test[idx] == t)
    assert np.all(trained.predict(trained.X_test[idx]).argmax(axis=1) == p)


def test_example_trace_holds_every_feature_map(trained):
    image = trained.X_test[3]
    tr = trained.example(image)
    assert [t.name for t in tr.walk()] == trained.model.names
    shapes = {t.name: t.output.shape for t in tr.walk()}
    assert shapes["conv1"] == (1, 8, 8, 8) and shapes["pool2"] == (1, 16, 2, 2)
    np.testing.assert_allclose(tr.probs, trained.predict(image[None]))
    np.testing.assert_allclose(tr.probs, trained.test_evaluation().probs[3:4], atol=1e-12)


def test_filters_move_from_their_initial_state(trained):
    assert set(trained.filters()) == {"conv1", "conv2"}
    assert trained.filters()["conv1"].shape == (8, 1, 3, 3)
    for name, w in trained.filters().items():
        assert not np.allclose(w, trained.initial_filters[name]), name


def test_gradient_norms_and_update_ratios(trained):
    norms = trained.grad_norms()
    assert list(norms) == ["conv1", "conv2", "output"]
    assert all(v > 0 and math.isfinite(v) for v in norms.values())
    assert list(trained.last_update) == ["conv1", "conv2", "output"]
    assert all(0 < v < 1 for v in trained.last_update.values())


def test_same_seed_same_run_and_a_new_seed_another():
    a, b = ImageTrainer(ImageConfig()), ImageTrainer(ImageConfig())
    a.step(12)
    b.step(12)
    assert a.metrics() == b.metrics()
    np.testing.assert_array_equal(a.filters()["conv2"], b.filters()["conv2"])
    c = ImageTrainer(ImageConfig(seed=1))
    c.step(12)
    assert not np.array_equal(a.filters()["conv2"], c.filters()["conv2"])


def test_augmentation_changes_the_images_not_the_batch_order_or_weights():
    plain = ImageTrainer(ImageConfig())
    aug = ImageTrainer(ImageConfig(augment_shift=2, augment_noise=0.1))
    np.testing.assert_array_equal(plain._y_epoch, aug._y_epoch)
    np.testing.assert_array_equal(plain.filters()["conv1"], aug.filters()["conv1"])
    plain.step(1)
    aug.step(1)
    np.testing.assert_array_equal(plain.trace.labels, aug.trace.labels)
    assert not np.array_equal(plain.trace.inputs, aug.trace.inputs)


def test_live_changes_keep_the_weights_and_reset_fields_start_over():
    tr = ImageTrainer(ImageConfig())
    tr.step(5)
    w = tr.filters()["conv1"].copy()
    assert {"lr", "optimizer", "batch_size", "augment_shift"} <= LIVE_FIELDS
    assert tr.update(lr=0.001, batch_size=16) is False
    assert tr.optimizer.lr == 0.001 and tr.step_count == 5
    np.testing.assert_array_equal(tr.filters()["conv1"], w)
    assert tr.update(optimizer="momentum", lr=0.05) is False
    tr.step(1)
    assert type(tr.optimizer).__name__ == "Momentum" and len(tr.trace.labels) == 16
    assert tr.update(layers=DEFAULT_LAYERS[:3]) is True
    assert tr.step_count == 0 and list(tr.filters()) == ["conv1"]


def test_divergence_is_a_state():
    """A linear stack with a huge step overflows within a few steps: training stops there."""
    layers = ({"type": "dense", "units": 32}, {"type": "linear"}, {"type": "dense", "units": 32})
    tr = ImageTrainer(ImageConfig(optimizer="sgd", lr=1e3, layers=layers))
    ran = tr.step(50)
    assert tr.diverged and ran < 50
    assert tr.step(5) == 0
    assert tr.metrics().diverged


def test_shapes_train_size_and_label_noise():
    tr = ImageTrainer(ImageConfig(dataset="shapes", n_images=200, image_size=10, train_size=100,
                                  label_noise=0.5, batch_size=20))
    assert tr.model.shapes((1, 10, 10))[-1] == (4,)
    assert len(tr.X_train) == 100 and tr.batches_per_epoch == 5
    clean = ImageTrainer(ImageConfig(dataset="shapes", n_images=200, image_size=10, train_size=100))
    changed = np.mean(tr.y_train != clean.y_train)
    assert 0.25 < changed < 0.5  # half are redrawn, a quarter of those land on their own class
    np.testing.assert_array_equal(tr.y_test, clean.y_test)  # the test labels stay true


def test_a_bad_architecture_is_a_value_error_naming_the_layer():
    layers = (*DEFAULT_LAYERS, {"type": "maxpool", "size": 2}, {"type": "maxpool", "size": 2})
    with pytest.raises(ValueError, match=r"layer 8 \(maxpool 2×2\): the 2×2 window does not fit the 1×1 map"):
        ImageTrainer(ImageConfig(layers=layers))


def test_running_train_metrics_are_the_last_epochs_batches():
    """With lr = 0 the weights stay put, so the running mean over one epoch of mini-batches is
    exactly the loss and accuracy of the whole training set."""
    tr = ImageTrainer(ImageConfig(optimizer="sgd", lr=0.0, batch_size=50))
    at_start = tr.metrics()
    exact = tr.train_evaluation()
    assert (at_start.train_loss, at_start.train_accuracy) == (exact.loss, exact.accuracy)
    tr.run_epochs(1)
    m = tr.metrics()
    assert m.train_loss == pytest.approx(exact.loss, rel=1e-12)
    assert m.train_accuracy == pytest.approx(exact.accuracy, rel=1e-12)
    assert tr.history.train_loss[-1] == pytest.approx(exact.loss, rel=1e-12)
