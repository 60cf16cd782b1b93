"""A network's parameters by layer and parameter name, to save a run and to load it back.

`parameters_by_layer(model)` gives {layer name: {parameter name: copy}} for every layer that
holds parameters (names as `Sequential.leaves()` gives them: "conv1", "block2.dense1",
"output"), batchnorm's running statistics included as "running_mean" / "running_var".
`load_parameters(model, values)` writes such a dict back in place (an optimizer holding the
arrays keeps working on them) after checking that it names exactly the model's layers and
parameters with the same shapes and finite numbers; ValueError says what differs and nothing
is written then.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.nn.layer import Array, Layer
from engine.nn.sequential import Sequential

BUFFERS = ("running_mean", "running_var")


def _arrays(layer: Layer) -> dict[str, Array]:
    out = dict(layer.params)
    out.update({b: getattr(layer, b) for b in BUFFERS if isinstance(getattr(layer, b, None), np.ndarray)})
    return out


def parameters_by_layer(model: Sequential) -> dict[str, dict[str, Array]]:
    return {name: {k: v.copy() for k, v in _arrays(layer).items()}
            for name, layer in model.leaves() if _arrays(layer)}


def load_parameters(model: Sequential, values: Mapping[str, Mapping[str, Any]]) -> None:
    targets = {name: _arrays(layer) for name, layer in model.leaves() if _arrays(layer)}
    if set(values) != set(targets):
        missing, extra = sorted(set(targets) - set(values)), sorted(set(values) - set(targets))
        raise ValueError(f"the parameters name other layers than this network's {sorted(targets)}"
                         f" (missing {missing}, unknown {extra})")
    new: list[tuple[Array, Array]] = []
    for name, arrays in targets.items():
        given = values[name]
        if not isinstance(given, Mapping) or set(given) != set(arrays):
            raise ValueError(f"{name}: give exactly the parameters {sorted(arrays)}")
        for key, target in arrays.items():
            try:
                value = np.asarray(given[key], dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{name}.{key}: give numbers") from None
            if value.shape != target.shape:
                raise ValueError(f"{name}.{key}: shape {value.shape}, this network needs {target.shape}")
            if not np.isfinite(value).all():
                raise ValueError(f"{name}.{key}: every value must be a finite number")
            new.append((target, value))
    for target, value in new:
        target[...] = value
