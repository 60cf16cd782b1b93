"""What the ConvNet lab sends: an image trainer's state as JSON, every array a compact grid.

Filters and feature maps are uint8 grids over a symmetric range ±max|value| of their layer
(so colour keeps the sign: orange negative, blue positive); images are grids over [0, 1];
class predictions are uint8 labels. Numbers are finite (NaN and ±inf become null).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from app import encoding
from app.settings import Settings
from engine.image_trainer import ImageTrainer
from engine.nn.stats import activation_stats
from engine.nn.summary import mlp_width_for_budget

if TYPE_CHECKING:
    from app.labs.convnet.session import ConvNetConfigIn


def signed(values: np.ndarray) -> dict[str, Any]:
    """A grid over ±max|values| (±1 when all are zero or not finite)."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.abs(v[np.isfinite(v)])
    m = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return encoding.grid(np.nan_to_num(v, nan=0.0, posinf=m, neginf=-m), -m, m)


def images(x: np.ndarray) -> dict[str, Any]:
    """Images (N, 1, H, W) or one (1, H, W) in [0, 1] as a uint8 grid (N, H, W) or (H, W)."""
    x = np.asarray(x)
    return encoding.grid(x[:, 0] if x.ndim == 4 else x[0], 0.0, 1.0)


def config_out(cfg: ConvNetConfigIn, trainer: ImageTrainer, settings: Settings) -> dict[str, Any]:
    rows = trainer.summary()
    total = sum(r.parameters for r in rows)
    n_in, k = int(np.prod(trainer.data.image_shape)), trainer.data.num_classes
    hidden = mlp_width_for_budget(total, n_in, k)
    return {
        **cfg.model_dump(),
        "resolved": {
            "spec": list(cfg.specs),
            "classes": list(trainer.data.classes),
            "image_shape": list(trainer.data.image_shape),
            "n_train": len(trainer.X_train),
            "n_test": len(trainer.X_test),
            "batches_per_epoch": trainer.batches_per_epoch,
            "layers": [{"name": r.name, "kind": r.kind, "description": r.description,
                        "in_shape": list(r.in_shape), "out_shape": list(r.out_shape),
                        "parameters": r.parameters, "macs": r.macs, "dense_equivalent": r.dense_equivalent}
                       for r in rows],
            "parameters": total,
            "macs": sum(r.macs for r in rows),
            # The same budget spent on a fully connected net n_in → hidden → k.
            "dense_budget": {"hidden": hidden, "parameters": (n_in + 1) * hidden + (hidden + 1) * k},
            "limits": {"max_layers": settings.max_convnet_layers,
                       "max_parameters": settings.max_convnet_parameters},
        },
        "initial_filters": {name: signed(w) for name, w in trainer.initial_filters.items()},
    }


def metrics_out(trainer: ImageTrainer) -> dict[str, Any]:
    m = trainer.metrics()
    return encoding.finite({
        "step": m.step, "epoch": m.epoch,
        "train_loss": m.train_loss, "test_loss": m.test_loss,
        "train_accuracy": m.train_accuracy, "test_accuracy": m.test_accuracy,
        "diverged": m.diverged,
        "grad_norms": trainer.grad_norms(),  # ‖dL/dθ‖ per layer, last mini-batch
        "update_ratios": trainer.last_update,  # ‖Δθ‖ / ‖θ‖ per layer, last update
    }, 6)


def filters_out(filters: dict[str, np.ndarray]) -> dict[str, Any]:
    """Each conv layer's kernels (D, C, kh, kw) as one grid over its own ±max|w|."""
    return {name: signed(w) for name, w in filters.items()}


def maps_out(trainer: ImageTrainer, picture: tuple[np.ndarray, dict[str, Any]]) -> dict[str, Any]:
    """One picture through the network: its input, every layer's output (a residual block's
    inner layers instead of the block; no flatten) and the class probabilities."""
    image, about = picture
    tr = trainer.example(image)
    layers = []
    for t in tr.walk():
        if t.children or t.kind == "flatten":
            continue
        a = t.output[0]
        layers.append({"name": t.name, "kind": t.kind, "label": t.layer.describe(), "shape": list(a.shape),
                       "grid": signed(a)})
    probs = tr.probs[0]
    ok = bool(np.isfinite(probs).all())
    return {**about, "input": images(image), "layers": layers,
            "probs": encoding.finite(probs, 4), "prediction": int(np.argmax(probs)) if ok else None}


def predictions_out(trainer: ImageTrainer) -> dict[str, Any]:
    """The test set's predicted class and the probability given to it, per image."""
    e = trainer.test_evaluation()
    confidence = e.probs.max(axis=1) if len(e.probs) else np.zeros(0)
    return {"predicted": encoding.labels(e.predictions), "confidence": encoding.grid(confidence, 0.0, 1.0)}


def history_out(trainer: ImageTrainer) -> dict[str, Any]:
    h = trainer.history
    return encoding.finite({
        "steps": h.steps, "epochs": h.epochs, "train_loss": h.train_loss, "test_loss": h.test_loss,
        "train_accuracy": h.train_accuracy, "test_accuracy": h.test_accuracy,
    }, 6)


def trace_out(trainer: ImageTrainer) -> dict[str, Any] | None:
    """The last mini-batch per layer: output shape and statistics, gradient norms."""
    tr = trainer.trace
    if tr is None:
        return None
    stats = activation_stats(tr)
    return encoding.finite({
        "loss": tr.loss, "batch": len(tr.labels),
        "layers": [{"name": t.name, "kind": t.kind, "shape": list(t.output.shape[1:]), **stats[t.name],
                    "grad_norm": t.grad_norm} for t in tr.walk()],
    }, 6)


def weights_out(trainer: ImageTrainer) -> dict[str, Any]:
    return encoding.finite({name: {k: v for k, v in p.items()} for name, p in trainer.weights().items()})


def snapshot(trainer: ImageTrainer, include: Sequence[str],
             picture: tuple[np.ndarray, dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"step": trainer.step_count, "epoch": trainer.epoch, "diverged": trainer.diverged}
    if "metrics" in include:
        out["metrics"] = metrics_out(trainer)
        out["diverged"] = trainer.diverged
    if "filters" in include:
        out["filters"] = filters_out(trainer.filters())
    if "maps" in include and picture is not None:
        out["maps"] = maps_out(trainer, picture)
    if "confusion" in include:
        out["confusion"] = trainer.confusion().tolist()
    if "predictions" in include:
        out["predictions"] = predictions_out(trainer)
    if "history" in include:
        out["history"] = history_out(trainer)
    if "trace" in include:
        out["trace"] = trace_out(trainer)
    if "weights" in include:
        out["weights"] = weights_out(trainer)
    return out
