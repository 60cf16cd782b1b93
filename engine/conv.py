"""2-D convolution as deep-learning libraries compute it (cross-correlation), forward and backward.

Shapes: x (N, C, H, W); w (D, C, kh, kw); b (D,); out (N, D, H_out, W_out) with
    H_out = ⌊(H + p_top + p_bottom − d·(kh − 1) − 1) / s⌋ + 1   (likewise W_out),
    out[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v x_pad[n, c, i·s + u·d, j·s + v·d] · w[o, c, u, v].
`flip=True` turns the kernel by 180° first: true convolution, where a kernel with its 1 left of
centre shifts the image left (cross-correlation shifts it right).

Padding is an int, an (ph, pw) pair, ((top, bottom), (left, right)), "valid" or "same", with
torch's padding modes zeros, reflect, replicate and circular. "same" follows torch for stride 1
(total d·(k − 1), the extra row/column of an even kernel at the bottom/right) and TensorFlow
beyond it (H_out = ⌈H / s⌉).

The vectorized kernels take every window at once through a strided view (im2col without a
Python loop) and one matrix product; `conv2d_naive` is the plain nested loop they are tested
against. Backward returns new arrays and never writes into its inputs.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Array = np.ndarray
PadMode = Literal["zeros", "reflect", "replicate", "circular"]
PAD_MODES: tuple[str, ...] = ("zeros", "reflect", "replicate", "circular")
Pads = tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))


def same_padding(n: int, k: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding for "same" along one axis of n pixels.

    Stride 1: the output has n pixels. Stride s > 1 (TensorFlow's meaning): ⌈n / s⌉ pixels,
    padding only as much as the last window needs."""
    span = dilation * (k - 1) + 1
    out = math.ceil(n / stride)
    total = max((out - 1) * stride + span - n, 0)
    return total // 2, total - total // 2


