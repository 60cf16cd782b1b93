"""A convolutional layer on a volume: D filters of k × k × C over an H × W × C input.

Each filter o spans every input channel; its response is the sum of one 2-D response per
channel, plus its bias:
    per_channel[o, c] = x_pad[c] ⋆ w[o, c]     (⋆: cross-correlation, (H_out, W_out))
    out[o]            = Σ_c per_channel[o, c] + b[o]
so a 32×32×3 input and D filters of 5×5×3 give a 28×28×D output (no padding), or 32×32×D
with padding 2: the output size follows from the input size, kernel, padding and stride, never
from the number of weights. `out` comes from engine.conv.conv2d; the channel terms add up to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine import conv, kernels

# Filters a person can read: (name, spatial kernel, weight of R, G, B). The colour weights
# sum to one for the brightness filters and to zero for the colour-difference ones.
GREY = (1 / 3, 1 / 3, 1 / 3)
DESIGNED: list[tuple[str, str, tuple[float, float, float]]] = [
    ("vertical edges", "sobel_x", GREY),
    ("horizontal edges", "sobel_y", GREY),
    ("blur (brightness)", "box_blur", GREY),
    ("red − cyan", "identity", (1.0, -0.5, -0.5)),
    ("green − magenta", "identity", (-0.5, 1.0, -0.5)),
    ("blue − yellow", "identity", (-0.5, -0.5, 1.0)),
    ("spots (Laplacian)", "laplacian", GREY),
    ("red/green vertical edges", "sobel_x", (1.0, -1.0, 0.0)),
    ("sharpen", "sharpen", GREY),
    ("outline", "outline", GREY),
    ("emboss", "emboss", GREY),
    ("blue/yellow horizontal edges", "sobel_y", (-0.5, -0.5, 1.0)),
    ("shift left", "shift_left", GREY),
    ("red blur", "gaussian", (1.0, 0.0, 0.0)),
    ("green blur", "gaussian", (0.0, 1.0, 0.0)),
    ("blue blur", "gaussian", (0.0, 0.0, 1.0)),
]


def _spatial(name: str, k: int) -> np.ndarray:
    """The gallery kernel at size k when it comes in that size, else its 3 × 3 centred in
    (or cropped to) k × k."""
    info = kernels.GALLERY[name]
    return kernels.make(name, k) if k in info.sizes else kernels.centred(kernels.make(name), k)


def designed_filters(D: int, k: int, C: int = 3) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The first D designed filters (D ≤ 16) at k × k × C (C = 3: colour weights; otherwise each
    channel weighs 1/C), zero biases, and their names."""
    if not 1 <= D <= len(DESIGNED):
        raise ValueError(f"designed filters: 1 to {len(DESIGNED)}, not {D}")
    w = np.zeros((D, C, k, k))
    for o, (_, spatial, colour) in enumerate(DESIGNED[:D]):
        weights = colour if C == 3 else (1 / C,) * C
        w[o] = np.asarray(weights)[:, None, None] * _spatial(spatial, k)
    return w, np.zeros(D), [name for name, _, _ in DESIGNED[:D]]


def random_filters(D: int, k: int, C: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """He-normal filters, w ~ N(0, 2 / (C·k·k)), zero biases, from np.random.default_rng(seed)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, np.sqrt(2.0 / (C * k * k)), size=(D, C, k, k))
    return w, np.zeros(D), [f"filter {o + 1}" for o in range(D)]


@dataclass
class LayerTrace:
    """x (C, H, W); w (D, C, kh, kw); b (D,); per_channel (D, C, Ho, Wo); out (D, Ho, Wo)."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray
    pads: conv.Pads
    per_channel: np.ndarray
    out: np.ndarray

    @property
    def parameters(self) -> dict[str, int]:
        D, C, kh, kw = self.w.shape
        return {"weights_per_filter": C * kh * kw, "weights": D * C * kh * kw, "biases": D,
                "total": D * C * kh * kw + D}


def layer(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: int = 1, padding: Any = 0,
          dilation: int = 1, mode: str = "zeros", flip: bool = False) -> LayerTrace:
    """The layer's output and each filter's per-channel responses (see the module docstring)."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    b = np.zeros(w.shape[0]) if b is None else np.asarray(b, dtype=np.float64)
    out = conv.conv2d(x[None], w, b, stride, padding, dilation, mode, flip)[0]
    pads = conv.resolve_padding(padding, x.shape[1:], w.shape[2:], stride, dilation)
    applied = w[..., ::-1, ::-1] if flip else w
    # every window of every channel: (C, Ho, Wo, kh, kw)
    cols = conv.windows(conv.pad(x[None], pads, mode), w.shape[2:], stride, dilation)[0]
    per_channel = np.einsum("chwuv,ocuv->ochw", cols, applied, optimize=True)
    return LayerTrace(x, w, b, pads, per_channel, out)
