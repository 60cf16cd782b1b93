"""engine.conv: the vectorized convolution against the plain loop, its backward against central
differences, padding modes and sizes against hand-worked cases (torch where installed)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine import conv
from engine.gradcheck import check

CASES = [
    # (N, C, H, W, D, kh, kw, stride, padding, dilation, mode)
    (1, 1, 7, 7, 1, 3, 3, 1, 0, 1, "zeros"),
    (2, 3, 6, 5, 4, 3, 2, 2, 1, 1, "zeros"),
    (1, 2, 9, 8, 3, 3, 3, 3, 2, 2, "reflect"),
    (2, 1, 5, 7, 2, 2, 4, 1, "same", 1, "replicate"),
    (1, 3, 8, 8, 2, 5, 5, 2, "same", 1, "circular"),
    (3, 2, 4, 6, 1, 1, 1, 4, 0, 3, "zeros"),
    (1, 1, 10, 3, 2, 3, 1, 1, ((2, 0), (1, 1)), 2, "reflect"),
    (1, 2, 7, 7, 2, 4, 4, 1, "same", 2, "circular"),
]


def _arrays(case, seed=0):
    N, C, H, W, D, kh, kw = case[:7]
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, C, H, W)), rng.normal(size=(D, C, kh, kw)), rng.normal(size=D)


@pytest.mark.parametrize("case", CASES)
def test_vectorized_equals_the_plain_loop(case):
    x, w, b = _arrays(case)
    stride, padding, dilation, mode = case[7:]
    for flip in (False, True):
        fast = conv.conv2d(x, w, b, stride, padding, dilation, mode, flip)
        slow = conv.conv2d_naive(x, w, b, stride, padding, dilation, mode, flip)
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_backward_matches_central_differences(case):
    x, w, b = _arrays(case, seed=1)
    stride, padding, dilation, mode = case[7:]
    out = conv.conv2d(x, w, b, stride, padding, dilation, mode)
    g = np.random.default_rng(2).normal(size=out.shape)  # L = Σ g ⊙ out

    def loss() -> float:
        return float((g * conv.conv2d(x, w, b, stride, padding, dilation, mode)).sum())

    dx, dw, db = conv.conv2d_backward(g, x, w, stride, padding, dilation, mode)
    x0, w0 = x.copy(), w.copy()
    assert check(loss, x, dx) < 1e-7
    assert check(loss, w, dw) < 1e-7
    assert check(loss, b, db) < 1e-7
    np.testing.assert_array_equal(x, x0)  # backward never writes into its inputs
    np.testing.assert_array_equal(w, w0)


def test_the_lecture_7x7_example_by_hand():
    x = np.arange(49, dtype=float).reshape(1, 1, 7, 7)
    w = np.array([[[[0, 1, 0], [1, -4, 1], [0, 1, 0]]]], dtype=float)  # Laplacian
    out = conv.conv2d(x, w)
    assert out.shape == (1, 1, 5, 5)  # ⌊(7 − 2 − 1) / 1⌋ + 1
    np.testing.assert_array_equal(out, 0)  # a plane has no curvature
    w = np.ones((1, 1, 3, 3))
    out = conv.conv2d(x, w, stride=2)
    assert out.shape == (1, 1, 3, 3)
    assert out[0, 0, 0, 0] == (0 + 1 + 2 + 7 + 8 + 9 + 14 + 15 + 16)


def test_shift_kernel_cross_correlation_goes_right_convolution_left():
    """The lecture's shift kernel: its 1 left of centre."""
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    k = np.zeros((1, 1, 3, 3))
    k[0, 0, 1, 0] = 1.0
    corr = conv.conv2d(x, k, padding=1)[0, 0]
    true = conv.conv2d(x, k, padding=1, flip=True)[0, 0]
    assert np.argwhere(corr == 1).tolist() == [[2, 3]]  # the dot moved right
    assert np.argwhere(true == 1).tolist() == [[2, 1]]  # the dot moved left


@pytest.mark.parametrize(("n", "k", "p", "s", "d", "expected"), [
    (7, 3, 0, 1, 1, 5), (7, 3, 1, 1, 1, 7), (7, 3, 0, 2, 1, 3), (8, 3, 0, 2, 1, 3),
    (7, 3, 0, 1, 2, 3), (224, 3, 1, 1, 1, 224), (32, 5, 2, 1, 1, 32), (5, 7, 0, 1, 1, -1),
])
def test_output_size_formula(n, k, p, s, d, expected):
    assert conv.output_size(n, k, p, s, d) == expected


@pytest.mark.parametrize(("n", "k", "s", "d"),
                         list(itertools.product([5, 6, 7, 16], [1, 2, 3, 4, 5], [1, 2, 3], [1, 2])))
def test_same_padding_keeps_the_size_or_ceil_over_stride(n, k, s, d):
    lo, hi = conv.same_padding(n, k, s, d)
    assert conv.output_size(n, k, (lo, hi), s, d) == -(-n // s)
    assert 0 <= hi - lo <= 1  # the odd extra row goes after, as torch and TensorFlow put it


@pytest.mark.parametrize("mode", conv.PAD_MODES)
def test_padding_modes_by_hand(mode):
    x = np.array([[1.0, 2.0, 3.0]])
    got = conv.pad(x, ((0, 0), (2, 2)), mode)[0].tolist()
    expected = {
        "zeros": [0, 0, 1, 2, 3, 0, 0],
        "reflect": [3, 2, 1, 2, 3, 2, 1],
        "replicate": [1, 1, 1, 2, 3, 3, 3],
        "circular": [2, 3, 1, 2, 3, 1, 2],
    }[mode]
    assert got == expected


def test_bad_shapes_and_sizes_say_what_to_change():
    x = np.zeros((1, 1, 3, 3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv.conv2d(x, np.zeros((1, 1, 5, 5)))
    with pytest.raises(ValueError, match="channels"):
        conv.conv2d(x, np.zeros((1, 2, 3, 3)))
    with pytest.raises(ValueError, match="reflect padding must be smaller"):
        conv.conv2d(x, np.zeros((1, 1, 3, 3)), padding=3, mode="reflect")
    with pytest.raises(ValueError, match="stride"):
        conv.conv2d(x, np.zeros((1, 1, 3, 3)), stride=0)
    with pytest.raises(ValueError, match="padding mode"):
        conv.pad(x, ((1, 1), (1, 1)), "mirror")


@pytest.mark.parametrize("case", CASES)
def test_against_torch(case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, w, b = _arrays(case, seed=3)
    stride, padding, dilation, mode = case[7:]
    pads = conv.resolve_padding(padding, x.shape[-2:], w.shape[-2:], stride, dilation)
    (t, bt), (l, r) = pads
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt_ = torch.tensor(b, requires_grad=True)
    torch_mode = {"zeros": "constant"}.get(mode, mode)
    out_t = F.conv2d(F.pad(xt, (l, r, t, bt), mode=torch_mode), wt, bt_, stride=stride, dilation=dilation)
    out = conv.conv2d(x, w, b, stride, padding, dilation, mode)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(4).normal(size=out.shape)
    out_t.backward(torch.tensor(g))
    dx, dw, db = conv.conv2d_backward(g, x, w, stride, padding, dilation, mode)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, bt_.grad.numpy(), rtol=1e-12, atol=1e-12)