def resolve_padding(padding: int | str | tuple, shape: tuple[int, int], kernel: tuple[int, int],
                    stride: int = 1, dilation: int = 1) -> Pads:
    """Any accepted padding spelling as ((top, bottom), (left, right))."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        return (same_padding(shape[0], kernel[0], stride, dilation),
                same_padding(shape[1], kernel[1], stride, dilation))
    if isinstance(padding, int | np.integer):
        p = int(padding)
        return (p, p), (p, p)
    if isinstance(padding, tuple | list) and len(padding) == 2:
        ph, pw = padding
        if isinstance(ph, int | np.integer) and isinstance(pw, int | np.integer):
            return (int(ph), int(ph)), (int(pw), int(pw))
        return (int(ph[0]), int(ph[1])), (int(pw[0]), int(pw[1]))
    raise ValueError(f"padding {padding!r}: give an int, (ph, pw), ((top, bottom), (left, right)), "
                     "'valid' or 'same'")


def output_size(n: int, k: int, pad: tuple[int, int] | int, stride: int = 1, dilation: int = 1) -> int:
    """⌊(n + p_before + p_after − d·(k − 1) − 1) / s⌋ + 1 (≤ 0: the kernel does not fit)."""
    total = 2 * pad if isinstance(pad, int) else pad[0] + pad[1]
    return (n + total - dilation * (k - 1) - 1) // stride + 1


def _source_index(n: int, before: int, after: int, mode: str) -> Array:
    """Which input row feeds each padded row (−1: a zero), for padding one axis of length n."""
    i = np.arange(-before, n + after)
    if mode == "zeros":
        return np.where((i >= 0) & (i < n), i, -1)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    if mode == "reflect":  # mirror without repeating the edge: … 2 1 | 0 1 2 … n−1 | n−2 …
        if n == 1:
            return np.zeros_like(i)
        period = 2 * (n - 1)
        j = np.abs(i) % period
        return np.where(j < n, j, period - j)
    raise ValueError(f"padding mode must be one of {list(PAD_MODES)}, not {mode!r}")


def check_padding(shape: tuple[int, int], pads: Pads, mode: str) -> None:
    """ValueError unless the mode can pad this much (torch's own limits: reflect < size,
    circular ≤ size)."""
    if mode not in PAD_MODES:
        raise ValueError(f"padding mode must be one of {list(PAD_MODES)}, not {mode!r}")
    for n, (lo, hi), axis in zip(shape, pads, ("height", "width"), strict=True):
        if lo < 0 or hi < 0:
            raise ValueError("padding must not be negative")
        if mode == "reflect" and max(lo, hi) >= n:
            raise ValueError(
                f"reflect padding must be smaller than the input {axis} ({n}), not {max(lo, hi)}")
        if mode == "circular" and max(lo, hi) > n:
            raise ValueError(
                f"circular padding must be at most the input {axis} ({n}), not {max(lo, hi)}")


def pad(x: Array, pads: Pads, mode: str = "zeros") -> Array:
    """x (…, H, W) padded to (…, H + top + bottom, W + left + right)."""
    (t, bt), (l, r) = pads
    if mode == "zeros":
        width = [(0, 0)] * (x.ndim - 2) + [(t, bt), (l, r)]
        return np.pad(x, width)
    check_padding(x.shape[-2:], pads, mode)
    rows = _source_index(x.shape[-2], t, bt, mode)
    cols = _source_index(x.shape[-1], l, r, mode)
    return x[..., rows[:, None], cols[None, :]]


def unpad_grad(g: Array, shape: tuple[int, int], pads: Pads, mode: str = "zeros") -> Array:
    """The adjoint of `pad`: dL/dx (…, H, W) from dL/dx_pad, summing what each pixel fed."""
    (t, bt), (l, r) = pads
    H, W = shape
    if mode == "zeros":
        return g[..., t : t + H, l : l + W].copy()
    rows = _source_index(H, t, bt, mode)
    cols = _source_index(W, l, r, mode)
    Ph = np.zeros((len(rows), H))
    Ph[np.arange(len(rows)), rows] = 1.0
    Pw = np.zeros((len(cols), W))
    Pw[np.arange(len(cols)), cols] = 1.0
    return np.einsum("ih,...ij,jw->...hw", Ph, g, Pw, optimize=True)


def windows(xp: Array, kernel: tuple[int, int], stride: int = 1, dilation: int = 1) -> Array:
    """Every window of a padded input as a strided view (N, C, H_out, W_out, kh, kw), no copy."""
    kh, kw = kernel
    eh, ew = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    v = sliding_window_view(xp, (eh, ew), axis=(-2, -1))
    return v[..., ::stride, ::stride, ::dilation, ::dilation]


def _checked(x: Array, w: Array, padding, stride: int, dilation: int, mode: str) -> Pads:
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"x must be (N, C, H, W) and w (D, C, kh, kw); got {x.shape} and {w.shape}")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"x has {x.shape[1]} channels but the kernels have {w.shape[1]}")
    if stride < 1 or dilation < 1:
        raise ValueError("stride and dilation must be at least 1")
    pads = resolve_padding(padding, x.shape[-2:], w.shape[-2:], stride, dilation)
    check_padding(x.shape[-2:], pads, mode)
    for n, k, p, axis in zip(x.shape[-2:], w.shape[-2:], pads, ("height", "width"), strict=True):
        if output_size(n, k, p, stride, dilation) < 1:
            raise ValueError(
                f"the kernel ({k} with dilation {dilation}) is larger than the padded input {axis} "
                f"({n} + {p[0] + p[1]})")
    return pads


def conv2d(x: Array, w: Array, b: Array | None = None, stride: int = 1, padding: int | str | tuple = 0,
           dilation: int = 1, mode: str = "zeros", flip: bool = False) -> Array:
    """out (N, D, H_out, W_out): torch.nn.functional.conv2d with padding_mode `mode`."""
    pads = _checked(x, w, padding, stride, dilation, mode)
    if flip:
        w = w[..., ::-1, ::-1]
    cols = windows(pad(x, pads, mode), w.shape[-2:], stride, dilation)  # (N, C, Ho, Wo, kh, kw)
    out = np.tensordot(cols, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, Ho, Wo, D)
    if b is not None:
        out += b
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def conv2d_backward(dout: Array, x: Array, w: Array, stride: int = 1, padding: int | str | tuple = 0,
                    dilation: int = 1, mode: str = "zeros") -> tuple[Array, Array, Array]:
    """(dx, dw, db) for out = conv2d(x, w, b, ...) given dout = dL/dout (N, D, H_out, W_out).

        dw[o, c, u, v] = Σ_{n,i,j} dout[n, o, i, j] · x_pad[n, c, i·s + u·d, j·s + v·d]
        db[o]          = Σ_{n,i,j} dout[n, o, i, j]
        dx_pad[n, c, i·s + u·d, j·s + v·d] += Σ_o dout[n, o, i, j] · w[o, c, u, v]
    then dx = the padding's adjoint applied to dx_pad."""
    pads = _checked(x, w, padding, stride, dilation, mode)
    kh, kw = w.shape[-2:]
    xp = pad(x, pads, mode)
    cols = windows(xp, (kh, kw), stride, dilation)
    dw = np.tensordot(dout, cols, axes=([0, 2, 3], [0, 2, 3]))  # (D, C, kh, kw)
    db = dout.sum(axis=(0, 2, 3))
    dcols = np.tensordot(dout, w, axes=([1], [0]))  # (N, Ho, Wo, C, kh, kw)
    Ho, Wo = dout.shape[-2:]
    dxp = np.zeros_like(xp, dtype=np.result_type(dout, w))
    for u in range(kh):
        for v in range(kw):
            r, c = u * dilation, v * dilation
            dxp[:, :, r : r + stride * (Ho - 1) + 1 : stride, c : c + stride * (Wo - 1) + 1 : stride] += (
                dcols[:, :, :, :, u, v].transpose(0, 3, 1, 2))
    return unpad_grad(dxp, x.shape[-2:], pads, mode), dw, db


