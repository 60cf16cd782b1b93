"""The linear probe: multinomial logistic regression on frozen features, trained on a few labels.

Features F (n, d) are standardised with a mean and standard deviation μ, σ (d,) taken from all
the training images, labelled or not (the probe may look at unlabelled data, never at more
labels): x = (F − μ) / σ. Then, with W (d, K), b (K,), labels t and weight decay λ,
    L(W, b) = (1/n) Σ_i [logsumexp(x_i W + b) − (x_i W + b)_{t_i}] + (λ/2) ‖W‖²,
    dL/dW = xᵀ (P − Y) / n + λ W,   dL/db = Σ_i (P − Y)_i / n,
minimised from zero by full-batch Adam (engine.optimizers, torch.optim's rule) for a fixed
number of iterations: L is convex, so the result does not depend on anything but the data.
`labelled_subset` draws the labelled images: round(fraction · n_c) of each class c, at least
one, from a Generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import optimizers
from engine.losses import softmax

Array = np.ndarray


@dataclass
class Probe:
    W: Array  # (d, K)
    b: Array  # (K,)
    mean: Array  # (d,) μ
    std: Array  # (d,) σ
    loss: float  # final L
    grad_norm: float  # ‖(dL/dW, dL/db)‖ at the end: near 0 once converged

    def logits(self, features: Array) -> Array:
        return ((features - self.mean) / self.std) @ self.W + self.b

    def predict(self, features: Array) -> Array:
        return self.logits(features).argmax(axis=1)

    def accuracy(self, features: Array, labels: Array) -> float:
        return float((self.predict(features) == labels).mean())


def standardizer(features: Array) -> tuple[Array, Array]:
    """μ, σ per feature; σ = 1 where a feature is constant (a dead unit stays 0, not NaN)."""
    mean = features.mean(axis=0)
    std = features.std(axis=0)
    return mean, np.where(std > 1e-8, std, 1.0)


def loss_and_grads(x: Array, labels: Array, W: Array, b: Array, weight_decay: float
                   ) -> tuple[float, Array, Array]:
    """L, dL/dW, dL/db for standardised x (n, d)."""
    n = len(x)
    z = x @ W + b
    P = softmax(z)
    top = z.max(axis=1)
    lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    loss = float((lse - z[np.arange(n), labels]).mean() + 0.5 * weight_decay * (W * W).sum())
    D = P.copy()
    D[np.arange(n), labels] -= 1.0
    D /= n
    return loss, x.T @ D + weight_decay * W, D.sum(axis=0)


def fit(features: Array, labels: Array, num_classes: int, stats: tuple[Array, Array] | None = None,
        weight_decay: float = 1e-3, iterations: int = 300, lr: float = 0.05) -> Probe:
    """The probe trained on (features, labels); `stats` (μ, σ) default to these features'."""
    mean, std = stats if stats is not None else standardizer(features)
    x = (features - mean) / std
    d = x.shape[1]
    W, b = np.zeros((d, num_classes)), np.zeros(num_classes)
    opt = optimizers.make("adam", [W, b], lr=lr)
    for _ in range(iterations):
        _, dW, db = loss_and_grads(x, labels, W, b, weight_decay)
        opt.step([dW, db])
    loss, dW, db = loss_and_grads(x, labels, W, b, weight_decay)
    return Probe(W, b, mean, std, loss, float(np.sqrt((dW * dW).sum() + (db * db).sum())))


def labelled_subset(labels: Array, fraction: float, rng: np.random.Generator) -> Array:
    """Indices of round(fraction · n_c) images of each class c (at least 1), sorted."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"the labelled fraction must be above 0 and at most 1, got {fraction}")
    picked = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = max(1, round(fraction * len(idx)))
        picked.append(rng.choice(idx, size=k, replace=False) if k < len(idx) else idx)
    return np.sort(np.concatenate(picked))


def evaluate(train_features: Array, train_labels: Array, test_features: Array, test_labels: Array,
             num_classes: int, fraction: float, draws: int = 1, seed: int = 0) -> list[float]:
    """Test accuracies of probes trained on `draws` labelled subsets of the training set."""
    stats = standardizer(train_features)
    accs = []
    for k in range(draws if fraction < 1.0 else 1):
        idx = labelled_subset(train_labels, fraction, np.random.default_rng([seed, k]))
        probe = fit(train_features[idx], train_labels[idx], num_classes, stats)
        accs.append(probe.accuracy(test_features, test_labels))
    return accs
