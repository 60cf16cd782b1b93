"""Activation functions for the depth lab's explorer: f and f′ sampled, the largest slope, and
what the lecture says for and against each."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query

from app.deps import SettingsDep
from app.labs.depth.session import sig
from engine import activation_curves, activations

router = APIRouter(prefix="/api/v1/activations", tags=["activations"])

# The formula and the lecture's pros and cons, beside the numbers the engine computes.
NOTES: dict[str, dict[str, Any]] = {
    "sigmoid": {"formula": "σ(z) = 1 / (1 + e^−z)", "pros": [
        "bounded: outputs in (0, 1), read as a probability",
        "“pleasing math”: σ′ = σ (1 − σ), cheap from the output"], "cons": [
        "f′ ≤ 0.25: every layer scales the gradient by at most a quarter",
        "saturates: for |z| > 5 the slope is below 0.007",
        "outputs are all positive, never centred at 0"]},
    "tanh": {"formula": "tanh(z) = (e^z − e^−z) / (e^z + e^−z)", "pros": [
        "bounded: outputs in (−1, 1), centred at 0",
        "“pleasing math”: tanh′ = 1 − tanh², and f′(0) = 1"], "cons": [
        "saturates: for |z| > 3 the slope is below 0.01"]},
    "relu": {"formula": "ReLU(z) = max(0, z)", "pros": [
        "strong gradient signal: f′ = 1 wherever the unit is on",
        "cheap: one comparison"], "cons": [
        "dead units: a unit whose z < 0 for every input gets no gradient and never recovers",
        "unbounded outputs"]},
    "leaky_relu": {"formula": "max(0.01 z, z)", "pros": [
        "no dead units: slope 0.01 below 0", "strong gradient signal above 0"], "cons": [
        "the slope below 0 is one more choice"]},
    "elu": {"formula": "z for z > 0, e^z − 1 otherwise", "pros": [
        "smooth, no dead units", "negative outputs pull the mean towards 0"], "cons": [
        "an exponential per unit"]},
    "softplus": {"formula": "ln(1 + e^z)", "pros": [
        "a smooth ReLU; “pleasing math”: f′ = σ(z)"], "cons": [
        "f′ < 1 everywhere: it only approaches 1 for large z", "unbounded outputs"]},
    "gelu": {"formula": "z · Φ(z) (tanh approximation)", "pros": [
        "smooth; the transformers' choice (BERT, GPT)"], "cons": [
        "not monotonic: dips to −0.17 near z = −0.75", "f′ peaks above 1 (about 1.13)"]},
    "linear": {"formula": "f(z) = z", "pros": ["f′ = 1 everywhere: nothing vanishes"], "cons": [
        "a stack of linear layers is one linear layer: depth buys nothing"]},
    "sine": {"formula": "sin(z)", "pros": ["bounded, f′(0) = 1; periodic features (SIREN)"], "cons": [
        "not monotonic: many inputs give the same output"]},
}


@router.get("")
def sample_activations(
    settings: SettingsDep,
    names: str = Query("", description="comma-separated registry names (default: every activation)"),
    lo: float = Query(-6.0, ge=-1000, le=1000, allow_inf_nan=False),
    hi: float = Query(6.0, ge=-1000, le=1000, allow_inf_nan=False),
    n: int = Query(241, ge=2, description="samples on [lo, hi], at most NP_MAX_POINTS"),
) -> dict[str, Any]:
    """f(z) and f′(z) on n evenly spaced z in [lo, hi], the largest f′ there (its value, where,
    and the stretch where a flat maximum holds: ReLU, linear), f's range, formula, pros and cons."""
    chosen = [s.strip() for s in names.split(",") if s.strip()] or list(activations.ACTIVATIONS)
    unknown = [s for s in chosen if s not in activations.ACTIVATIONS]
    if unknown:
        raise HTTPException(422, f"unknown activation(s) {unknown}; "
                                 f"choose from {list(activations.ACTIVATIONS)}")
    if not lo < hi:
        raise HTTPException(422, f"lo must be below hi, got lo = {lo}, hi = {hi}")
    if n > settings.max_points:
        raise HTTPException(422, f"at most {settings.max_points} samples (NP_MAX_POINTS)")
    out = []
    z = None
    for name in dict.fromkeys(chosen):
        z, a, d = activation_curves.sample(name, lo, hi, n)
        peak = activation_curves.derivative_peak(name, lo, hi)
        out.append({
            "name": name, "label": activations.get(name).label,
            "f": sig(a, 6), "df": sig(d, 6),
            "peak": {"value": round(peak.value, 9), "z": round(peak.z, 6),
                     "plateau": None if peak.plateau is None else [round(v, 6) for v in peak.plateau]},
            "range": sig([float(a.min()), float(a.max())], 6),
            **NOTES.get(name, {"formula": name, "pros": [], "cons": []}),
        })
    return {"lo": lo, "hi": hi, "n": n, "z": sig(z, 6), "activations": out}