def conv2d_im2col(x: Array, w: Array, b: Array | None = None, stride: int = 1,
                  padding: int | str | tuple = 0, dilation: int = 1, mode: str = "zeros"
                  ) -> tuple[Array, Array]:
    """(out, cols): `conv2d`'s output and the im2col matrix it multiplied, for a layer that keeps
    it for its backward pass (engine.nn.Conv2D).

    cols (N·H_out·W_out, C·kh·kw): row (n, i, j) is the window x_pad[n, :, i·s + u·d, j·s + v·d]
    flattened over (c, u, v), so out = cols · w_flatᵀ + b with w_flat (D, C·kh·kw). `out` is a
    transposed view of (N, H_out, W_out, D) memory: the same numbers as `conv2d`, without the
    copy into (N, D, H_out, W_out) order."""
    pads = _checked(x, w, padding, stride, dilation, mode)
    win = windows(pad(x, pads, mode), w.shape[-2:], stride, dilation)  # (N, C, Ho, Wo, kh, kw)
    N, C, Ho, Wo, kh, kw = win.shape
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(N * Ho * Wo, C * kh * kw)
    out = cols @ w.reshape(len(w), -1).T
    if b is not None:
        out += b
    return out.reshape(N, Ho, Wo, -1).transpose(0, 3, 1, 2), cols


