"""The convolution lab's stateless answers: apply kernels or a layer, trace windows, count
parameters. Request shapes, checks against the settings, engine calls, JSON out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app import encoding
from app.inputs import grid, grid_or
from app.labs.convolution.session import (
    HARD_SIDE,
    Kernel,
    KernelName,
    Pair,
    SourceIn,
    axis_sizes,
    check_fits,
    check_work,
    fail,
    kernel_array,
    trace_static,
)
from app.settings import Settings
from engine import conv, conv_params, conv_trace, conv_volume, filtering

Grid4 = grid(HARD_SIDE, depth=4)  # D × C × kh × kw
Kernel2 = grid_or(HARD_SIDE, (2,), KernelName)  # kh × kw or a gallery name
Biases = Annotated[list[float], Field(max_length=HARD_SIDE, fail_fast=True)]


class FiltersIn(BaseModel):
    """Filters the server makes: the designed ones (edges, colours, blur …) or He-normal ones."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    kind: Literal["designed", "random"] = "designed"
    count: int = Field(4, ge=1, le=HARD_SIDE, description="D, the number of filters (limit NP_MAX_FILTERS; "
                       "designed: at most 16)")
    size: int = Field(3, ge=1, le=HARD_SIDE, description="k: filters are k × k × C")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the random filters")


