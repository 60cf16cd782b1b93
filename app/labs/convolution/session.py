"""The convolution lab's API shapes and its step-by-step runner (engine traces → JSON).

Inputs come as a grid of numbers (H × W, or C × H × W), a shipped image by name, or a picture's
pixels (base64 uint8, decoded by the page); kernels as a grid or a gallery name. Limits are
settings (NP_MAX_IMAGE_SIDE, NP_MAX_KERNEL_SIDE, ...): past them a 422 names the field, the
limit and the setting.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from app import encoding
from app.inputs import grid_or
from app.settings import Settings
from engine import conv, conv_trace, images, kernels

ImageName = Literal[tuple(images.IMAGES)]  # type: ignore[valid-type]
KernelName = Literal[tuple(kernels.GALLERY)]  # type: ignore[valid-type]
PadMode = Literal[conv.PAD_MODES]  # type: ignore[valid-type]
Pair = Annotated[tuple[int, int], Strict(False)]  # a JSON array [a, b]
Padding = int | Literal["same", "valid"] | Pair
HARD_SIDE = 4096  # list lengths pydantic checks before it reads any item (settings are tighter)
# An input or a kernel: H × W or C × H × W numbers (a kernel also a gallery name).
Grid = grid_or(HARD_SIDE, (2, 3))
Kernel = grid_or(HARD_SIDE, (2, 3), KernelName)

OPERATION = {False: "cross-correlation", True: "convolution"}
OPERATION_LABEL = {False: "cross-correlation (what conv2d computes)",
                   True: "true convolution (kernel flipped)"}

# The lecture's 7×7 input and 3×3 filter: the 5×5 corner and the kernel are the example of
# Dumoulin & Visin's "A guide to convolution arithmetic" (first output 12), grown to 7×7.
LECTURE_INPUT = [[3, 3, 2, 1, 0, 1, 2], [0, 0, 1, 3, 1, 2, 1], [3, 1, 2, 2, 3, 0, 1],
                 [2, 0, 0, 2, 2, 1, 0], [2, 0, 0, 0, 1, 3, 2], [1, 2, 3, 0, 1, 1, 0],
                 [0, 1, 2, 1, 0, 2, 3]]
LECTURE_KERNEL = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]


def fail(message: str) -> HTTPException:
    return HTTPException(422, message)


class PixelsIn(BaseModel):
    """A picture decoded by the page (canvas getImageData): uint8, row-major, channels last."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    height: int = Field(ge=1, le=HARD_SIDE)
    width: int = Field(ge=1, le=HARD_SIDE)
    channels: Literal[1, 3, 4] = Field(4, description="1 grey, 3 RGB, 4 RGBA (alpha is dropped)")
    data: str = Field(description="base64 of height × width × channels bytes")

    def array(self) -> np.ndarray:
        try:
            raw = base64.b64decode(self.data, validate=True)
        except (binascii.Error, ValueError):
            raise fail("pixels.data: not valid base64") from None
        need = self.height * self.width * self.channels
        if len(raw) != need:
            raise fail(f"pixels.data: {len(raw)} bytes; height × width × channels is {need}")
        return np.frombuffer(raw, dtype=np.uint8).reshape(self.height, self.width, self.channels)