def conv2d_backward_im2col(dout: Array, cols: Array, x_shape: tuple[int, ...], w: Array, stride: int = 1,
                           padding: int | str | tuple = 0, dilation: int = 1, mode: str = "zeros",
                           input_grad: bool = True) -> tuple[Array | None, Array, Array]:
    """`conv2d_backward` from the forward's im2col matrix (see conv2d_im2col):
        dw = dout_flatᵀ · cols,  db = Σ dout,  dcols = dout_flat · w_flat,
    with dout_flat (N·H_out·W_out, D); dx adds each kernel offset's column of dcols back onto the
    padded input, then applies the padding's adjoint. input_grad=False skips dx (None): a
    network's first layer needs no gradient for its input."""
    N, _, H, W = x_shape
    D, C, kh, kw = w.shape
    Ho, Wo = dout.shape[-2:]
    d2 = dout.transpose(0, 2, 3, 1).reshape(-1, D)
    dw = (d2.T @ cols).reshape(w.shape)
    db = d2.sum(axis=0)
    if not input_grad:
        return None, dw, db
    pads = resolve_padding(padding, (H, W), (kh, kw), stride, dilation)
    (t, bt), (l, r) = pads
    dcols = (d2 @ w.reshape(D, -1)).reshape(N, Ho, Wo, C, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    dxp = np.zeros((N, C, H + t + bt, W + l + r), dtype=np.result_type(dout, w))
    for u in range(kh):
        for v in range(kw):
            i, j = u * dilation, v * dilation
            dxp[:, :, i : i + stride * (Ho - 1) + 1 : stride, j : j + stride * (Wo - 1) + 1 : stride] += (
                dcols[:, :, u, v])
    return unpad_grad(dxp, (H, W), pads, mode), dw, db


def conv2d_naive(x: Array, w: Array, b: Array | None = None, stride: int = 1,
                 padding: int | str | tuple = 0, dilation: int = 1, mode: str = "zeros",
                 flip: bool = False) -> Array:
    """The same as `conv2d`, one output number at a time: the reference the tests trust."""
    pads = _checked(x, w, padding, stride, dilation, mode)
    if flip:
        w = w[..., ::-1, ::-1]
    xp = pad(x, pads, mode)
    N, C = x.shape[:2]
    D, _, kh, kw = w.shape
    Ho = output_size(x.shape[2], kh, pads[0], stride, dilation)
    Wo = output_size(x.shape[3], kw, pads[1], stride, dilation)
    out = np.zeros((N, D, Ho, Wo), dtype=np.result_type(x, w))
    for n in range(N):
        for o in range(D):
            for i in range(Ho):
                for j in range(Wo):
                    total = 0.0 if b is None else float(b[o])
                    for c in range(C):
                        for u in range(kh):
                            for v in range(kw):
                                r, q = i * stride + u * dilation, j * stride + v * dilation
                                total += xp[n, c, r, q] * w[o, c, u, v]
                    out[n, o, i, j] = total
    return out


def conv2d_taps(x: Array, w: Array, b: Array | None = None, stride: int = 1,
                padding: int | str | tuple = 0, dilation: int = 1, mode: str = "zeros",
                flip: bool = False) -> Array:
    """The same as `conv2d`, summed one kernel tap (u, v) at a time, channels last:
        out[n, i, j, :] += x_pad[n, i·s + u·d, j·s + v·d, :] @ w[:, :, u, v]ᵀ   for each (u, v).
    Memory of one output instead of a copy of every window (kh·kw times the input), for large
    kernels on whole images; kh·kw matrix products (C → D) over all positions at once."""
    pads = _checked(x, w, padding, stride, dilation, mode)
    if flip:
        w = w[..., ::-1, ::-1]
    D, C, kh, kw = w.shape
    Ho = output_size(x.shape[2], kh, pads[0], stride, dilation)
    Wo = output_size(x.shape[3], kw, pads[1], stride, dilation)
    xt = np.ascontiguousarray(pad(x, pads, mode).transpose(0, 2, 3, 1))  # (N, Hp, Wp, C)
    out = np.zeros((x.shape[0], Ho, Wo, D), dtype=np.result_type(x, w))
    for u in range(kh):
        for v in range(kw):
            r, c = u * dilation, v * dilation
            tap = xt[:, r : r + stride * (Ho - 1) + 1 : stride, c : c + stride * (Wo - 1) + 1 : stride]
            if C == D == 1:  # one channel, one filter (an image filter): a scaled add
                out += w[0, 0, u, v] * tap
            else:
                out += tap @ w[:, :, u, v].T
    if b is not None:
        out += b
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))
