"""Filtering a picture with one kernel: every channel on its own, once or repeatedly.

x (C, H, W) and a kernel w (kh, kw): each channel c is filtered alone (a depthwise
convolution), out[c] = conv2d(x[c], w), with engine.conv.conv2d_taps (one tap at a time: a
15 × 15 blur of a 256 × 256 picture needs no copy of its 65,536 windows). Applying the kernel n times
(padding "same" keeps the size) gives a receptive field of n·d·(k − 1) + 1 pixels per side:
what "a bigger receptive field" means.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine import conv


def apply(x: np.ndarray, w: np.ndarray, padding: Any = "same", mode: str = "zeros", stride: int = 1,
          dilation: int = 1, flip: bool = False, repeat: int = 1) -> np.ndarray:
    """x (C, H, W), w (kh, kw) → (C, H_out, W_out), the kernel applied `repeat` times."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    w4 = np.asarray(w, dtype=np.float64)[None, None]
    out = np.asarray(x, dtype=np.float64)
    for _ in range(repeat):
        out = conv.conv2d_taps(out[:, None], w4, None, stride, padding, dilation, mode, flip)[:, 0]
    return out


def receptive_field(k: int, repeat: int = 1, dilation: int = 1, stride: int = 1) -> int:
    """Input pixels per side that one output pixel depends on after `repeat` applications:
    r_n = r_(n−1) + d·(k − 1)·s^(n−1), r_0 = 1 (stride 1: n·d·(k − 1) + 1)."""
    r, jump = 1, 1
    for _ in range(repeat):
        r += dilation * (k - 1) * jump
        jump *= stride
    return r


def work(shape: tuple[int, int, int], k: tuple[int, int], repeat: int = 1) -> int:
    """Multiply-adds of `apply` at stride 1 with "same" padding: repeat · C·H·W · kh·kw."""
    C, H, W = shape
    return repeat * C * H * W * k[0] * k[1]


def moved_by(x: np.ndarray, y: np.ndarray, reach: int = 2, tol: float = 1e-9) -> tuple[int, int] | None:
    """(dy, dx) when y is x moved down by dy and right by dx pixels (|dy|, |dx| ≤ reach), judged
    away from the borders: y[c, i, j] = x[c, i − dy, j − dx] up to `tol` relative to the mean
    |x|; None when no such move explains y (a blur, an edge detector). Shapes (C, H, W), equal."""
    if x.shape != y.shape or min(x.shape[1:]) <= 2 * reach:
        return None
    H, W = x.shape[1:]
    r = reach
    inner = y[:, r : H - r, r : W - r]
    scale = max(np.abs(x).mean(), 1e-300)
    best = None
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            err = np.abs(inner - x[:, r - dy : H - r - dy, r - dx : W - r - dx]).max() / scale
            if err <= tol and (best is None or abs(dy) + abs(dx) < abs(best[0]) + abs(best[1])):
                best = (dy, dx)
    return best
