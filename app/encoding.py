"""Turning engine arrays into JSON: compact encoded grids and finite-only numbers.

A grid's `data` is base64 text (a `B64`, which also keeps the raw bytes), so any JSON encoder
writes it as usual, and `binary_message` can send the same frame as one compressed binary
WebSocket message with the raw bytes instead (static/js/stream.js reads it).
"""

from __future__ import annotations

import base64
import json
import math
import struct
import zlib
from typing import Any

import numpy as np

from engine.quantize import finite_range, quantize


class B64(str):
    """Base64 text of some bytes, keeping the bytes (`raw`) for binary messages."""

    raw: bytes

    def __new__(cls, raw: bytes) -> B64:
        text = super().__new__(cls, base64.b64encode(raw).decode("ascii"))
        text.raw = raw
        return text


def grid(values: np.ndarray, lo: float | None = None, hi: float | None = None,
         bits: int = 8) -> dict[str, Any]:
    """{"shape", "range", "dtype", "data": base64 of little-endian uint8/uint16 values}.

    The receiver rebuilds value = lo + q / (2^bits − 1) · (hi − lo).
    """
    if lo is None or hi is None:
        lo, hi = finite_range(values)
    q = quantize(values, lo, hi, bits)
    return {
        "shape": list(q.shape),
        "range": [float(lo), float(hi)],
        "dtype": "uint8" if bits == 8 else "uint16",
        "data": B64(q.astype(q.dtype.newbyteorder("<")).tobytes()),
    }


def symmetric_stack(values: np.ndarray, floor: float = 1.0) -> list[dict[str, Any]]:
    """One grid a slice of `values` (n, h, w), each over its own range ±max(floor, max|v|).

    Colour keeps its meaning (the sign) while values beyond ±1 (ReLU units, x² features)
    keep their shape. Quantized in one vectorized pass for the whole stack.
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    m = np.maximum(floor, np.abs(v).reshape(len(v), -1).max(axis=1, initial=0.0))
    q = np.rint((np.clip(v / m[:, None, None], -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)
    shape = list(q.shape[1:])
    return [
        {"shape": shape, "range": [-float(mi), float(mi)], "dtype": "uint8",
         "data": B64(qi.tobytes())}
        for mi, qi in zip(m, q, strict=True)
    ]


def grid_bytes(cells: int, grids: int = 1) -> int:
    """About how many bytes `cells` uint8 values in `grids` grids take in a JSON frame (base64)."""
    return 4 * ((cells + 2) // 3) + 120 * grids


def labels(values: np.ndarray) -> dict[str, Any]:
    """Small non-negative integers (class indices) as a uint8 grid, range [0, 255]."""
    q = np.clip(np.asarray(values), 0, 255).astype(np.uint8)
    return {
        "shape": list(q.shape),
        "range": [0.0, 255.0],
        "dtype": "uint8",
        "data": B64(q.tobytes()),
    }


def finite(obj: Any, digits: int | None = None) -> Any:
    """A JSON-safe copy: arrays to lists, NaN/±inf to None, optional rounding of floats."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f":
            if digits is not None:
                obj = np.round(obj, digits)
            if np.isfinite(obj).all():  # the usual case: no per-element walk
                return obj.tolist()
        return finite(obj.tolist(), digits)
    if isinstance(obj, dict):
        return {k: finite(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v, digits) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        if not math.isfinite(obj):
            return None
        return round(obj, digits) if digits is not None else obj
    return obj


def decimate_indices(n: int, most: int) -> np.ndarray:
    """At most `most` evenly spaced indices into n entries, always keeping the first and last."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, most).round().astype(int))


def decimate(values: list[Any], most: int) -> list[Any]:
    """At most `most` evenly spaced entries, always keeping the first and last."""
    return [values[i] for i in decimate_indices(len(values), most)]


def _with_blobs(obj: Any, blobs: list[bytes], at: list[int]) -> Any:
    """`obj` with every grid's B64 `data` replaced by `"blob": [offset, length]` into `blobs`."""
    if isinstance(obj, dict):
        data = obj.get("data")
        if isinstance(data, B64):
            blobs.append(data.raw)
            out = {k: v for k, v in obj.items() if k != "data"}
            out["blob"] = [at[0], len(data.raw)]
            at[0] += len(data.raw)
            return out
        return {k: _with_blobs(v, blobs, at) for k, v in obj.items()}
    if isinstance(obj, list) and obj and isinstance(obj[0], dict | list):
        return [_with_blobs(v, blobs, at) for v in obj]
    return obj


def binary_message(message: dict[str, Any], level: int = 1) -> bytes:
    """A message as one compressed binary WebSocket message: zlib (deflate) of a 4-byte
    little-endian header length, the header (the message as JSON, every grid's `data` replaced
    by `"blob": [offset, length]`) and then the grids' raw bytes, one after the other.

    Compressed once per frame for every page that watches it (off the event loop), instead of
    once per page by the WebSocket's per-message deflate."""
    blobs: list[bytes] = []
    head = json.dumps(_with_blobs(message, blobs, [0]), allow_nan=False, separators=(",", ":")).encode()
    return zlib.compress(b"".join([struct.pack("<I", len(head)), head, *blobs]), level)
