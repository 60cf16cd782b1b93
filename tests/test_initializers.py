"""engine.initializers: shapes, scales and the properties each rule promises, for dense
weights (n_in, n_out) and convolution kernels (D, C, kh, kw)."""

from __future__ import annotations

import numpy as np
import pytest

from engine import initializers


@pytest.mark.parametrize("name", sorted(initializers.INITIALIZERS))
def test_shapes_and_seeding(name):
    init = initializers.get(name)
    W, b = init(5, 3, np.random.default_rng(0))
    assert W.shape == (5, 3) and b.shape == (3,)
    W2, _ = init(5, 3, np.random.default_rng(0))
    np.testing.assert_array_equal(W, W2)
    w, b = init.kernel((4, 2, 3, 3), np.random.default_rng(0))
    assert w.shape == (4, 2, 3, 3) and b.shape == (4,)


def test_scales():
    rng = np.random.default_rng(1)
    W, b = initializers.small_uniform(300, 300, rng)
    assert np.abs(W).max() <= 0.01 and np.all(b == 0)
    W, _ = initializers.xavier(300, 100, rng)
    assert np.abs(W).max() <= np.sqrt(6 / 400)
    assert W.var() == pytest.approx(2 / 400, rel=0.05)  # a² / 3 with a² = 6 / (fan_in + fan_out)
    W, _ = initializers.he(200, 300, rng)
    assert W.var() == pytest.approx(2 / 200, rel=0.05)
    W, b = initializers.tf_uniform(4, 4, rng)
    assert np.abs(W).max() <= 0.5 and np.all(b == 0.1)


def test_kernels_count_fans_as_torch():
    """fan_in = C·kh·kw, fan_out = D·kh·kw: Xavier's bound for (16, 8, 3, 3) is √(6 / (72 + 144))."""
    w, _ = initializers.xavier.kernel((16, 8, 3, 3), np.random.default_rng(2))
    bound = np.sqrt(6 / (8 * 9 + 16 * 9))
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.9 * bound
    w, _ = initializers.he.kernel((64, 32, 3, 3), np.random.default_rng(3))
    assert w.var() == pytest.approx(2 / (32 * 9), rel=0.05)


@pytest.mark.parametrize(("n_in", "n_out"), [(6, 6), (8, 3), (3, 8)])
def test_orthogonal_rows_or_columns_are_orthonormal(n_in, n_out):
    W, b = initializers.orthogonal(n_in, n_out, np.random.default_rng(4))
    small = min(n_in, n_out)
    gram = W.T @ W if n_in >= n_out else W @ W.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    assert np.all(b == 0)
    x = np.random.default_rng(5).normal(size=(10, n_in))
    if n_in == n_out:  # a square orthogonal map keeps every vector's length
        np.testing.assert_allclose(np.linalg.norm(x @ W, axis=1), np.linalg.norm(x, axis=1))


def test_orthogonal_kernel_rows_are_orthonormal():
    w, _ = initializers.orthogonal.kernel((4, 2, 3, 3), np.random.default_rng(6))
    M = w.reshape(4, -1)  # torch's view: (out, in·kh·kw) with orthonormal rows
    np.testing.assert_allclose(M @ M.T, np.eye(4), atol=1e-12)


def test_unknown_initializer_names_the_choices():
    with pytest.raises(KeyError, match="orthogonal"):
        initializers.get("glorot")
