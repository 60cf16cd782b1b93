"""The step-by-step view of one convolution: every window position with its products.

For one filter w (C, kh, kw) over x (C, H, W) (a 2-D x or w is one channel):
    out[i, j] = b + Σ_c Σ_u Σ_v x_pad[c, i·s + u·d, j·s + v·d] · w'[c, u, v],
w' = w (cross-correlation, what conv2d computes) or w turned by 180° (true convolution, flip).
`products[i, j]` (C, kh, kw) holds every term of that sum; the output itself comes from
engine.conv.conv2d, the playground's one source of truth, and the terms add up to it.

Along each axis (n pixels, kernel k, padding p_before + p_after, stride s, dilation d):
    H_out = ⌊(n + p_before + p_after − d·(k − 1) − 1) / s⌋ + 1,
and the remainder of that division is the number of padded lines after the last window that
no window reaches: what the floor throws away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine import conv


@dataclass(frozen=True)
class AxisSize:
    """The output-size formula along one axis, every number of it."""

    n: int  # input pixels
    k: int  # kernel taps
    before: int  # padding before (top / left)
    after: int  # padding after (bottom / right)
    stride: int
    dilation: int
    numerator: int  # n + before + after − d·(k − 1) − 1
    out: int  # ⌊numerator / stride⌋ + 1
    remainder: int  # numerator mod stride: padded lines after the last window, never reached

    @property
    def span(self) -> int:
        """Lines one window covers: d·(k − 1) + 1."""
        return self.dilation * (self.k - 1) + 1

    @property
    def padded(self) -> int:
        return self.n + self.before + self.after


def axis_size(n: int, k: int, pad: tuple[int, int], stride: int = 1, dilation: int = 1) -> AxisSize:
    numerator = n + pad[0] + pad[1] - dilation * (k - 1) - 1
    return AxisSize(n, k, pad[0], pad[1], stride, dilation, numerator,
                    numerator // stride + 1, numerator % stride if numerator >= 0 else 0)


def same_explained(n: int, k: int, stride: int, dilation: int = 1) -> dict[str, int]:
    """What "same" means along one axis: ⌈n / s⌉ outputs (n at stride 1), the padding that
    takes (total, before, after; the odd one goes after)."""
    before, after = conv.same_padding(n, k, stride, dilation)
    return {"n": n, "stride": stride, "out": math.ceil(n / stride), "total": before + after,
            "before": before, "after": after}


def _channels(a: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 2:
        return a[None]
    if a.ndim != 3:
        raise ValueError(f"{name} must be 2-D (one channel) or 3-D (channels first), not {a.ndim}-D")
    return a


def _sources(n_rows: int, n_cols: int, pads: conv.Pads, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Which input row / column each padded row / column copies (−1: a zero of zero padding)."""
    rows = np.tile(np.arange(1, n_rows + 1, dtype=np.float64)[:, None], (1, n_cols))
    cols = np.tile(np.arange(1, n_cols + 1, dtype=np.float64)[None, :], (n_rows, 1))
    (t, _), (l, _) = pads
    src_rows = conv.pad(rows, pads, mode)[:, l].astype(int) - 1
    src_cols = conv.pad(cols, pads, mode)[t, :].astype(int) - 1
    return src_rows, src_cols


@dataclass
class ConvTrace:
    """Everything the step-by-step view shows. Shapes: x (C, H, W), w and applied (C, kh, kw),
    padded (C, Hp, Wp), out (Ho, Wo), products (Ho, Wo, C, kh, kw)."""

    x: np.ndarray
    w: np.ndarray
    applied: np.ndarray  # the kernel as multiplied: w, or w turned by 180° (true convolution)
    bias: float
    pads: conv.Pads
    mode: str
    stride: int
    dilation: int
    flip: bool
    padded: np.ndarray
    source_rows: np.ndarray  # (Hp,) input row each padded row copies, −1 for a zero
    source_cols: np.ndarray  # (Wp,)
    height: AxisSize
    width: AxisSize
    out: np.ndarray
    products: np.ndarray
    rows_used: np.ndarray  # (Hp,) bool: some window reads this padded row
    cols_used: np.ndarray  # (Wp,)

    @property
    def positions(self) -> int:
        return self.out.size

    def position(self, t: int) -> tuple[int, int]:
        """The t-th window (0-based), row by row as the window slides."""
        return divmod(t, self.out.shape[1])

    def window(self, i: int, j: int) -> dict[str, Any]:
        """The window at output (i, j): its padded rows and columns, the input values under
        the kernel taps, the products and their sum (plus the bias)."""
        s, d = self.stride, self.dilation
        kh, kw = self.w.shape[1:]
        rows = i * s + d * np.arange(kh)
        cols = j * s + d * np.arange(kw)
        values = self.padded[:, rows[:, None], cols[None, :]]
        products = self.products[i, j]
        return {"i": i, "j": j, "rows": rows.tolist(), "cols": cols.tolist(), "values": values,
                "products": products, "channel_sums": products.sum(axis=(1, 2)),
                "sum": float(self.out[i, j])}


def trace(x: np.ndarray, w: np.ndarray, bias: float = 0.0, stride: int = 1, padding: Any = 0,
          dilation: int = 1, mode: str = "zeros", flip: bool = False) -> ConvTrace:
    """The trace of out = conv2d(x, w, b) for one filter; ValueError for what conv2d refuses."""
    x3, w3 = _channels(x, "x"), _channels(w, "w")
    if x3.shape[0] != w3.shape[0]:
        raise ValueError(f"x has {x3.shape[0]} channels but the kernel has {w3.shape[0]}")
    b = np.array([float(bias)])
    out = conv.conv2d(x3[None], w3[None], b, stride, padding, dilation, mode, flip)[0, 0]
    pads = conv.resolve_padding(padding, x3.shape[1:], w3.shape[1:], stride, dilation)
    applied = w3[:, ::-1, ::-1].copy() if flip else w3.copy()
    padded = conv.pad(x3, pads, mode)
    cols = conv.windows(padded[None], w3.shape[1:], stride, dilation)[0]  # (C, Ho, Wo, kh, kw)
    products = cols.transpose(1, 2, 0, 3, 4) * applied
    height = axis_size(x3.shape[1], w3.shape[1], pads[0], stride, dilation)
    width = axis_size(x3.shape[2], w3.shape[2], pads[1], stride, dilation)
    src_rows, src_cols = _sources(x3.shape[1], x3.shape[2], pads, mode)
    return ConvTrace(
        x=x3, w=w3, applied=applied, bias=float(bias), pads=pads, mode=mode, stride=stride,
        dilation=dilation, flip=flip, padded=padded, source_rows=src_rows, source_cols=src_cols,
        height=height, width=width, out=out, products=products,
        rows_used=_used(height), cols_used=_used(width))


def _used(a: AxisSize) -> np.ndarray:
    """Padded lines some window's tap lands on: {i·s + u·d}."""
    used = np.zeros(a.padded, dtype=bool)
    taps = (np.arange(a.out)[:, None] * a.stride + np.arange(a.k)[None, :] * a.dilation).ravel()
    used[taps] = True
    return used
