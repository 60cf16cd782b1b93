"""The ConvNet lab's architectures as short text, for links, presets and the API.

A network's hidden layers are comma-separated tokens (the output layer is always added):
    conv8k3p1      conv, 8 filters, kernel 3×3, padding 1 (p and s optional: padding 0, stride 1)
    conv16k5s2     conv, 16 filters, kernel 5×5, stride 2
    maxpool2       2×2 max pooling (stride 2); avgpool2s1: average pooling with stride 1
    dense32        a fully connected layer of 32 units
    relu, tanh, …  an activation (any name of engine.activations)
    dropout0.25, batchnorm, flatten
so the default is "conv8k3p1,relu,maxpool2,conv16k3p1,relu,maxpool2". The API also takes the
engine's layer specs ({"type": "conv", "filters": 8, ...}); both become the same text. A token
out of range is a ValueError naming its place: "layer 2 (conv100k3): at most 64 filters".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from engine import activations

DEFAULT = "conv8k3p1,relu,maxpool2,conv16k3p1,relu,maxpool2"

# What the API accepts per layer (the page offers less: 1–16 filters, kernels 3 and 5).
LIMITS = {"filters": 64, "kernel": 7, "padding": 3, "stride": 4, "size": 4, "units": 512}
MAX_DROPOUT = 0.9

_CONV = re.compile(r"conv(\d+)(?:k(\d+))?(?:p(\d+))?(?:s(\d+))?")
_POOL = re.compile(r"(max|avg)pool(\d+)(?:s(\d+))?")
_DENSE = re.compile(r"dense(\d+)")
_DROPOUT = re.compile(r"dropout(\d*\.?\d+)")
SETTINGS = {"conv": {"filters", "kernel", "padding", "stride"}, "maxpool": {"size", "stride"},
            "avgpool": {"size", "stride"}, "dense": {"units"}, "dropout": {"p"}, "batchnorm": set(),
            "flatten": set()}


def _bounded(where: str, name: str, value: int, low: int = 1) -> int:
    top = LIMITS[name]
    if not low <= value <= top:
        word = {"size": "pooling size", "units": "units"}.get(name, name)
        raise ValueError(f"{where}: {word} from {low} to {top}, not {value}")
    return value


def parse_token(token: str, where: str) -> dict[str, Any]:
    """One token as an engine layer spec (ValueError naming `where` and the token)."""
    t = token.strip().lower()
    where = f"{where} ({t or 'empty'})"
    if t in activations.ACTIVATIONS:
        return {"type": t}
    if t in ("batchnorm", "flatten"):
        return {"type": t}
    if m := _CONV.fullmatch(t):
        f, k, p, s = m.groups()
        return {"type": "conv", "filters": _bounded(where, "filters", int(f)),
                "kernel": _bounded(where, "kernel", int(k or 3)),
                "padding": _bounded(where, "padding", int(p or 0), 0),
                "stride": _bounded(where, "stride", int(s or 1))}
    if m := _POOL.fullmatch(t):
        kind, k, s = m.groups()
        spec: dict[str, Any] = {"type": f"{kind}pool", "size": _bounded(where, "size", int(k))}
        if s is not None and int(s) != spec["size"]:
            spec["stride"] = _bounded(where, "stride", int(s))
        return spec
    if m := _DENSE.fullmatch(t):
        return {"type": "dense", "units": _bounded(where, "units", int(m.group(1)))}
    if m := _DROPOUT.fullmatch(t):
        p = float(m.group(1))
        if not 0 <= p <= MAX_DROPOUT:
            raise ValueError(f"{where}: a dropout rate from 0 to {MAX_DROPOUT}, not {p:g}")
        return {"type": "dropout", "p": p}
    raise ValueError(
        f"{where}: not a layer; write conv8k3p1 (filters, kernel, padding, stride), maxpool2, "
        f"avgpool2, dense32, dropout0.5, batchnorm, flatten or an activation "
        f"({', '.join(activations.ACTIVATIONS)})")


def token(spec: Mapping[str, Any], where: str) -> str:
    """An engine layer spec as its token (ValueError for settings the lab does not offer)."""
    kind = spec.get("type")
    if kind in activations.ACTIVATIONS:
        kind_settings: set[str] = set()
    elif kind == "activation":
        return token({"type": spec.get("name", "relu")}, where)
    elif kind in SETTINGS:
        kind_settings = SETTINGS[kind]
    else:
        raise ValueError(f"{where}: unknown layer type {kind!r}; the ConvNet lab takes "
                         f"{sorted(SETTINGS)} and the activations")
    unknown = set(spec) - kind_settings - {"type"}
    if unknown:
        raise ValueError(f"{where} ({kind}): unknown setting(s) {sorted(unknown)}; "
                         f"{kind} takes {sorted(kind_settings) or 'none'}")
    for name, value in spec.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if name != "type" and not (number and (name == "p" or isinstance(value, int))):
            raise ValueError(f"{where} ({kind}): {name} is a whole number (dropout p a fraction), "
                             f"not {value!r:.40}")
    if kind == "conv":
        text = f"conv{spec.get('filters', 8)}k{spec.get('kernel', 3)}"
        text += f"p{spec['padding']}" if spec.get("padding") else ""
        text += f"s{spec['stride']}" if spec.get("stride", 1) != 1 else ""
    elif kind in ("maxpool", "avgpool"):
        size = spec.get("size", 2)
        stride = spec.get("stride")
        text = f"{kind}{size}" + (f"s{stride}" if stride is not None and stride != size else "")
    elif kind == "dense":
        text = f"dense{spec.get('units', 16)}"
    elif kind == "dropout":
        text = f"dropout{float(spec.get('p', 0.5)):g}"
    else:
        text = str(kind)
    parse_token(text, where)  # the same bounds as the text form
    return text


def parse(layers: str | Sequence[Mapping[str, Any]]) -> tuple[str, tuple[dict[str, Any], ...]]:
    """(canonical text, engine specs) of an architecture given as text or as layer specs."""
    if isinstance(layers, str):
        tokens = [t for t in re.split(r"[,\s]+", layers.strip()) if t]
        specs = tuple(parse_token(t, f"layer {i}") for i, t in enumerate(tokens, start=1))
    else:
        if not all(isinstance(s, Mapping) for s in layers):
            raise ValueError("layers: give text like \"conv8k3p1,relu,maxpool2\" or a list of layer objects")
        tokens = [token(s, f"layer {i}") for i, s in enumerate(layers, start=1)]
        specs = tuple(parse_token(t, f"layer {i}") for i, t in enumerate(tokens, start=1))
    return ",".join(format_spec(s) for s in specs), specs


def format_spec(spec: Mapping[str, Any]) -> str:
    return token(spec, "layer")
