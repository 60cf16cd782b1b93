"""Random ReLU features with a least-squares read-out: the cheapest honest double descent.

The model has one hidden layer of p ReLU units whose weights are drawn once and frozen, and a
linear read-out fitted to one-hot targets:
    φ(x) = max(0, (x − μ) W),   W (d, p) ~ N(0, 1/d),   μ the training images' mean,
    F = φ(X) (n, p),   Y (n, K) one-hot,   prediction φ(x) θ,   θ (p, K).
θ is the minimum-norm least-squares solution θ = F⁺ Y (ridge λ > 0: θ = (FᵀF + λI)⁻¹ Fᵀ Y),
which is exactly where gradient descent on ½‖Fθ − Y‖² started from θ = 0 converges, so
"trained to convergence" is literal. Each of the K read-out columns solves its own n
equations with p unknowns: for p < n it cannot fit every training label, for p > n it can
(and picks the smallest θ that does); at p = n there is exactly one θ that interpolates, and
with noisy labels it has to bend hard to do so: the test error peaks at the interpolation
threshold p = n and falls again beyond it (double descent).

Everything goes through the thin SVD F = U S Vᵀ (rank r), computed from the eigenvectors of
the smaller Gram matrix (FᵀF when p ≤ n, FFᵀ otherwise). With d_i = s_i² + λ:
    θ = V diag(s / d) Uᵀ Y,
and gradient descent with step η = 1 / max d after t steps from θ = 0:
    θ_t = V diag((1 − (1 − η d)^t) · s / d) Uᵀ Y,
so the whole training curve costs one decomposition. Singular values below
s_max · √(max(n, p) · ε) count as zero (the Gram matrix squares them).
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def relu_features(X: Array, W: Array, mu: Array) -> Array:
    """φ(X) = max(0, (X − μ) W): X (N, d), W (d, p), μ (d,) → (N, p)."""
    return np.maximum((X - mu) @ W, 0.0)


def thin_svd(F: Array) -> tuple[Array, Array, Array]:
    """U (n, r), s (r,), V (p, r) with F ≈ U diag(s) Vᵀ, s descending, r the numerical rank."""
    n, p = F.shape
    G = F.T @ F if p <= n else F @ F.T
    w, E = np.linalg.eigh(G)
    w, E = w[::-1], E[:, ::-1]
    top = max(float(w[0]), 0.0) if len(w) else 0.0
    keep = w > top * max(n, p) * np.finfo(np.float64).eps * 10 if top > 0 else np.zeros(len(w), bool)
    w, E = w[keep], E[:, keep]
    s = np.sqrt(w)
    if p <= n:
        V = E
        U = (F @ V) / s
    else:
        U = E
        V = (F.T @ U) / s
    return U, s, V


class RandomFeatures:
    """p random ReLU features of the images and the least-squares read-out, with its
    gradient-descent path. X_* (N, d) flattened images, y_* (N,) int labels in 0 … K − 1."""

    def __init__(self, X_train: Array, y_train: Array, X_test: Array, y_test: Array, width: int,
                 num_classes: int, rng: np.random.Generator, ridge: float = 0.0) -> None:
        if width < 1:
            raise ValueError(f"random features need at least one feature, got {width}")
        if ridge < 0:
            raise ValueError(f"ridge λ must be at least 0, got {ridge}")
        d = X_train.shape[1]
        self.width, self.num_classes, self.ridge = width, num_classes, ridge
        self.y_train, self.y_test = y_train, y_test
        self.W = rng.normal(0.0, 1.0 / np.sqrt(d), (d, width))
        self.mu = X_train.mean(axis=0)
        F = relu_features(X_train, self.W, self.mu)
        F_test = relu_features(X_test, self.W, self.mu)
        self.Y = np.eye(num_classes)[y_train]
        self.Y_test = np.eye(num_classes)[y_test]
        U, self.s, V = thin_svd(F)
        self.d = self.s**2 + ridge
        self.lr = 1.0 / float(self.d.max()) if len(self.d) else 0.0
        # Predictions are A · diag(coefficients) · B for both sets: F V = U S on the training set.
        self._B = U.T @ self.Y  # (r, K)
        self._A_train = U * self.s  # (n, r)
        self._A_test = F_test @ V  # (n_test, r)
        self._V = V

    @property
    def parameters(self) -> int:
        """Trained parameters: the read-out θ (p, K). The frozen W is not trained."""
        return self.width * self.num_classes

    @property
    def rank(self) -> int:
        return len(self.s)

    def coefficients(self, t: float | None = None) -> Array:
        """Per singular direction: s/d at convergence (t None), (1 − (1 − η d)^t) s/d after t steps."""
        c = self.s / self.d
        if t is None:
            return c
        return (1.0 - np.power(1.0 - self.lr * self.d, t)) * c

    def theta(self, t: float | None = None) -> Array:
        """The read-out θ (p, K) at convergence or after t gradient-descent steps."""
        return self._V @ (self.coefficients(t)[:, None] * self._B)

    def evaluate(self, t: float | None = None) -> dict[str, float]:
        """Train/test classification error (argmax of the K outputs) and squared loss
        (mean over examples of Σ_k (ŷ_k − y_k)²), at convergence or after t steps."""
        c = self.coefficients(t)[:, None] * self._B
        out = {}
        for name, A, y, Y in (("train", self._A_train, self.y_train, self.Y),
                              ("test", self._A_test, self.y_test, self.Y_test)):
            P = A @ c
            out[f"{name}_error"] = float((P.argmax(axis=1) != y).mean())
            out[f"{name}_loss"] = float(((P - Y) ** 2).sum(axis=1).mean())
        return out

    def theta_norm(self, t: float | None = None) -> float:
        """‖θ‖ (Frobenius): it blows up at the interpolation threshold."""
        return float(np.sqrt(((self.coefficients(t)[:, None] * self._B) ** 2).sum()))
