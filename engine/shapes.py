"""Generated shapes for image classification: circles, squares, triangles and crosses.

Each image (1, size, size), size 8 … 16, holds one filled shape at a random centre, size,
rotation (±20°, circles aside) and brightness (0.6 … 1), drawn anti-aliased: the fraction of a
4×4 grid of sample points per pixel that falls inside the shape. Gaussian noise of standard
deviation `noise` is added and values clipped to [0, 1]. With r the shape's radius (0.28 …
0.45 of the side): a circle of radius r, a square of half-side 0.8 r, an equilateral triangle
(apex up) of circumradius r, a plus-shaped cross of arm length r and half-width 0.3 r.
Labels cycle through the four classes before shuffling, so every class has ⌊n/4⌋ or ⌈n/4⌉
images. Everything comes from the Generator passed in: the same seed draws the same set.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray
CLASSES = ("circle", "square", "triangle", "cross")
SIZES = (8, 16)  # smallest and largest side in pixels
_SUB = 4  # sample points per pixel along each axis
_SQRT3 = np.sqrt(3.0)


def _inside(kind: Array, u: Array, v: Array, r: Array) -> Array:
    """Which points (u, v) in each shape's own frame (v pointing up) lie inside it."""
    circle = u * u + v * v <= r * r
    square = np.maximum(np.abs(u), np.abs(v)) <= 0.8 * r
    # Apex up: inside all three edges, each at distance r/2 (the inradius) from the centre.
    triangle = (-v <= r / 2) & (_SQRT3 / 2 * u + v / 2 <= r / 2) & (-_SQRT3 / 2 * u + v / 2 <= r / 2)
    w = 0.3 * r
    cross = ((np.abs(u) <= w) & (np.abs(v) <= r)) | ((np.abs(v) <= w) & (np.abs(u) <= r))
    return np.select([kind == 0, kind == 1, kind == 2], [circle, square, triangle], cross)


def render(kinds: Array, cx: Array, cy: Array, r: Array, angle: Array, size: int) -> Array:
    """Coverage (n, size, size) in [0, 1] of shapes of class `kinds` centred at (cx, cy) pixels
    (x right, y down, (0, 0) the top-left corner), radius r, turned by `angle` (radians)."""
    kinds, cx, cy, r, angle = (np.atleast_1d(np.asarray(a)) for a in (kinds, cx, cy, r, angle))
    grid = (np.arange(size * _SUB) + 0.5) / _SUB  # sample points in pixel units
    n = len(kinds)
    out = np.empty((n, size, size))
    for start in range(0, n, 256):  # bounded memory: 256 images of (4·size)² points at a time
        sl = slice(start, start + 256)
        col = (-1, 1, 1)
        dx = grid[None, None, :] - cx[sl].reshape(col)
        dy = cy[sl].reshape(col) - grid[None, :, None]  # image rows grow downwards
        c, s = np.cos(angle[sl]).reshape(col), np.sin(angle[sl]).reshape(col)
        u, v = c * dx + s * dy, -s * dx + c * dy
        mask = _inside(kinds[sl].reshape(col), u, v, r[sl].reshape(col))
        out[sl] = mask.reshape(len(mask), size, _SUB, size, _SUB).mean(axis=(2, 4))
    return out


def generate(n: int, size: int = 12, noise: float = 0.1, rng: np.random.Generator | None = None
             ) -> tuple[Array, Array]:
    """(images (n, 1, size, size) in [0, 1], labels (n,) int64 with 0 circle … 3 cross)."""
    if not SIZES[0] <= size <= SIZES[1]:
        raise ValueError(f"shapes are {SIZES[0]}…{SIZES[1]} pixels wide, not {size}")
    if n < 1:
        raise ValueError("generate at least one shape")
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be between 0 and 1, got {noise}")
    rng = rng if rng is not None else np.random.default_rng(0)
    labels = rng.permutation(np.arange(n) % len(CLASSES)).astype(np.int64)
    r = rng.uniform(0.28, 0.45, n) * size
    cx = rng.uniform(r, size - r)
    cy = rng.uniform(r, size - r)
    angle = np.where(labels == 0, 0.0, rng.uniform(-np.pi / 9, np.pi / 9, n))
    brightness = rng.uniform(0.6, 1.0, n)
    images = render(labels, cx, cy, r, angle, size) * brightness[:, None, None]
    if noise:
        images = images + rng.normal(0.0, noise, images.shape)
    return np.clip(images, 0.0, 1.0).reshape(n, 1, size, size), labels