class ConvOptions(BaseModel):
    """How the kernel slides: padding (and its mode), stride, dilation, and the flip."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    padding: Padding = Field(0, description='pixels on every side, [ph, pw], "same" or "valid"')
    mode: PadMode = Field("zeros", description="what the padding holds: zeros, reflect, replicate, circular")
    stride: int = Field(1, ge=1, le=64, description="pixels the window moves per step")
    dilation: int = Field(1, ge=1, le=16, description="spacing of the kernel taps")
    flip: bool = Field(False, description="true convolution (the kernel turned by 180°); false: "
                       "cross-correlation, what conv2d computes")

    def engine_padding(self) -> Any:
        if isinstance(self.padding, tuple):
            if min(self.padding) < 0:
                raise fail("padding must not be negative")
            return self.padding
        if isinstance(self.padding, int) and self.padding < 0:
            raise fail("padding must not be negative")
        return self.padding

    def labels(self) -> dict[str, Any]:
        return {"operation": OPERATION[self.flip], "operation_label": OPERATION_LABEL[self.flip]}


class SourceIn(ConvOptions):
    """Exactly one input: a grid, a shipped image or a picture's pixels."""

    input: Grid | None = Field(None, description="H × W numbers (one channel) or C × H × W")
    image: ImageName | None = Field(None, description="a shipped image (GET /api/v1/convolution/images)")
    pixels: PixelsIn | None = Field(None, description="a picture's own pixels (limit NP_MAX_IMAGE_SIDE)")
    channels: Literal["grey", "rgb"] = Field("grey", description="an image or picture as grey (1 channel) "
                                             "or RGB (3)")
    size: Pair | None = Field(None, description="resize the image or picture to [height, width] "
                                         "by area averaging (e.g. [32, 32])")

    @model_validator(mode="after")
    def _one_source(self) -> SourceIn:
        given = [k for k in ("input", "image", "pixels") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of input, image or pixels (got {given or 'none'})")
        if self.size is not None and (min(self.size) < 1 or max(self.size) > HARD_SIDE):
            raise ValueError("size: [height, width], each at least 1")
        return self

    def source(self, settings: Settings) -> np.ndarray:
        """The input as float64 (C, H, W), checked against the settings."""
        side = settings.max_image_side
        if self.input is not None:
            x = grid_array(self.input, "input", settings.max_channels, side)
            if x.ndim == 2:
                x = x[None]
            if self.size is not None:
                raise fail("size resizes an image or pixels, not an input grid")
            return x
        if self.pixels is not None:
            p = self.pixels
            if max(p.height, p.width) > side:
                raise fail(f"pixels: {p.height}×{p.width} is larger than {side}×{side} "
                           "(NP_MAX_IMAGE_SIDE); shrink the picture first")
            x = images.to_array(p.array(), self.channels)
        else:
            x = images.load(self.image, self.channels)
        if self.size is not None:
            if max(self.size) > side:
                raise fail(f"size: at most {side} per side (NP_MAX_IMAGE_SIDE)")
            x = images.resize(x, *self.size)
        return x

    def source_name(self) -> str:
        if self.input is not None:
            return "grid"
        return "pixels" if self.pixels is not None else f"image:{self.image}"


def grid_array(values: list, field: str, max_channels: int, max_side: int,
               setting: str = "NP_MAX_IMAGE_SIDE") -> np.ndarray:
    """A rectangular list of numbers as float64 (2-D or 3-D), or 422 naming the field."""
    nested = bool(values) and isinstance(values[0], list) and bool(values[0])
    depth = 3 if nested and isinstance(values[0][0], list) else 2
    try:
        a = np.array(values, dtype=np.float64)
    except ValueError:
        raise fail(f"{field}: rows must all have the same length") from None
    if a.ndim != depth or a.size == 0:
        raise fail(f"{field}: a rectangular {'C × H × W' if depth == 3 else 'H × W'} grid of numbers")
    if depth == 3 and a.shape[0] > max_channels:
        raise fail(f"{field}: {a.shape[0]} channels; at most {max_channels} (NP_MAX_CHANNELS)")
    if max(a.shape[-2:]) > max_side:
        raise fail(f"{field}: {a.shape[-2]}×{a.shape[-1]} is larger than {max_side}×{max_side} ({setting})")
    return a


def kernel_array(kernel: Any, size: int | None, settings: Settings, field: str = "kernel") -> np.ndarray:
    """A 2-D (or C × kh × kw) kernel from a grid or a gallery name, within NP_MAX_KERNEL_SIDE."""
    if isinstance(kernel, str):
        try:
            w = kernels.make(kernel, size)
        except (KeyError, ValueError) as exc:
            raise fail(f"{field}: {exc.args[0]}") from None
    else:
        w = grid_array(kernel, field, settings.max_channels, settings.max_kernel_side, "NP_MAX_KERNEL_SIDE")
    if max(w.shape[-2:]) > settings.max_kernel_side:
        raise fail(f"{field}: {w.shape[-2]}×{w.shape[-1]}; at most {settings.max_kernel_side} per side "
                   "(NP_MAX_KERNEL_SIDE)")
    return w


def check_fits(x_shape: tuple[int, ...], k_shape: tuple[int, ...], opts: ConvOptions) -> conv.Pads:
    """The resolved padding, or a 422 that says why the kernel does not slide over the input."""
    H, W = x_shape[-2:]
    kh, kw = k_shape[-2:]
    try:
        pads = conv.resolve_padding(opts.engine_padding(), (H, W), (kh, kw), opts.stride, opts.dilation)
        conv.check_padding((H, W), pads, opts.mode)
    except ValueError as exc:
        raise fail(f"padding: {exc}") from None
    for n, k, p, axis in ((H, kh, pads[0], "height"), (W, kw, pads[1], "width")):
        if conv.output_size(n, k, p, opts.stride, opts.dilation) < 1:
            span = opts.dilation * (k - 1) + 1
            raise fail(f"kernel: its {axis} spans {span} pixels (k = {k}, dilation {opts.dilation}), more "
                       f"than the padded input's {n + p[0] + p[1]}: use a smaller kernel or more padding")
    return pads


def sizes_out(t_height: conv_trace.AxisSize, t_width: conv_trace.AxisSize,
              opts: ConvOptions) -> dict[str, Any]:
    """The formula's numbers per axis, and what "same" means when it was asked for."""
    out: dict[str, Any] = {}
    for name, a in (("height", t_height), ("width", t_width)):
        out[name] = {"n": a.n, "k": a.k, "before": a.before, "after": a.after, "stride": a.stride,
                     "dilation": a.dilation, "numerator": a.numerator, "out": a.out,
                     "remainder": a.remainder, "span": a.span}
        if opts.padding == "same":
            out[name]["same"] = conv_trace.same_explained(a.n, a.k, a.stride, a.dilation)
    return out


def axis_sizes(x_shape, k_shape, pads, opts: ConvOptions) -> dict[str, Any]:
    h = conv_trace.axis_size(x_shape[-2], k_shape[-2], pads[0], opts.stride, opts.dilation)
    w = conv_trace.axis_size(x_shape[-1], k_shape[-1], pads[1], opts.stride, opts.dilation)
    return sizes_out(h, w, opts)


# ---- the step-by-step --------------------------------------------------------------------------


class StepIn(ConvOptions):
    """The step-by-step view: a small input grid, one kernel, the window's pace."""

    input: Grid = Field(
        [[float(v) for v in row] for row in LECTURE_INPUT], description="H × W numbers (or C × H × W)")
    kernel: Kernel = Field(
        [[float(v) for v in row] for row in LECTURE_KERNEL],
        description="kh × kw numbers (or C × kh × kw), or a gallery name")
    kernel_size: int | None = Field(None, ge=1, le=HARD_SIDE, description="size of a gallery kernel")
    bias: float = Field(0.0, description="added to every sum")
    rate: float = Field(2.0, ge=0.25, le=60, description="window positions per second while playing")


def build_trace(cfg: StepIn, settings: Settings) -> conv_trace.ConvTrace:
    x = grid_array(cfg.input, "input", settings.max_channels, settings.max_image_side)
    w = kernel_array(cfg.kernel, cfg.kernel_size, settings)
    x3 = x if x.ndim == 3 else x[None]
    w3 = w if w.ndim == 3 else np.repeat(w[None], x3.shape[0], axis=0) if x3.shape[0] > 1 else w[None]
    if w3.shape[0] != x3.shape[0]:
        raise fail(f"kernel: {w3.shape[0]} channels but the input has {x3.shape[0]}")
    pads = check_fits(x3.shape, w3.shape, cfg)
    Ho = conv.output_size(x3.shape[1], w3.shape[1], pads[0], cfg.stride, cfg.dilation)
    Wo = conv.output_size(x3.shape[2], w3.shape[2], pads[1], cfg.stride, cfg.dilation)
    products = Ho * Wo * w3.size
    if products > settings.max_trace_products:
        raise fail(f"{Ho}×{Wo} windows × {w3.size} taps = {products} products; at most "
                   f"{settings.max_trace_products} (NP_MAX_TRACE_PRODUCTS): a smaller input or kernel")
    return conv_trace.trace(x3, w3, cfg.bias, cfg.stride, cfg.engine_padding(), cfg.dilation, cfg.mode,
                            cfg.flip)


def trace_static(tr: conv_trace.ConvTrace, cfg: ConvOptions) -> dict[str, Any]:
    """What does not change while the window slides: the padded input and where each padded
    cell comes from, the kernel as given and as multiplied, the sizes and the lines used."""
    return encoding.finite({
        **cfg.labels(),
        "input_shape": list(tr.x.shape), "kernel_shape": list(tr.w.shape), "bias": tr.bias,
        "padding": [list(p) for p in tr.pads], "mode": tr.mode, "stride": tr.stride, "dilation": tr.dilation,
        "flip": tr.flip,
        "padded": tr.padded, "source_rows": tr.source_rows, "source_cols": tr.source_cols,
        "kernel": tr.w, "applied": tr.applied,
        "rows_used": tr.rows_used, "cols_used": tr.cols_used,
        "shape": list(tr.out.shape), "positions": tr.positions,
        "sizes": sizes_out(tr.height, tr.width, cfg),
    })


def window_out(tr: conv_trace.ConvTrace, i: int, j: int) -> dict[str, Any]:
    return encoding.finite(tr.window(i, j))


class ConvStepRunner:
    """The window sliding over the input: one unit of work = one window position."""

    def __init__(self, cfg: StepIn, settings: Settings) -> None:
        self.settings = settings
        self._build(cfg)

    def _build(self, cfg: StepIn) -> None:
        self.trace = build_trace(cfg, self.settings)
        self.cfg = cfg
        self.t = 0

    def advance(self, n: int) -> int:
        moved = min(n, self.trace.positions - self.t)
        self.t += moved
        return moved

    @property
    def done(self) -> bool:
        return self.t >= self.trace.positions

    def reset(self) -> None:
        self.t = 0

    def frame_interval(self) -> float:
        return 1.0 / self.cfg.rate

    def frame(self) -> dict[str, Any]:
        """{"step": windows done, "total", "position": [i, j] of the last one, "window": its
        products and sum, "output": H_out × W_out with null where the window has not been}.

        Plain numbers, not a quantized grid: every one is printed in a cell for a person to add
        up, so it must be exact; the grids are small (NP_MAX_TRACE_PRODUCTS bounds them) and the
        lecture's 7×7 frame is about 0.4 KB (16×16, a 7×7 kernel, padding 7: 3.3 KB)."""
        tr = self.trace
        out: list[list[float | None]] = [[None] * tr.out.shape[1] for _ in range(tr.out.shape[0])]
        for k in range(self.t):
            i, j = tr.position(k)
            out[i][j] = float(tr.out[i, j])
        last = tr.position(self.t - 1) if self.t else None
        return encoding.finite({
            "step": self.t, "total": tr.positions, "done": self.done,
            "position": list(last) if last else None,
            "window": tr.window(*last) if last else None,
            "output": out,
        })

    def describe(self) -> dict[str, Any]:
        return {"config": self.cfg.model_dump(mode="json"), **trace_static(self.trace, self.cfg)}

    def apply(self, params: dict[str, Any]) -> dict[str, Any]:
        """A new pace keeps the window where it is; any other change starts over."""
        cfg = StepIn(**{**self.cfg.model_dump(), **params})
        if set(params) <= {"rate"}:
            self.cfg = cfg
            return {"reset": False}
        try:
            self._build(cfg)
        except HTTPException as exc:
            raise ValueError(exc.detail) from None
        return {"reset": True}


def work_of(out_pixels: int, taps: int, repeat: int = 1) -> int:
    return int(out_pixels) * int(taps) * int(repeat)


def check_work(work: int, settings: Settings) -> None:
    if work > settings.max_conv_work:
        raise fail(f"{work:,} multiply-adds (outputs × taps × filters × repeat); at most "
                   f"{settings.max_conv_work:,} (NP_MAX_CONV_WORK): a smaller image, kernel or repeat")

