"""Max and average pooling over k×k windows with stride s and padding p (torch's MaxPool2d,
AvgPool2d with count_include_pad=True).

Shapes: x (N, C, H, W) → out (N, C, H_out, W_out), H_out = ⌊(H + 2p − k) / s⌋ + 1.
    max:  out[n, c, i, j] = max_{u,v} x_pad[n, c, i·s + u, j·s + v]   (padding is −∞)
          dx_pad[n, c, i·s + u*, j·s + v*] += dout[n, c, i, j] at the first maximum (u*, v*)
    avg:  out[n, c, i, j] = (1 / k²) Σ_{u,v} x_pad[n, c, i·s + u, j·s + v]   (padding is 0)
          dx_pad[n, c, i·s + u, j·s + v] += dout[n, c, i, j] / k²
Both work one kernel offset (u, v) at a time on strided views of the padded input: the maximum
or the sum accumulates over the k² views with no copy of every window, and backward adds one
shifted slice per offset. `pool_naive` is the plain loop both are tested against.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.nn.layer import Array, Layer, Shape, check_input


class _Pool(Layer):
    def __init__(self, kernel: int = 2, stride: int | None = None, padding: int = 0) -> None:
        super().__init__()
        stride = kernel if stride is None else stride
        if kernel < 1 or stride < 1 or padding < 0:
            raise ValueError("pooling needs a window and a stride of at least 1 and no negative padding")
        if 2 * padding > kernel:
            raise ValueError(f"padding ({padding}) must be at most half the window ({kernel})")
        self.k, self.s, self.p = kernel, stride, padding
        self._in_shape: tuple[int, ...] = ()
        self._parts: list[tuple[tuple[slice, slice], Array]] = []

    def output_shape(self, in_shape: Shape) -> Shape:
        if len(in_shape) != 3:
            raise ValueError(f"expects maps (C, H, W), got shape {tuple(in_shape)}")
        C, H, W = in_shape
        Ho = (H + 2 * self.p - self.k) // self.s + 1
        Wo = (W + 2 * self.p - self.k) // self.s + 1
        if Ho < 1 or Wo < 1:
            raise ValueError(f"the {self.k}×{self.k} window does not fit the {H}×{W} map "
                             f"(the output would be {max(Ho, 0)}×{max(Wo, 0)}, below 1×1)")
        return (C, Ho, Wo)

    def _offsets(self, x: Array, fill: float) -> list[tuple[tuple[slice, slice], Array]]:
        """Pad x, then for each kernel offset (u, v) in row-major order the strided slice
        x_pad[:, :, i·s + u, j·s + v] over all outputs (i, j): views, no copies."""
        check_input(x, 4, self.kind)
        self._in_shape = x.shape
        k, s, p = self.k, self.s, self.p
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill) if p else x
        Ho, Wo = self.output_shape(x.shape[1:])[1:]
        out = []
        for u in range(k):
            for v in range(k):
                sl = (slice(u, u + s * (Ho - 1) + 1, s), slice(v, v + s * (Wo - 1) + 1, s))
                out.append((sl, xp[(..., *sl)]))
        self._parts = out
        return out

    def _scatter(self, parts) -> Array:
        """dx from (slice, gradient (N, C, H_out, W_out)) pairs, one per kernel offset."""
        N, C, H, W = self._in_shape
        p = self.p
        dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
        for sl, g in parts:
            dxp[(..., *sl)] += g
        return dxp[:, :, p : p + H, p : p + W] if p else dxp

    def config(self) -> dict[str, Any]:
        return {"kernel": self.k, "stride": self.s, "padding": self.p}

    def describe(self) -> str:
        return f"{self.kind} {self.k}×{self.k}" + (f" s{self.s}" if self.s != self.k else "")


class MaxPool2D(_Pool):
    kind = "maxpool"

    def __init__(self, kernel: int = 2, stride: int | None = None, padding: int = 0) -> None:
        super().__init__(kernel, stride, padding)
        self._out: Array | None = None

    def forward(self, x: Array, train: bool = False) -> Array:
        parts = self._offsets(x, -np.inf)
        out = parts[0][1].copy()
        for _, view in parts[1:]:
            np.maximum(out, view, out=out)
        self._out = out
        return out

    def backward(self, dout: Array) -> Array:
        # The first offset (row-major) holding the window's maximum takes the gradient, as torch.
        out, taken, parts = self._out, None, []
        for sl, view in self._parts:
            hit = view == out
            if taken is None:
                taken = hit
            else:
                hit &= ~taken
                taken |= hit
            parts.append((sl, dout * hit))
        return self._scatter(parts)


class AvgPool2D(_Pool):
    kind = "avgpool"

    def forward(self, x: Array, train: bool = False) -> Array:
        parts = self._offsets(x, 0.0)
        out = parts[0][1].copy()
        for _, view in parts[1:]:
            out += view
        return out / (self.k * self.k)

    def backward(self, dout: Array) -> Array:
        g = dout / (self.k * self.k)
        return self._scatter((sl, g) for sl, _ in self._parts)


def pool_naive(x: Array, kind: str, kernel: int, stride: int | None = None, padding: int = 0) -> Array:
    """The same pooling, one output number at a time: the reference the tests trust."""
    s = kernel if stride is None else stride
    fill = -np.inf if kind == "maxpool" else 0.0
    N, C, H, W = x.shape
    xp = np.full((N, C, H + 2 * padding, W + 2 * padding), fill)
    xp[:, :, padding : padding + H, padding : padding + W] = x
    Ho, Wo = (H + 2 * padding - kernel) // s + 1, (W + 2 * padding - kernel) // s + 1
    out = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, c, i * s : i * s + kernel, j * s : j * s + kernel]
                    out[n, c, i, j] = window.max() if kind == "maxpool" else window.sum() / kernel**2
    return out
