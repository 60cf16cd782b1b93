"""A drawing turned into a small image the way the UCI digits were made, so a network trained on
them can read it.

The UCI digits (data/README.md) are 32×32 bitmaps, normalized by NIST's programs so the digit
fills the box (its height, for most digits; the aspect ratio kept), then cut into 4×4 blocks
whose share of ink became one pixel of the 8×8 image. `digitize` repeats that on a drawing
(H, W) with ink in [0, 1]:
  1. crop to the ink's bounding box (pixels above `threshold`),
  2. scale the box by s = min(B_h / h, B_w / w) with B = size · block (32×32 for 8×8), area
     averaging, and centre it in the B_h × B_w box,
  3. average each block × block cell: out[i, j] = mean of box[i·block : (i+1)·block, j·block : …].
With fit=False the whole drawing is area-averaged to `size` instead (where a picture's position
matters, as for the generated shapes). An empty drawing gives zeros.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def area_matrix(n_out: int, n_in: int) -> Array:
    """R (n_out, n_in): row i averages the input interval [i·n_in/n_out, (i+1)·n_in/n_out)
    (fractions of cells included), so R @ x shrinks or stretches an axis by area averaging."""
    edges = np.arange(n_out + 1) * (n_in / n_out)
    lo, hi = edges[:-1, None], edges[1:, None]
    cells = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, cells + 1) - np.maximum(lo, cells), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize(x: Array, height: int, width: int) -> Array:
    """x (H, W) → (height, width) by area averaging: R_h · x · R_wᵀ."""
    if height < 1 or width < 1:
        raise ValueError("the size must be at least 1×1")
    return area_matrix(height, x.shape[0]) @ x @ area_matrix(width, x.shape[1]).T


def digitize(drawing: Array, size: tuple[int, int] = (8, 8), block: int = 4, fit: bool = True,
             threshold: float = 0.05) -> Array:
    """A drawing (H, W), ink in [0, 1], as a `size` image in [0, 1] (see the module docstring)."""
    x = np.clip(np.asarray(drawing, dtype=np.float64), 0.0, 1.0)
    if x.ndim != 2 or min(x.shape) < 1:
        raise ValueError(f"a drawing is a 2-D array of ink values, got shape {x.shape}")
    out_h, out_w = size
    if not fit:
        return np.clip(resize(x, out_h, out_w), 0.0, 1.0)
    rows, cols = np.flatnonzero((x > threshold).any(axis=1)), np.flatnonzero((x > threshold).any(axis=0))
    if rows.size == 0:
        return np.zeros((out_h, out_w))
    crop = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    box_h, box_w = out_h * block, out_w * block
    h, w = crop.shape
    s = min(box_h / h, box_w / w)
    new_h, new_w = max(1, min(box_h, round(h * s))), max(1, min(box_w, round(w * s)))
    box = np.zeros((box_h, box_w))
    top, left = (box_h - new_h) // 2, (box_w - new_w) // 2
    box[top : top + new_h, left : left + new_w] = resize(crop, new_h, new_w)
    cells = box.reshape(out_h, block, out_w, block).mean(axis=(1, 3))
    return np.clip(cells, 0.0, 1.0)
