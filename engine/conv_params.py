"""Parameters and activation memory of a fully connected layer vs a convolutional layer.

An H × W × C input into
    a fully connected layer of U units:  H·W·C·U weights + U biases,  U outputs per example;
    a conv layer of D filters kh × kw × C: kh·kw·C·D weights + D biases,
        H_out·W_out·D outputs per example (H_out, W_out from engine.conv.output_size).
The lecture's question: 224·224·3 → 1024 units is 150,528·1024 + 1024 = 154,141,696
parameters; 1024 filters of 3×3×3 are 27,648 weights + 1,024 biases = 28,672.
Memory counts float32 (4 bytes) per number, as the libraries store them.
"""

from __future__ import annotations

from typing import Any

from engine import conv

BYTES_PER_FLOAT = 4


def _n(v: int) -> str:
    return f"{v:,}"


def fully_connected(H: int, W: int, C: int, units: int) -> dict[str, Any]:
    inputs = H * W * C
    weights = inputs * units
    return {
        "inputs": inputs, "weights": weights, "biases": units, "parameters": weights + units,
        "activations": units,
        "written": f"{H}·{W}·{C} = {_n(inputs)} inputs; {_n(inputs)}·{_n(units)} weights + "
                   f"{_n(units)} biases = {_n(weights + units)} parameters",
    }


def convolutional(H: int, W: int, C: int, filters: int, kh: int, kw: int, padding: Any = "same",
                  stride: int = 1, dilation: int = 1) -> dict[str, Any]:
    pads = conv.resolve_padding(padding, (H, W), (kh, kw), stride, dilation)
    Ho = conv.output_size(H, kh, pads[0], stride, dilation)
    Wo = conv.output_size(W, kw, pads[1], stride, dilation)
    if Ho < 1 or Wo < 1:
        raise ValueError(f"a {kh}×{kw} kernel (dilation {dilation}) does not fit the padded "
                         f"{H}×{W} input")
    per_filter = kh * kw * C
    weights = per_filter * filters
    return {
        "weights_per_filter": per_filter, "weights": weights, "biases": filters,
        "parameters": weights + filters, "output": [Ho, Wo, filters], "padding": [list(p) for p in pads],
        "activations": Ho * Wo * filters,
        "written": f"{_n(filters)} filters of {kh}×{kw}×{C} = {_n(weights)} weights + {_n(filters)} "
                   f"biases = {_n(weights + filters)} parameters",
        "output_written": f"{Ho}·{Wo}·{_n(filters)} = {_n(Ho * Wo * filters)} outputs per example",
    }


def compare(H: int, W: int, C: int, units: int, filters: int, kh: int, kw: int | None = None,
            padding: Any = "same", stride: int = 1, dilation: int = 1) -> dict[str, Any]:
    """Both layers, their ratio and their activation memory (float32) per example."""
    fc = fully_connected(H, W, C, units)
    cv = convolutional(H, W, C, filters, kh, kh if kw is None else kw, padding, stride, dilation)
    for layer in (fc, cv):
        layer["activation_bytes"] = layer["activations"] * BYTES_PER_FLOAT
        layer["parameter_bytes"] = layer["parameters"] * BYTES_PER_FLOAT
    return {"input": [H, W, C], "fully_connected": fc, "convolutional": cv,
            "parameter_ratio": fc["parameters"] / cv["parameters"]}
