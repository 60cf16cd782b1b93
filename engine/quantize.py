"""Compact encodings of grids for frames: values quantized to uint8/uint16 with their range.

A 100×100 grid as uint8 is 10 000 bytes; the receiver rebuilds
value = lo + q / (2^bits − 1) · (hi − lo). NaN and ±inf map to the range ends, so an encoded
grid never carries a non-finite number.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def quantize(values: Array, lo: float, hi: float, bits: int = 8) -> Array:
    """Map values in [lo, hi] to unsigned integers 0 … 2^bits − 1 (clipped; NaN → lo)."""
    if bits not in (8, 16):
        raise ValueError("bits must be 8 or 16")
    top = (1 << bits) - 1
    span = hi - lo if hi > lo else 1.0
    q = np.nan_to_num((np.asarray(values, dtype=np.float64) - lo) / span, nan=0.0, posinf=1.0, neginf=0.0)
    return np.rint(np.clip(q, 0.0, 1.0) * top).astype(np.uint8 if bits == 8 else np.uint16)


def dequantize(q: Array, lo: float, hi: float) -> Array:
    top = np.iinfo(q.dtype).max
    return lo + q.astype(np.float64) / top * (hi - lo)


def finite_range(values: Array, symmetric: bool = False) -> tuple[float, float]:
    """(min, max) over the finite values (0, 1 when none); symmetric gives (−m, m)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (-1.0, 1.0) if symmetric else (0.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    if symmetric:
        m = max(abs(lo), abs(hi)) or 1.0
        return -m, m
    if hi <= lo:
        hi = lo + 1.0
    return lo, hi