class ApplyIn(SourceIn):
    """One input and either one kernel applied to each channel on its own (an image filter), or
    a conv layer: weights D × C × kh × kw (each filter spans every channel) or generated filters."""

    kernel: Kernel2 | None = Field(None, description="a kh × kw grid or a gallery name, "
                                   "applied to each channel on its own")
    kernel_size: int | None = Field(None, ge=1, le=HARD_SIDE, description="size of a gallery kernel")
    weights: Grid4 | None = Field(None, description="D × C × kh × kw: a conv layer")
    filters: FiltersIn | None = Field(None, description="a conv layer of filters the server makes")
    bias: Biases | float | None = Field(None, description="a number (kernel) or one per filter (layer)")
    repeat: int = Field(1, ge=1, le=64, description="apply the kernel this many times (kernel only)")
    format: Literal["grid", "list"] = Field("grid", description='"grid": compact uint16 (value = lo + q / '
                                            '65535 · (hi − lo)); "list": every number in full (limit '
                                            'NP_MAX_CONV_NUMBERS)')
    include: list[Literal["input", "channels"]] = Field(
        [], max_length=8, fail_fast=True, description='"input": the (resized) input as uint8; "channels": '
        'each filter\'s per-channel responses')

    @model_validator(mode="after")
    def _one_kernel(self) -> ApplyIn:
        given = [k for k in ("kernel", "weights", "filters") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of kernel, weights or filters (got {given or 'none'})")
        if self.repeat > 1 and self.kernel is None:
            raise ValueError("repeat applies a kernel again; a layer (weights, filters) runs once")
        return self


def _listed(values: np.ndarray, settings: Settings) -> list:
    if values.size > settings.max_conv_numbers:
        raise fail(f"format list: {values.size:,} numbers; at most {settings.max_conv_numbers:,} "
                   "(NP_MAX_CONV_NUMBERS): use format grid")
    return encoding.finite(values)


def _encoded(values: np.ndarray, settings: Settings, fmt: str) -> dict[str, Any]:
    lo, hi = float(values.min()), float(values.max())
    out: dict[str, Any] = {"shape": list(values.shape), "range": [lo, hi]}
    if fmt == "list":
        out["values"] = _listed(values, settings)
    else:
        out["grid"] = encoding.grid(values, lo, hi if hi > lo else lo + 1, bits=16)
    return out


def _filter_sizes(x: np.ndarray, w: np.ndarray, body: ApplyIn) -> tuple[dict[str, Any], list, int]:
    """Check every application fits; the first one's sizes, its padding and the total work."""
    shape, work, first, pads0 = x.shape, 0, None, None
    for _ in range(body.repeat):
        pads = check_fits(shape, w.shape, body)
        sizes = axis_sizes(shape, w.shape, pads, body)
        first, pads0 = first or sizes, pads0 or pads
        shape = (shape[0], sizes["height"]["out"], sizes["width"]["out"])
        work += shape[0] * shape[1] * shape[2] * w.shape[0] * w.shape[1]
    return first, [list(p) for p in pads0], work


def apply(body: ApplyIn, settings: Settings) -> dict[str, Any]:
    x = body.source(settings)
    opts = body.engine_padding()
    answer: dict[str, Any] = {**body.labels(), "source": body.source_name(), "input_shape": list(x.shape),
                              "mode": body.mode, "stride": body.stride, "dilation": body.dilation}
    if body.kernel is not None:
        w = kernel_array(body.kernel, body.kernel_size, settings)
        if w.ndim != 2:
            raise fail("kernel: a kh × kw grid (for a filter across channels use weights)")
        sizes, pads, work = _filter_sizes(x, w, body)
        check_work(work, settings)
        bias = body.bias if body.bias is not None else 0.0
        if isinstance(bias, list):
            raise fail("bias: one number with a kernel")
        out = bias + filtering.apply(x, w, opts, body.mode, body.stride, body.dilation, body.flip,
                                     body.repeat)
        moved = filtering.moved_by(x, out)
        answer.update(kernel=w, bias=bias, repeat=body.repeat, receptive_field=filtering.receptive_field(
            w.shape[0], body.repeat, body.dilation, body.stride),
            moved=None if moved is None else {"down": moved[0], "right": moved[1]})
    else:
        w, b, names = _layer_weights(body, x, settings)
        pads_t = check_fits(x.shape, w.shape, body)
        sizes = axis_sizes(x.shape, w.shape, pads_t, body)
        pads = [list(p) for p in pads_t]
        work = sizes["height"]["out"] * sizes["width"]["out"] * w.size
        check_work(work, settings)
        if "channels" in body.include:
            tr = conv_volume.layer(x, w, b, body.stride, opts, body.dilation, body.mode, body.flip)
            out = tr.out
            maps = tr.per_channel.reshape(-1, *out.shape[1:])
            answer["per_channel"] = {"shape": list(tr.per_channel.shape),
                                     "maps": encoding.symmetric_stack(maps, floor=1e-9)}
        else:
            out = conv.conv2d_taps(x[None], w, b, body.stride, opts, body.dilation, body.mode, body.flip)[0]
        answer.update(weights=w, bias=b, names=names, maps=encoding.symmetric_stack(out, floor=1e-9),
                      parameters={"weights_per_filter": int(w[0].size), "weights": int(w.size),
                                  "biases": int(w.shape[0]), "total": int(w.size + w.shape[0])})
    if "input" in body.include:
        lo, hi = float(x.min()), float(x.max())
        if lo >= 0 and hi <= 255:
            lo, hi = 0.0, 255.0
        answer["input"] = encoding.grid(x, lo, hi if hi > lo else lo + 1, bits=8)
    answer.update(padding=pads, sizes=sizes, work=work, shape=list(out.shape),
                  output=_encoded(out, settings, body.format))
    return encoding.finite(answer)


def _layer_weights(body: ApplyIn, x: np.ndarray,
                   settings: Settings) -> tuple[np.ndarray, np.ndarray, list[str]]:
    C = x.shape[0]
    if body.filters is not None:
        f = body.filters
        if f.count > settings.max_filters:
            raise fail(f"filters.count: at most {settings.max_filters} (NP_MAX_FILTERS)")
        if f.size > settings.max_kernel_side:
            raise fail(f"filters.size: at most {settings.max_kernel_side} (NP_MAX_KERNEL_SIDE)")
        try:
            if f.kind == "designed":
                w, b, names = conv_volume.designed_filters(f.count, f.size, C)
            else:
                w, b, names = conv_volume.random_filters(f.count, f.size, C, f.seed)
        except ValueError as exc:
            raise fail(f"filters.count: {exc}") from None
    else:
        w = np.array(body.weights, dtype=np.float64) if _rectangular(body.weights) else None
        if w is None or w.ndim != 4 or w.size == 0:
            raise fail("weights: a rectangular D × C × kh × kw grid of numbers")
        if w.shape[0] > settings.max_filters:
            raise fail(f"weights: {w.shape[0]} filters; at most {settings.max_filters} (NP_MAX_FILTERS)")
        if max(w.shape[2:]) > settings.max_kernel_side:
            raise fail(f"weights: {w.shape[2]}×{w.shape[3]} kernels; at most {settings.max_kernel_side} "
                       "per side (NP_MAX_KERNEL_SIDE)")
        if w.shape[1] != C:
            raise fail(f"weights: filters of {w.shape[1]} channels, but the input has {C} "
                       "(each filter spans every input channel)")
        names = [f"filter {o + 1}" for o in range(w.shape[0])]
        b = np.zeros(w.shape[0])
    if body.bias is not None:
        bias = np.atleast_1d(np.asarray(body.bias, dtype=np.float64))
        if bias.shape != (w.shape[0],):
            raise fail(f"bias: one number per filter ({w.shape[0]}), not {bias.size}")
        b = bias
    return w, b, names


def _rectangular(values: Any) -> bool:
    try:
        np.array(values, dtype=np.float64)
    except ValueError:
        return False
    return True


# ---- trace -------------------------------------------------------------------------------------


class TraceIn(SourceIn):
    """Every window of one kernel over the input, with its products: the step-by-step."""

    kernel: Kernel = Field(
        description="kh × kw (or C × kh × kw) numbers, or a gallery name")
    kernel_size: int | None = Field(None, ge=1, le=HARD_SIDE)
    bias: float = 0.0
    depthwise: bool = Field(False, description="each channel filtered alone by a 2-D kernel (as the image "
                            "filters do); false: one filter summing over the channels")
    repeat: int = Field(1, ge=1, le=64, description="trace the last of this many applications (depthwise)")
    positions: list[Pair] | None = Field(
        None, max_length=4096, fail_fast=True,
        description="only these output positions [i, j] (default: every window)")


def trace(body: TraceIn, settings: Settings) -> dict[str, Any]:
    x = body.source(settings)
    w = kernel_array(body.kernel, body.kernel_size, settings)
    opts = body.engine_padding()
    if body.depthwise or body.repeat > 1:
        if w.ndim != 2:
            raise fail("kernel: depthwise (and repeat) take a kh × kw kernel")
        if body.repeat > 1:
            check_fits(x.shape, w.shape, body)
            x = filtering.apply(x, w, opts, body.mode, body.stride, body.dilation, body.flip, body.repeat - 1)
        traces = [_trace_one(x[c : c + 1], w[None], body, settings, x.shape[0]) for c in range(x.shape[0])]
    else:
        w3 = w if w.ndim == 3 else np.repeat(w[None], x.shape[0], axis=0)
        if w3.shape[0] != x.shape[0]:
            raise fail(f"kernel: {w3.shape[0]} channels but the input has {x.shape[0]}")
        traces = [_trace_one(x, w3, body, settings, 1)]
    first = traces[0]
    Ho, Wo = first.out.shape
    positions = body.positions if body.positions is not None else [first.position(t) for t in range(Ho * Wo)]
    bad = [p for p in positions if not (0 <= p[0] < Ho and 0 <= p[1] < Wo)]
    if bad:
        raise fail(f"positions: {bad[:3]} outside the {Ho}×{Wo} output")
    static = trace_static(first, body)
    if first.padded.size * len(traces) > settings.max_trace_products:  # a whole picture: no padded copy
        for key in ("padded", "source_rows", "source_cols", "rows_used", "cols_used"):
            static.pop(key)
    else:
        static["padded"] = encoding.finite(np.concatenate([t.padded for t in traces]))
    windows = []
    for i, j in positions:
        parts = [t.window(i, j) for t in traces]
        win = parts[0]
        if len(parts) > 1:
            win = {**win, "values": np.concatenate([p["values"] for p in parts]),
                   "products": np.concatenate([p["products"] for p in parts]),
                   "channel_sums": np.array([p["sum"] for p in parts]), "sum": None,
                   "sums": [p["sum"] for p in parts]}
        windows.append(win)
    output = np.stack([t.out for t in traces]) if len(traces) > 1 else first.out
    small = output.size <= settings.max_trace_products
    return encoding.finite({**static, "source": body.source_name(), "depthwise": len(traces) > 1,
                            "repeat": body.repeat, "output": output if small else None, "windows": windows})


def _trace_one(x: np.ndarray, w: np.ndarray, body: TraceIn, settings: Settings, channels: int):
    check_fits(x.shape, w.shape, body)
    pads = conv.resolve_padding(body.engine_padding(), x.shape[1:], w.shape[1:], body.stride, body.dilation)
    Ho = conv.output_size(x.shape[1], w.shape[1], pads[0], body.stride, body.dilation)
    Wo = conv.output_size(x.shape[2], w.shape[2], pads[1], body.stride, body.dilation)
    count = Ho * Wo if body.positions is None else len(body.positions)
    products = count * w.size * channels
    if products > settings.max_trace_products:
        raise fail(f"{count} windows × {w.size * channels} taps = {products:,} products; at most "
                   f"{settings.max_trace_products:,} (NP_MAX_TRACE_PRODUCTS): ask for fewer positions")
    check_work(Ho * Wo * w.size * channels, settings)
    return conv_trace.trace(x, w, body.bias, body.stride, body.engine_padding(), body.dilation, body.mode,
                            body.flip)


# ---- the parameter calculator ------------------------------------------------------------------


class ParamsIn(BaseModel):
    """H × W × C into a fully connected layer of `units` vs a conv layer of `filters` kh × kw × C."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    height: int = Field(224, ge=1, le=100_000)
    width: int = Field(224, ge=1, le=100_000)
    channels: int = Field(3, ge=1, le=100_000)
    units: int = Field(1024, ge=1, le=10_000_000, description="units of the fully connected layer")
    filters: int = Field(1024, ge=1, le=10_000_000, description="filters of the conv layer")
    kernel: int = Field(3, ge=1, le=1000, description="kh (and kw unless given)")
    kernel_w: int | None = Field(None, ge=1, le=1000)
    padding: int | Literal["same", "valid"] | Pair = "same"
    stride: int = Field(1, ge=1, le=1000)
    dilation: int = Field(1, ge=1, le=1000)

    @model_validator(mode="after")
    def _exact(self) -> ParamsIn:
        if self.height * self.width * self.channels * self.units > 2**53:
            raise ValueError("height · width · channels · units is past 2^53: too many to count exactly "
                             "in JSON")
        return self


def params(body: ParamsIn) -> dict[str, Any]:
    if (isinstance(body.padding, int) and not 0 <= body.padding <= 100_000) or (
            isinstance(body.padding, tuple) and not all(0 <= p <= 100_000 for p in body.padding)):
        raise fail("padding: 0 to 100,000 pixels, \"same\" or \"valid\"")
    try:
        out = conv_params.compare(body.height, body.width, body.channels, body.units, body.filters,
                                  body.kernel, body.kernel_w, body.padding, body.stride, body.dilation)
    except ValueError as exc:
        raise fail(f"kernel: {exc}") from None
    for layer in ("fully_connected", "convolutional"):
        if max(v for v in out[layer].values() if isinstance(v, int)) > 2**53:
            raise fail(f"the {layer.replace('_', ' ')} layer's counts pass 2^53: too many to give exactly "
                       "in JSON; use smaller sizes")
    return out

