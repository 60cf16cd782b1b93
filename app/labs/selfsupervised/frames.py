"""The self-supervised lab's frames, part by part: compact JSON of a contrastive run.

The batch's views and its 2N×2N similarity matrix travel as uint8 grids, the held-out 2-D view
as a uint16 grid, every other array (the chosen row, per-row losses, the curves) as base64
float32 ({"dtype": "float32", "shape", "data"}); labels and held-out images travel once, in
the config message. Non-finite numbers become null (JSON has no NaN).
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from app import encoding
from app.labs.selfsupervised.jobs import Job
from engine import contrastive
from engine.contrastive_trainer import ContrastiveTrainer


def f32(values: Any) -> dict[str, Any]:
    """A float array as {"dtype": "float32", "shape", "data": base64 little-endian}; NaN/inf → 0."""
    a = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    return {"dtype": "float32", "shape": list(a.shape),
            "data": base64.b64encode(a.astype("<f4").tobytes()).decode("ascii")}


def num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def images_grid(images: np.ndarray) -> dict[str, Any]:
    """(n, 1, H, W) grey images in [0, 1] as one uint8 grid (n, H, W)."""
    return encoding.grid(np.asarray(images)[:, 0], 0.0, 1.0)


def metrics_out(t: ContrastiveTrainer) -> dict[str, Any]:
    r = t.batch.result
    ev = t.evaluate()
    n = t.config.batch_size
    return {
        "step": t.step_count, "epoch": t.epoch, "diverged": t.diverged,
        "loss": num(r.loss), "batch_step": t.batch.step,
        "positive_accuracy": num(r.positive_accuracy()),
        "positive_similarity": num(r.positive_similarity()),
        "negative_similarity": num(r.negative_similarity()),
        "hardest_share": num(r.hardest_share()),
        "chance_loss": math.log(2 * n - 1),  # every other view alike: log(2N − 1)
        "loss_floor": contrastive.loss_floor(n, t.config.tau),
        "uniformity": num(ev.uniformity), **last_alignment(t),
    }


def last_alignment(t: ContrastiveTrainer) -> dict[str, Any]:
    """The alignment the history recorded last (every EVAL_EVERY steps) and its step."""
    h = t.history
    return {"alignment": num(h.alignment[-1]) if h.alignment else None,
            "alignment_step": h.eval_steps[-1] if h.eval_steps else None}


def batch_out(t: ContrastiveTrainer) -> dict[str, Any]:
    b, r = t.batch, t.batch.result
    return {"n": r.n_pairs, "step": b.step, "views": images_grid(b.views),
            "originals": images_grid(t.X_train[b.indices]),
            "sims": encoding.grid(r.sims, -1.0, 1.0), "row_losses": f32(r.row_losses),
            "labels": encoding.labels(np.concatenate([t.y_train[b.indices]] * 2))}


def row_out(t: ContrastiveTrainer, row: int) -> dict[str, Any]:
    r = t.batch.result
    i = min(row, len(r.positives) - 1)
    return {"index": i, "positive": int(r.positives[i]), "tau": r.tau, "sims": f32(r.sims[i]),
            "probs": f32(r.probs[i]), "loss": num(r.row_losses[i])}


def embedding_out(t: ContrastiveTrainer) -> dict[str, Any]:
    ev = t.evaluate()
    m = float(np.abs(ev.coords).max(initial=0.0)) or 1.0
    return {"step": ev.step, "coords": encoding.grid(ev.coords, -m, m, bits=16),
            "explained": [float(v) for v in ev.explained], "uniformity": num(ev.uniformity),
            **last_alignment(t)}


def history_out(t: ContrastiveTrainer, most: int = 300) -> dict[str, Any]:
    steps, loss = t.history.loss_curve(most)
    h = t.history
    idx = encoding.decimate_indices(len(h.eval_steps), most)
    return {"steps": f32(steps), "loss": f32(loss), "eval_steps": f32(np.asarray(h.eval_steps)[idx]),
            "alignment": f32(np.asarray(h.alignment)[idx]), "uniformity": f32(np.asarray(h.uniformity)[idx])}


def heldout_out(t: ContrastiveTrainer) -> dict[str, Any]:
    return {"images": images_grid(t.X_test), "labels": encoding.labels(t.y_test),
            "classes": list(t.data.classes)}


def job_out(job: Job | None) -> dict[str, Any] | None:
    if job is None:
        return None
    out: dict[str, Any] = {"kind": job.kind, "state": job.state, "done": round(job.done, 3),
                           "total": job.total, "version": job.version, **job.info}
    if job.error:
        out["error"] = job.error
    if job.kind == "probe":
        out["cells"] = [{"row": c.row, "fraction": c.fraction, "accuracy": num(c.accuracy),
                         "accuracies": [num(a) for a in c.accuracies], "labelled": c.labelled}
                        for c in list(job.results)]
    else:
        out["points"] = [{"param": p.param, "value": p.value, "accuracy": num(p.accuracy),
                          "loss": num(p.loss), "alignment": num(p.alignment),
                          "uniformity": num(p.uniformity), "diverged": p.diverged}
                         for p in list(job.results)]
    return out
