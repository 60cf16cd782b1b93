"""Augmentations of image batches: random shifts and pixel noise, drawn from a Generator.

Images (N, C, H, W) in [0, 1]. `shift` moves each image by its own (dy, dx), both uniform
integers in [−k, k], filling what comes in with zeros (the digits' background):
    out[n, c, i, j] = x[n, c, i − dy_n, j − dx_n], or 0 outside the image.
`noise` adds N(0, σ²) per pixel and clips to [0, 1]. Both return new arrays.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Array = np.ndarray


def shift(images: Array, max_shift: int, rng: np.random.Generator) -> Array:
    """Each image moved by its own random (dy, dx) ∈ [−max_shift, max_shift]²."""
    k = int(max_shift)
    if k < 0:
        raise ValueError(f"max_shift must not be negative, got {max_shift}")
    if k == 0:
        return images.copy()
    N = len(images)
    dy = rng.integers(-k, k + 1, N)
    dx = rng.integers(-k, k + 1, N)
    return shift_by(images, dy, dx)


def shift_by(images: Array, dy: Array, dx: Array) -> Array:
    """Image n moved down by dy[n] and right by dx[n] pixels (negative: up, left), zero-filled."""
    k = int(max(np.abs(dy).max(initial=0), np.abs(dx).max(initial=0)))
    N, _, H, W = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (k, k), (k, k)))
    win = sliding_window_view(padded, (H, W), axis=(2, 3))  # (N, C, 2k+1, 2k+1, H, W)
    return win[np.arange(N), :, k - np.asarray(dy), k - np.asarray(dx)].copy()


def noise(images: Array, std: float, rng: np.random.Generator) -> Array:
    """images + N(0, std²) per pixel, clipped to [0, 1]."""
    if std < 0:
        raise ValueError(f"noise must not be negative, got {std}")
    if std == 0:
        return images.copy()
    return np.clip(images + rng.normal(0.0, std, images.shape), 0.0, 1.0)


def augment(images: Array, max_shift: int = 0, noise_std: float = 0.0,
            rng: np.random.Generator | None = None) -> Array:
    """Shift, then noise; the identity (a copy) when both are off."""
    rng = rng if rng is not None else np.random.default_rng(0)
    out = shift(images, max_shift, rng) if max_shift else images.copy()
    return noise(out, noise_std, rng) if noise_std else out
