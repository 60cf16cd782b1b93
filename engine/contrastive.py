"""NT-Xent (InfoNCE with temperature), the loss of SimCLR, with its gradient.

Input: z (2N, d), the L2-normalised embeddings of a batch's two views, ordered
[view 1 of images 1 … N; view 2 of images 1 … N], so the positive of row i is
p(i) = (i + N) mod 2N. With S = z zᵀ (cosine similarities, as ‖z_i‖ = 1) and τ > 0:

    ℓ_i = −log( exp(S_i,p(i) / τ) / Σ_{k≠i} exp(S_ik / τ) )
        = −S_i,p(i) / τ + logsumexp_{k≠i}(S_ik / τ),          L = (1 / 2N) Σ_i ℓ_i.

P_ik = softmax_{k≠i}(S_ik / τ) (P_ii = 0) is the row's softmax: the loss pulls the positive
up and pushes every negative down with weight P_ik. Gradient, with G the (2N, 2N) matrix
    G_ik = dL/dS_ik = (P_ik − 1[k = p(i)]) / (2N τ)   (G_ii = 0, S symmetric through z zᵀ):
    dL/dz = (G + Gᵀ) z.
The self-similarity S_ii = 1 is left out of every row (it would be the largest logit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass
class NTXent:
    tau: float
    loss: float  # L, the mean of row_losses
    row_losses: Array  # (2N,) ℓ_i
    sims: Array  # (2N, 2N) S = z zᵀ
    probs: Array  # (2N, 2N) P, the softmax over k ≠ i at temperature τ (P_ii = 0)
    positives: Array  # (2N,) p(i)
    grad: Array  # (2N, d) dL/dz

    @property
    def n_pairs(self) -> int:
        return len(self.positives) // 2

    def positive_accuracy(self) -> float:
        """Share of rows whose most similar other view is their positive (top-1 of 2N − 1)."""
        s = self.sims.copy()
        np.fill_diagonal(s, -np.inf)
        return float((s.argmax(axis=1) == self.positives).mean())

    def positive_similarity(self) -> float:
        """Mean cosine of the positive pairs."""
        return float(self.sims[np.arange(len(self.positives)), self.positives].mean())

    def negative_similarity(self) -> float:
        """Mean cosine over the negatives (k ≠ i, k ≠ p(i))."""
        n2 = len(self.positives)
        mask = ~np.eye(n2, dtype=bool)
        mask[np.arange(n2), self.positives] = False
        return float(self.sims[mask].mean())

    def hardest_share(self) -> float:
        """How much of the push on the negatives goes to each row's hardest one, averaged:
        max_k P_ik / Σ_{k negative} P_ik (1 / (2N − 2) when all are pushed alike, 1 when only
        one is)."""
        n2 = len(self.positives)
        neg = self.probs.copy()
        neg[np.arange(n2), self.positives] = 0.0
        total = neg.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, neg.max(axis=1) / total, 0.0)
        return float(share.mean())


def positives(n2: int) -> Array:
    """p(i) = (i + N) mod 2N for a batch of 2N views ordered [view 1; view 2]."""
    if n2 < 2 or n2 % 2:
        raise ValueError(f"a batch holds two views of each image: an even number ≥ 2 of rows, got {n2}")
    n = n2 // 2
    return (np.arange(n2) + n) % n2


def nt_xent(z: Array, tau: float) -> NTXent:
    """NT-Xent of normalised embeddings z (2N, d) at temperature τ, value and dL/dz."""
    if not tau > 0:
        raise ValueError(f"the temperature τ must be above 0, got {tau}")
    n2 = len(z)
    if n2 < 4:
        raise ValueError(f"NT-Xent needs N ≥ 2 images (2N ≥ 4 views) so each row has a negative, "
                         f"got 2N = {n2}")
    pos = positives(n2)
    rows = np.arange(n2)
    sims = z @ z.T
    logits = sims / tau
    logits[rows, rows] = -np.inf  # each view is left out of its own row
    top = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - top)
    total = e.sum(axis=1, keepdims=True)
    probs = e / total
    row_losses = (np.log(total[:, 0]) + top[:, 0]) - logits[rows, pos]
    G = probs.copy()
    G[rows, pos] -= 1.0
    G /= n2 * tau
    grad = (G + G.T) @ z
    return NTXent(float(tau), float(row_losses.mean()), row_losses, sims, probs, pos, grad)


def loss_floor(n: int, tau: float) -> float:
    """The smallest ℓ_i a row can have at τ with 2N = 2n views: the positive at cosine 1 and
    every negative at −1 (no embedding reaches it for n > 1):  log(1 + (2n − 2) e^(−2/τ))."""
    return float(np.log1p((2 * n - 2) * np.exp(-2.0 / tau)))
