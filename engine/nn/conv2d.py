"""2-D convolution layer (cross-correlation, as deep-learning libraries compute it).

Shapes: x (N, C, H, W), w (D, C, kh, kw), b (D,), out (N, D, H_out, W_out) with
    H_out = ⌊(H + p_top + p_bottom − d·(kh − 1) − 1) / s⌋ + 1   (likewise W_out),
    out[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v x_pad[n, c, i·s + u·d, j·s + v·d] · w[o, c, u, v].
The arithmetic is engine.conv's: `conv2d_im2col` computes `conv2d` and returns the im2col
matrix it multiplied, which this layer keeps so `conv2d_backward_im2col` (= `conv2d_backward`)
needs no second copy of every window; both are tested against conv2d and conv2d_backward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine import conv, initializers
from engine.nn.layer import Array, Layer, Shape, check_input


class Conv2D(Layer):
    kind = "conv2d"

    def __init__(self, in_channels: int, filters: int, kernel: int | tuple[int, int] = 3,
                 stride: int = 1, padding: int | str | tuple = 0, dilation: int = 1,
                 mode: str = "zeros", init: str = "he", rng: np.random.Generator | None = None) -> None:
        super().__init__()
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        if in_channels < 1 or filters < 1 or kh < 1 or kw < 1:
            raise ValueError("a convolution needs at least one input channel, one filter and a 1×1 kernel")
        if stride < 1 or dilation < 1:
            raise ValueError("stride and dilation must be at least 1")
        if mode not in conv.PAD_MODES:
            raise ValueError(f"padding mode must be one of {list(conv.PAD_MODES)}, not {mode!r}")
        self.in_channels, self.filters, self.kernel = in_channels, filters, (kh, kw)
        self.stride, self.padding, self.dilation, self.mode, self.init = stride, padding, dilation, mode, init
        w, b = initializers.get(init).kernel((filters, in_channels, kh, kw),
                                             rng if rng is not None else np.random.default_rng(0))
        self.params = {"w": w, "b": b}
        self._x_shape: tuple[int, ...] = ()
        self._cols: Array | None = None

    def output_shape(self, in_shape: Shape) -> Shape:
        if len(in_shape) != 3 or in_shape[0] != self.in_channels:
            raise ValueError(f"expects maps of shape ({self.in_channels}, H, W), got {tuple(in_shape)}")
        _, H, W = in_shape
        kh, kw = self.kernel
        pads = conv.resolve_padding(self.padding, (H, W), self.kernel, self.stride, self.dilation)
        conv.check_padding((H, W), pads, self.mode)
        Ho = conv.output_size(H, kh, pads[0], self.stride, self.dilation)
        Wo = conv.output_size(W, kw, pads[1], self.stride, self.dilation)
        if Ho < 1 or Wo < 1:
            raise ValueError(
                f"the {kh}×{kw} kernel does not fit the {H}×{W} map with padding {self.padding} "
                f"(the output would be {Ho}×{Wo}, below 1×1)")
        return (self.filters, Ho, Wo)

    def forward(self, x: Array, train: bool = False) -> Array:
        check_input(x, 4, "conv2d")
        p = self.params
        out, self._cols = conv.conv2d_im2col(x, p["w"], p["b"], self.stride, self.padding, self.dilation,
                                             self.mode)
        self._x_shape = x.shape
        return out

    def backward(self, dout: Array) -> Array | None:
        dx, dw, db = conv.conv2d_backward_im2col(dout, self._cols, self._x_shape, self.params["w"],
                                                 self.stride, self.padding, self.dilation, self.mode,
                                                 self.input_grad)
        self.grads = {"w": dw, "b": db}
        return dx

    def config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "filters": self.filters, "kernel": list(self.kernel),
                "stride": self.stride, "padding": self.padding, "dilation": self.dilation,
                "mode": self.mode, "init": self.init}

    def describe(self) -> str:
        kh, kw = self.kernel
        return f"conv {self.filters}×{kh}×{kw} s{self.stride} p{self.padding}"
