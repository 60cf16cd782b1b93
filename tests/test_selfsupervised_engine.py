"""The self-supervised lab's engine: the augmentations and views (engine.augment, engine.views),
the linear probe (engine.probe), the contrastive trainer and its evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from engine import augment, probe, views
from engine.contrastive_eval import probe_cells, sweep_points, train_supervised
from engine.contrastive_trainer import ContrastiveConfig, ContrastiveTrainer
from engine.gradcheck import check
from engine.image_data import load_digits


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.fixture(scope="module")
def digits():
    return np.array(load_digits().images[:24])


# ---- augmentations ---------------------------------------------------------------------------

ALL = [
    (augment.crop_resize, 0.5), (augment.rotate, 30.0), (augment.flip, 0.5), (augment.shift, 2),
    (augment.contrast, 0.5), (augment.blur, 1.5), (augment.noise, 0.2), (augment.cutout, 3),
]


@pytest.mark.parametrize(("fn", "strength"), ALL, ids=[f.__name__ for f, _ in ALL])
def test_each_transform_is_seeded_in_range_and_off_at_zero(digits, fn, strength):
    a, b = fn(digits, strength, rng(1)), fn(digits, strength, rng(1))
    np.testing.assert_array_equal(a, b)  # the same Generator state draws the same view
    assert a.shape == digits.shape and a is not digits
    assert a.min() >= 0.0 and a.max() <= 1.0 + 1e-12
    assert not np.array_equal(a, digits)
    off = fn(digits, 0, rng(1))
    np.testing.assert_array_equal(off, digits)
    assert off is not digits


def test_affine_sampler_by_hand():
    x = np.arange(16, dtype=float).reshape(1, 1, 4, 4) / 15
    same = augment.affine(x, np.eye(2)[None], np.zeros((1, 2)))
    np.testing.assert_allclose(same, x, atol=1e-15)
    # p ↦ (p_col, −p_row): a quarter turn counter-clockwise, np.rot90's
    quarter = augment.affine(x, np.array([[[0.0, 1.0], [-1.0, 0.0]]]), np.zeros((1, 2)))
    np.testing.assert_allclose(quarter[0, 0], np.rot90(x[0, 0]), atol=1e-15)
    # half a pixel to the right: each pixel the mean of two neighbours, the last one half of 0
    half = augment.affine(x, np.eye(2)[None], np.array([[0.0, 0.5]]))
    np.testing.assert_allclose(half[0, 0, 0], [0.5 / 15, 1.5 / 15, 2.5 / 15, 1.5 / 15])


def test_geometric_reproduces_shift_and_flip_exactly(digits):
    shifted = augment.geometric(digits, 0, 0, 0, 2, rng(3))
    np.testing.assert_array_equal(shifted, augment.shift(digits, 2, rng(3)))
    flipped = augment.geometric(digits, 0, 0.5, 0, 0, rng(4))
    np.testing.assert_array_equal(flipped, augment.flip(digits, 0.5, rng(4)))


def test_flip_mirrors_and_crop_at_full_area_is_a_resize(digits):
    flipped = augment.flip(digits, 1.0, rng())
    np.testing.assert_array_equal(flipped, digits[..., ::-1])
    # crop strength → 0: s ≈ 1, aspect ≤ 4/3: the crop is most of the image, a mild resize
    mild = augment.crop_resize(digits, 1e-9, rng())
    assert np.abs(mild - digits).mean() < np.abs(augment.crop_resize(digits, 0.8, rng()) - digits).mean()


def test_blur_keeps_mass_and_constants():
    flat = np.full((3, 1, 8, 8), 0.4)
    np.testing.assert_allclose(augment.blur(flat, 1.5, rng()), 0.4, atol=1e-12)
    dot = np.zeros((5, 1, 9, 9))
    dot[:, 0, 4, 4] = 1.0
    out = augment.blur(dot, 1.0, rng(2))  # radius 2: the impulse's blur stays inside
    np.testing.assert_allclose(out.sum(axis=(1, 2, 3)), 1.0, atol=1e-12)
    assert (out[:, 0, 4, 4] <= 1.0).all() and (out[:, 0, 4, 4] < 1.0).any()


def test_contrast_keeps_the_mean_and_cutout_removes_a_square():
    x = rng(5).uniform(0.4, 0.6, (6, 1, 8, 8))
    out = augment.contrast(x, 0.5, rng())
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), x.mean(axis=(1, 2, 3)), atol=1e-12)
    ones = np.ones((200, 1, 8, 8))
    zeros = (augment.cutout(ones, 3, rng(6)) == 0).sum(axis=(1, 2, 3))
    assert zeros.max() == 9 and zeros.min() >= 4  # a 3×3 square, cut where it sticks out


def test_views_pipeline(digits):
    aug = views.Augmentation()
    v1, v2 = views.two_views(digits, aug, rng(7))
    again = views.two_views(digits, aug, rng(7))
    np.testing.assert_array_equal(v1, again[0])
    np.testing.assert_array_equal(v2, again[1])
    assert not np.array_equal(v1, v2)  # two independent views of each image
    np.testing.assert_array_equal(views.apply(digits, views.Augmentation.off(), rng()), digits)
    assert set(views.TRANSFORMS) == set(views.ORDER) == {f for f in aug.__dataclass_fields__}
    with pytest.raises(ValueError, match="rotate strength must be in"):
        views.Augmentation(rotate=90)
    for t in views.TRANSFORMS.values():
        assert t.lo <= t.on <= t.hi and t.label and t.strength


# ---- the linear probe ------------------------------------------------------------------------

def test_probe_gradient_and_convergence():
    r = rng(8)
    x = r.normal(size=(40, 3))
    y = r.integers(0, 4, 40)
    W, b = r.normal(size=(3, 4)) * 0.3, r.normal(size=4) * 0.1
    _, dW, db = probe.loss_and_grads(x, y, W, b, 0.01)
    assert check(lambda: probe.loss_and_grads(x, y, W, b, 0.01)[0], W, dW) < 1e-7
    assert check(lambda: probe.loss_and_grads(x, y, W, b, 0.01)[0], b, db) < 1e-7
    fit = probe.fit(x, y, 4, weight_decay=0.01, iterations=2000)
    assert fit.grad_norm < 1e-4  # at the (unique) minimum of a strongly convex loss


def test_probe_separates_separable_classes():
    r = rng(9)
    centres = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0]])
    y = np.repeat(np.arange(3), 30)
    x = centres[y] + r.normal(size=(90, 2)) * 0.5
    fit = probe.fit(x, y, 3)
    assert fit.accuracy(x, y) == 1.0
    const = np.column_stack([x, np.ones(90)])  # a constant feature is left alone, not NaN
    assert probe.fit(const, y, 3).accuracy(const, y) == 1.0


def test_labelled_subset_is_stratified():
    labels = np.repeat(np.arange(4), [100, 50, 10, 3])
    idx = probe.labelled_subset(labels, 0.1, rng())
    assert np.bincount(labels[idx]).tolist() == [10, 5, 1, 1]  # at least one of every class
    assert len(np.unique(idx)) == len(idx)
    assert len(probe.labelled_subset(labels, 1.0, rng())) == len(labels)
    with pytest.raises(ValueError):
        probe.labelled_subset(labels, 0.0, rng())


# ---- the trainer -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained():
    t = ContrastiveTrainer(ContrastiveConfig())
    start = t.batch.result.loss
    t.step(150)
    return t, start


def test_training_lowers_the_loss_and_spreads_the_embedding(trained):
    t, start = trained
    h = t.history
    assert len(h.loss) == 150 and h.steps[-1] == 149
    assert np.mean(h.loss[-20:]) < start - 0.5  # 4.13 at the start (≈ log 63), well below after
    assert h.eval_steps == list(range(0, 151, 25))
    assert h.uniformity[-1] < h.uniformity[0] - 0.5  # from one bright clump to a spread sphere
    ev = t.evaluate()
    assert ev.coords.shape == (len(t.X_test), 2) and ev.z.shape == (len(t.X_test), 16)
    np.testing.assert_allclose(np.linalg.norm(ev.z, axis=1), 1.0)


def test_labels_are_never_read_in_training():
    a = ContrastiveTrainer(ContrastiveConfig(batch_size=8))
    b = ContrastiveTrainer(ContrastiveConfig(batch_size=8))
    b.y_train = rng().permutation(b.y_train)  # scrambled labels: the same training
    a.step(5)
    b.step(5)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)


def test_same_seed_same_run_and_live_changes():
    a = ContrastiveTrainer(ContrastiveConfig(batch_size=8, seed=3))
    b = ContrastiveTrainer(ContrastiveConfig(batch_size=8, seed=3))
    a.step(4)
    b.step(4)
    assert a.history.loss == b.history.loss
    assert b.update(tau=0.5) is False and b.batch.result.tau == 0.5  # the picture follows at once
    assert b.update(embed_dim=8) is True and b.step_count == 0
    with pytest.raises(ValueError, match="batch_size at most"):
        b.update(batch_size=5000)
    assert b.config.batch_size == 8
    cost8 = a.step_cost()
    a.update(batch_size=16)
    assert a.step_cost() == 2 * cost8


def test_divergence_is_a_state():
    t = ContrastiveTrainer(ContrastiveConfig(batch_size=8, optimizer="sgd", lr=1e100))
    t.step(30)
    assert t.diverged and t.step_count < 30


def test_probe_table(trained):
    t, _ = trained
    cells = {(c.row, c.fraction): c for c in probe_cells(t, fractions=(0.1,), rows=("contrastive", "random"))}
    contrastive, random = cells["contrastive", 0.1], cells["random", 0.1]
    assert len(contrastive.accuracies) == 3 and contrastive.labelled == 143
    # 150 steps without a label already beat the untrained encoder by far (digits, seed 0)
    assert contrastive.accuracy > random.accuracy + 0.08


def test_supervised_baseline_starts_from_the_same_weights(trained):
    t, _ = trained
    untrained = train_supervised(t.config, t.X_train[:20], t.y_train[:20], 10, seed=0, steps=0)
    for p, q in zip(untrained.parameters(), t.initial_encoder, strict=True):
        np.testing.assert_array_equal(p, q)
    taught = train_supervised(t.config, t.X_train[:64], t.y_train[:64], 10, seed=0, steps=3)
    assert not np.array_equal(taught.parameters()[0], t.initial_encoder[0])


def test_sweep_points():
    cfg = ContrastiveConfig(batch_size=8)
    pts = list(sweep_points(cfg, taus=[0.1, 0.5], batch_sizes=[4], steps=3))
    assert [(p.param, p.value) for p in pts] == [("tau", 0.1), ("tau", 0.5), ("batch_size", 4)]
    assert all(0.0 <= p.accuracy <= 1.0 and np.isfinite(p.loss) for p in pts)
    assert list(sweep_points(cfg, [0.1], [], 3, should_stop=lambda: True)) == []


def test_loss_curve_bins_the_steps():
    from engine.contrastive_trainer import History

    h = History(steps=list(range(10)), loss=[float(i) for i in range(10)])
    steps, means = h.loss_curve(4)
    assert steps.tolist() == [1, 4, 7, 9]  # each bin's last step (edges 0, 2, 5, 8, 10)
    np.testing.assert_allclose(means, [0.5, 3.0, 6.0, 8.5])  # bins 0–1, 2–4, 5–7, 8–9
    steps, means = h.loss_curve(100)
    assert steps.tolist() == list(range(10)) and means.tolist() == h.loss
    assert History().loss_curve(5)[0].size == 0


def test_a_frozen_run_is_a_copy():
    from engine.contrastive_eval import freeze

    t = ContrastiveTrainer(ContrastiveConfig(batch_size=8))
    frozen = freeze(t)
    before = [p.copy() for p in frozen.encoder]
    t.step(3)
    for p, q in zip(frozen.encoder, before, strict=True):
        np.testing.assert_array_equal(p, q)
    assert frozen.step == 0 and not np.array_equal(t.encoder.parameters()[0], before[0])
