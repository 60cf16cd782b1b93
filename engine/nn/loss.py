"""Softmax cross-entropy from logits, the classifier loss of the layer library.

logits z (N, K), integer labels t (N,):
    L = (1/N) Σ_n (logsumexp(z_n) − z_n,t_n),   dL/dz = (softmax(z) − onehot(t)) / N.
The arithmetic is `engine.losses`' softmax_ce (shifted by the row maximum, never log 0).
"""

from __future__ import annotations

from engine import losses
from engine.nn.layer import Array

_CE = losses.get("softmax_ce")


def softmax_cross_entropy(logits: Array, labels: Array) -> tuple[float, Array, Array]:
    """(mean loss, dL/dlogits (N, K), softmax probabilities (N, K))."""
    if logits.ndim != 2 or len(labels) != len(logits):
        raise ValueError(f"logits must be (N, K) with one label per row; got {logits.shape} and "
                         f"{len(labels)} labels")
    return _CE.value_and_grad(logits, labels, None)
