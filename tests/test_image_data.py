"""engine.image_data, engine.shapes, engine.augment: the shipped digits, the generated
shapes (areas by hand), the stratified split and the augmentations."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from engine import augment, image_data, shapes

DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"


def test_the_shipped_digits_file_is_the_documented_one():
    digest = hashlib.sha256(image_data.DIGITS_FILE.read_bytes()).hexdigest()
    assert digest == DIGITS_SHA256
    readme = (image_data.DATA_DIR / "README.md").read_text()
    assert DIGITS_SHA256 in readme and "CC BY 4.0" in readme


def test_digits():
    d = image_data.load_digits()
    assert len(d) == 1797 and d.image_shape == (1, 8, 8) and d.num_classes == 10
    assert np.bincount(d.labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert d.images.min() == 0.0 and d.images.max() == 1.0
    with gzip.open(image_data.DIGITS_FILE, "rt") as f:
        first = [float(v) for v in f.readline().split(",")]
    np.testing.assert_array_equal(d.images[0, 0].ravel(), np.array(first[:64]) / 16)
    assert d.labels[0] == first[64] == 0
    with pytest.raises(ValueError):
        d.images[0, 0, 0, 0] = 1.0  # one shared copy: read-only


def test_stratified_seeded_split():
    labels = np.repeat(np.arange(3), [10, 20, 30])
    images = np.arange(60, dtype=float).reshape(60, 1, 1, 1)  # each image names its row
    Xtr, ytr, Xte, yte = image_data.split(images, labels, 0.8, np.random.default_rng(0))
    assert np.bincount(ytr).tolist() == [8, 16, 24] and np.bincount(yte).tolist() == [2, 4, 6]
    rows = np.concatenate([Xtr.ravel(), Xte.ravel()]).astype(int)
    assert sorted(rows) == list(range(60))  # disjoint and complete
    np.testing.assert_array_equal(labels[rows], np.concatenate([ytr, yte]))  # labels travel along
    again = image_data.split(images, labels, 0.8, np.random.default_rng(0))
    np.testing.assert_array_equal(again[0], Xtr)
    other = image_data.split(images, labels, 0.8, np.random.default_rng(1))
    assert not np.array_equal(other[0], Xtr)
    with pytest.raises(ValueError, match="train_ratio"):
        image_data.split(images, labels, 0.0, np.random.default_rng(0))


@pytest.mark.parametrize(("kind", "area", "perimeter"), [
    (0, np.pi * 9, 2 * np.pi * 3),  # circle, r = 3
    (1, 4.8**2, 4 * 4.8),  # square of half-side 0.8 r
    (2, 3 * np.sqrt(3) / 4 * 9, 3 * 3 * np.sqrt(3)),  # equilateral, circumradius 3
    (3, 2 * 6 * 1.8 - 1.8**2, 4 * 6 + 4 * 1.8),  # two 6 × 1.8 bars, overlap counted once
])
@pytest.mark.parametrize("angle", [0.0, 0.3])
def test_shape_areas_by_hand(kind, area, perimeter, angle):
    """Coverage sums to the shape's area, up to the 1/4-pixel sampling along its outline."""
    img = shapes.render(np.array([kind]), 7.3, 6.1, 3.0, angle, 14)[0]
    assert abs(img.sum() - area) <= perimeter / 8 + 0.5
    assert img.min() >= 0 and img.max() == 1.0


def test_triangle_points_up_and_cross_is_symmetric():
    tri = shapes.render(np.array([2]), 8.0, 8.0, 6.0, 0.0, 16)[0]
    assert tri[4].sum() < tri[10].sum()  # narrow near the apex (top), wide near the base
    cross = shapes.render(np.array([3]), 8.0, 8.0, 6.0, 0.0, 16)[0]
    np.testing.assert_allclose(cross, cross.T)


@pytest.mark.parametrize("size", [8, 12, 16])
def test_generated_shapes_are_seeded_balanced_and_in_range(size):
    s = image_data.make_shapes(n=101, size=size, noise=0.2, seed=5)
    assert s.images.shape == (101, 1, size, size) and s.classes == shapes.CLASSES
    assert sorted(np.bincount(s.labels).tolist()) == [25, 25, 25, 26]
    assert s.images.min() >= 0 and s.images.max() <= 1
    again = image_data.make_shapes(n=101, size=size, noise=0.2, seed=5)
    np.testing.assert_array_equal(again.images, s.images)
    assert not np.array_equal(image_data.make_shapes(101, size, 0.2, seed=6).images, s.images)
    clean = image_data.make_shapes(n=40, size=size, noise=0.0, seed=5)
    assert np.all(clean.images.sum(axis=(1, 2, 3)) > 0.6 * (0.28 * size) ** 2)  # a shape in every image


def test_bad_shape_settings_say_what_to_change():
    with pytest.raises(ValueError, match="8…16 pixels"):
        shapes.generate(10, size=20)
    with pytest.raises(ValueError, match="noise"):
        shapes.generate(10, noise=-0.1)
    with pytest.raises(KeyError, match="digits"):
        image_data.load("mnist")


def test_shift_by_hand():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out = augment.shift_by(x, np.array([1]), np.array([-1]))[0, 0]  # down 1, left 1
    np.testing.assert_array_equal(out, [[0, 0, 0, 0], [1, 2, 3, 0], [5, 6, 7, 0], [9, 10, 11, 0]])


def test_random_shifts_cover_the_range_and_keep_the_content():
    x = np.zeros((400, 1, 9, 9))
    x[:, 0, 4, 4] = 1.0
    out = augment.shift(x, 2, np.random.default_rng(0))
    assert np.all(out.sum(axis=(1, 2, 3)) == 1.0)  # the dot stays inside, moved
    rows, cols = np.nonzero(out[:, 0])[1:]
    assert set(rows - 4) == set(cols - 4) == {-2, -1, 0, 1, 2}
    np.testing.assert_array_equal(x[:, 0, 4, 4], 1.0)  # the input is untouched


def test_noise_and_identity():
    x = np.full((50, 1, 8, 8), 0.5)
    out = augment.noise(x, 0.1, np.random.default_rng(0))
    assert out.std() == pytest.approx(0.1, rel=0.05) and np.all(x == 0.5)
    edge = augment.noise(np.ones((2, 1, 8, 8)), 0.5, np.random.default_rng(0))
    assert edge.max() == 1.0 and edge.min() >= 0.0
    same = augment.augment(x, 0, 0.0)
    np.testing.assert_array_equal(same, x)
    assert same is not x
