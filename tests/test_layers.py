"""engine.nn: every layer's backward against central differences (odd sizes, strides and
padding, batch size 1), pooling against its plain loop, and hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from engine import activations, conv
from engine.gradcheck import check
from engine.nn import (
    Activation,
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPool2D,
    Normalize,
    Residual,
    Sequential,
    softmax_cross_entropy,
)
from engine.nn.pool import pool_naive
from tests.test_conv_engine import CASES as CONV_ENGINE_CASES

TOL = 1e-7


def grad_errors(layer, x, train=True, reseed=None):
    """Largest relative errors of dL/dx and every dL/dθ for L = Σ g ⊙ layer(x)."""
    def run():
        if reseed is not None:
            reseed()
        return layer.forward(x, train)

    g = np.random.default_rng(99).normal(size=run().shape)

    def loss() -> float:
        return float((g * run()).sum())

    run()
    g_before = g.copy()
    dx = layer.backward(g)
    np.testing.assert_array_equal(g, g_before)  # backward never writes into dout
    assert dx.shape == x.shape
    grads = {k: v.copy() for k, v in layer.grads.items()}
    errors = {"x": check(loss, x, dx)}
    for k, p in layer.params.items():
        errors[k] = check(loss, p, grads[k])
    return errors


def assert_small(errors):
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize(("n", "n_in", "n_out"), [(1, 5, 3), (4, 7, 2), (3, 1, 1)])
def test_dense(n, n_in, n_out):
    rng = np.random.default_rng(0)
    layer = Dense(n_in, n_out, "xavier", rng)
    layer.params["b"][...] = rng.normal(size=n_out)
    assert_small(grad_errors(layer, rng.normal(size=(n, n_in))))


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
@pytest.mark.parametrize("shape", [(1, 5), (2, 3, 5, 3)])
def test_activation(name, shape):
    x = np.random.default_rng(1).normal(size=shape)
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kinks of relu and leaky relu
    assert_small(grad_errors(Activation(name), x))


CONV_CASES = [
    # (N, C, H, W, filters, kernel, stride, padding, dilation, mode)
    (1, 1, 8, 8, 4, 3, 1, 1, 1, "zeros"),
    (1, 2, 7, 5, 3, 3, 2, 1, 1, "zeros"),
    (3, 3, 9, 9, 2, 5, 1, 2, 1, "zeros"),
    (2, 2, 6, 7, 3, 2, 2, 0, 1, "zeros"),
    (1, 1, 5, 5, 1, 1, 3, 0, 1, "zeros"),
    (2, 1, 7, 7, 2, 3, 1, "same", 1, "reflect"),
    (1, 3, 8, 6, 2, 3, 2, "same", 2, "circular"),
    (1, 2, 5, 9, 2, 5, 3, 2, 1, "replicate"),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d(case):
    N, C, H, W, D, k, s, p, d, mode = case
    rng = np.random.default_rng(2)
    layer = Conv2D(C, D, k, s, p, d, mode, "he", rng)
    layer.params["b"][...] = rng.normal(size=D)
    x = rng.normal(size=(N, C, H, W))
    out = layer.forward(x)
    assert out.shape == (N, *layer.output_shape((C, H, W)))
    assert_small(grad_errors(layer, x))


@pytest.mark.parametrize("case", CONV_ENGINE_CASES)
def test_the_im2col_path_is_conv2d_and_its_backward(case):
    """The layers' path through engine.conv gives conv2d's and conv2d_backward's numbers on
    every case engine.conv is tested on (padding modes, stride, dilation)."""
    N, C, H, W, D, kh, kw, stride, padding, dilation, mode = case
    rng = np.random.default_rng(10)
    x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(D, C, kh, kw)), rng.normal(size=D)
    out, cols = conv.conv2d_im2col(x, w, b, stride, padding, dilation, mode)
    np.testing.assert_allclose(out, conv.conv2d(x, w, b, stride, padding, dilation, mode), atol=1e-13)
    g = rng.normal(size=out.shape)
    dx, dw, db = conv.conv2d_backward_im2col(g, cols, x.shape, w, stride, padding, dilation, mode)
    rx, rw, rb = conv.conv2d_backward(g, x, w, stride, padding, dilation, mode)
    np.testing.assert_allclose(dx, rx, atol=1e-13)
    np.testing.assert_allclose(dw, rw, atol=1e-13)
    np.testing.assert_allclose(db, rb, atol=1e-13)
    none, dw2, _ = conv.conv2d_backward_im2col(g, cols, x.shape, w, stride, padding, dilation, mode,
                                               input_grad=False)
    assert none is None
    np.testing.assert_array_equal(dw2, dw)


def test_a_network_can_skip_its_input_gradient():
    rng = np.random.default_rng(11)
    layers = [Conv2D(1, 2, 3, 1, 1, rng=rng), Activation("tanh"), Flatten(), Dense(32, 3, rng=rng)]
    x, labels = rng.normal(size=(2, 1, 4, 4)), np.array([0, 2])
    full = Sequential(layers)
    full.loss_and_grads(x, labels)
    grads = [g.copy() for g in full.gradients()]
    lean = Sequential(layers, input_grad=False)
    trace = lean.loss_and_grads(x, labels)
    assert lean.backward(trace.layers[-1].grad) is None
    for a, b in zip(grads, lean.gradients(), strict=True):
        np.testing.assert_array_equal(a, b)


POOL_CASES = [
    # (N, C, H, W, kernel, stride, padding)
    (1, 1, 8, 8, 2, None, 0),
    (2, 3, 7, 5, 2, None, 0),
    (1, 2, 7, 7, 3, 2, 1),
    (3, 1, 5, 6, 2, 1, 0),
    (1, 2, 9, 7, 3, 3, 1),
    (2, 1, 4, 4, 4, None, 2),
]


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
def test_pooling_matches_its_loop_and_differences(case, cls):
    N, C, H, W, k, s, p = case
    layer = cls(k, s, p)
    x = np.random.default_rng(3).normal(size=(N, C, H, W))
    out = layer.forward(x)
    np.testing.assert_allclose(out, pool_naive(x, layer.kind, k, s, p), rtol=1e-13, atol=1e-13)
    assert out.shape == (N, *layer.output_shape((C, H, W)))
    assert_small(grad_errors(layer, x))


def test_max_pool_by_hand():
    x = np.array([[1.0, 5, 2, 0], [3, 4, 8, 1], [0, 0, 1, 1], [9, 0, 1, 2]]).reshape(1, 1, 4, 4)
    layer = MaxPool2D(2)
    np.testing.assert_array_equal(layer.forward(x)[0, 0], [[5, 8], [9, 2]])
    dx = layer.backward(np.array([[10.0, 20], [30, 40]]).reshape(1, 1, 2, 2))[0, 0]
    np.testing.assert_array_equal(dx, [[0, 10, 0, 0], [0, 0, 20, 0], [0, 0, 0, 0], [30, 0, 0, 40]])
    avg = AvgPool2D(2)
    np.testing.assert_array_equal(avg.forward(x)[0, 0], [[13 / 4, 11 / 4], [9 / 4, 5 / 4]])
    # ties (a window of ReLU zeros): the first maximum in row-major order takes the gradient
    ties = np.array([[0.0, 0, 2, 2], [0, 0, 2, 2]]).reshape(1, 1, 2, 4)
    layer.forward(ties)
    dx = layer.backward(np.array([[1.0, 1.0]]).reshape(1, 1, 1, 2))[0, 0]
    np.testing.assert_array_equal(dx, [[1, 0, 1, 0], [0, 0, 0, 0]])


def test_flatten_is_channel_major():
    x = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)
    layer = Flatten()
    out = layer.forward(x)
    np.testing.assert_array_equal(out[1], np.arange(12, 24))
    assert_small(grad_errors(layer, x))


def test_dropout_keeps_units_with_probability_and_scales():
    layer = Dropout(0.25, np.random.default_rng(4))
    x = np.ones((200, 50))
    out = layer.forward(x, train=True)
    kept = out > 0
    assert 0.72 < kept.mean() < 0.78
    np.testing.assert_allclose(out[kept], 1 / 0.75)
    np.testing.assert_array_equal(layer.forward(x, train=False), x)  # the identity in eval
    small = np.random.default_rng(5).normal(size=(3, 7))

    def reseed():
        layer.rng = np.random.default_rng(6)

    assert_small(grad_errors(layer, small, reseed=reseed))
    assert_small(grad_errors(layer, small, train=False))


@pytest.mark.parametrize("shape", [(6, 4), (1, 3, 5, 3), (4, 2, 3, 3), (2, 5)])
@pytest.mark.parametrize("train", [True, False])
def test_batchnorm(shape, train):
    rng = np.random.default_rng(7)
    layer = BatchNorm(shape[1])
    layer.params["gamma"][...] = rng.uniform(0.5, 2, shape[1])
    layer.params["beta"][...] = rng.normal(size=shape[1])
    layer.running_mean[...] = rng.normal(size=shape[1])
    layer.running_var[...] = rng.uniform(0.5, 2, shape[1])
    assert_small(grad_errors(layer, rng.normal(2.0, 3.0, size=shape), train=train))


def test_batchnorm_statistics_by_hand():
    layer = BatchNorm(1, momentum=0.1)
    x = np.array([[1.0], [2.0], [3.0], [6.0]])  # mean 3, biased var 3.5, unbiased 14/3
    out = layer.forward(x, train=True)
    np.testing.assert_allclose(out[:, 0], (x[:, 0] - 3) / np.sqrt(3.5 + 1e-5))
    np.testing.assert_allclose(layer.running_mean, [0.3])
    np.testing.assert_allclose(layer.running_var, [0.9 + 0.1 * 14 / 3])
    # In evaluation the running statistics normalize: (x − 0.3) / √(0.9 + 0.1·14/3 + ε).
    np.testing.assert_allclose(layer.forward(x, train=False)[:, 0],
                               (x[:, 0] - 0.3) / np.sqrt(0.9 + 0.1 * 14 / 3 + 1e-5))


RESIDUAL_BODIES = {
    "dense identity": ((5,), lambda rng: [Dense(5, 5, "xavier", rng), Activation("tanh"),
                                          Dense(5, 5, "xavier", rng)]),
    "dense projection": ((5,), lambda rng: [Dense(5, 3, "xavier", rng), Activation("sigmoid")]),
    "conv identity": ((2, 5, 5), lambda rng: [Conv2D(2, 2, 3, 1, 1, rng=rng), BatchNorm(2),
                                              Activation("tanh")]),
    "conv stride 2": ((2, 7, 7), lambda rng: [Conv2D(2, 3, 3, 2, 1, rng=rng), Activation("elu")]),
}


@pytest.mark.parametrize("name", sorted(RESIDUAL_BODIES))
@pytest.mark.parametrize("n", [1, 3])
def test_residual(name, n):
    shape, body = RESIDUAL_BODIES[name]
    rng = np.random.default_rng(8)
    block = Residual(body(rng), shape, "xavier", rng)
    assert (block.projection is None) == name.endswith("identity")
    x = rng.normal(size=(n, *shape))
    assert_small(grad_errors(block, x))
    g = np.random.default_rng(99).normal(size=block.forward(x, True).shape)

    def loss() -> float:
        return float((g * block.forward(x, True)).sum())

    block.backward(g)
    inner = [(layer, k, p, layer.grads[k].copy()) for _, layer in block.children()
             for k, p in layer.params.items()]  # every parameter in the block, projection included
    assert inner
    for layer, k, p, grad in inner:
        assert check(loss, p, grad) < TOL, (name, layer.describe(), k)


def test_residual_identity_adds_the_input():
    block = Residual([Dense(3, 3, "zeros")], (3,))
    x = np.array([[1.0, -2.0, 3.0]])
    np.testing.assert_array_equal(block.forward(x), x)  # F = 0: the block passes x through
    np.testing.assert_array_equal(block.backward(np.ones((1, 3))), np.ones((1, 3)))


def test_softmax_cross_entropy_by_hand():
    logits = np.array([[0.0, 0.0], [np.log(3.0), 0.0]])
    loss, dz, p = softmax_cross_entropy(logits, np.array([0, 1]))
    # ln 2 for the first row, −ln(1/4) for the second; mean over two rows
    assert loss == pytest.approx((np.log(2) + np.log(4)) / 2, abs=1e-15)
    np.testing.assert_allclose(p, [[0.5, 0.5], [0.75, 0.25]])
    np.testing.assert_allclose(dz, [[-0.25, 0.25], [0.375, -0.375]])


@pytest.mark.parametrize("n", [1, 5])
def test_whole_cnn_gradient(n):
    """Every parameter and the input of a conv → bn → relu → pool → residual → dense network."""
    rng = np.random.default_rng(9)
    model = Sequential([
        Conv2D(1, 3, 3, 1, 1, rng=rng), BatchNorm(3), Activation("tanh"), AvgPool2D(2),
        Residual([Conv2D(3, 3, 3, 1, 1, rng=rng), Activation("sigmoid")], (3, 3, 3), rng=rng),
        MaxPool2D(2, 1), Flatten(), Dense(12, 4, rng=rng),
    ])
    x = rng.normal(size=(n, 1, 7, 7))
    labels = rng.integers(0, 4, n)
    trace = model.loss_and_grads(x, labels)

    def loss() -> float:
        return softmax_cross_entropy(model.forward(x, True), labels)[0]

    assert trace.loss == pytest.approx(loss(), abs=1e-14)
    dx = model.backward(softmax_cross_entropy(model.forward(x, True), labels)[1])
    assert check(loss, x, dx) < TOL
    for p, g in zip(model.parameters(), [g.copy() for g in model.gradients()], strict=True):
        assert check(loss, p, g) < TOL


@pytest.mark.parametrize("n", [1, 4])
def test_normalize(n):
    x = np.random.default_rng(12).normal(size=(n, 5))
    layer = Normalize()
    y = layer.forward(x)
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), 1.0)
    np.testing.assert_allclose(y * np.linalg.norm(x, axis=1, keepdims=True), x)
    assert_small(grad_errors(layer, x))
    zero = layer.forward(np.zeros((1, 3)))  # a zero vector stays finite
    assert np.all(zero == 0) and np.all(np.isfinite(layer.backward(np.ones((1, 3)))))
