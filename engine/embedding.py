"""Reading an embedding space: Wang & Isola's alignment and uniformity, a 2-D view of it, and
nearest neighbours.

Embeddings z (M, d), rows of length 1 (on the unit hypersphere).
- alignment(za, zb) = mean_i ‖za_i − zb_i‖^α   (α = 2): positive pairs close together;
  0 when both views land on one point, 4 when they are antipodal.
- uniformity(z) = log mean_{i<j} exp(−t ‖z_i − z_j‖²)   (t = 2): how evenly the points cover
  the sphere; 0 when all coincide, lower (more negative) when spread out. Wang & Isola,
  "Understanding Contrastive Representation Learning through Alignment and Uniformity on the
  Hypersphere" (ICML 2020), whose code computes torch.pdist(z).pow(2).mul(-t).exp().mean().log().
- pca_2d(z): the projection onto the two directions of largest variance (centred).
- procrustes(coords, reference): coords turned (and mirrored if that fits better) about the
  origin to lie closest to reference (least squares, R = U Vᵀ from the SVD of coordsᵀ ·
  reference): PCA's axes may flip or swap from one step to the next, the picture should not.
- nearest(z, i, k): the k other rows with the highest cosine to row i.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def alignment(za: Array, zb: Array, alpha: float = 2.0) -> float:
    """mean_i ‖za_i − zb_i‖^α over positive pairs (rows of za and zb)."""
    return float((np.linalg.norm(za - zb, axis=1) ** alpha).mean())


def uniformity(z: Array, t: float = 2.0) -> float:
    """log of the mean over pairs i < j of exp(−t ‖z_i − z_j‖²)."""
    M = len(z)
    if M < 2:
        raise ValueError("uniformity needs at least two points")
    sq = np.einsum("id,id->i", z, z)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * z @ z.T, 0.0)
    iu = np.triu_indices(M, k=1)
    v = -t * d2[iu]
    top = v.max()
    return float(top + np.log(np.exp(v - top).mean()))


def pca_2d(z: Array) -> tuple[Array, Array, Array]:
    """(coords (M, 2), components (2, d), explained variance ratio (2,)) of centred z."""
    zc = z - z.mean(axis=0)
    _, s, vt = np.linalg.svd(zc, full_matrices=False)
    k = min(2, vt.shape[0])
    comps = np.zeros((2, z.shape[1]))
    comps[:k] = vt[:k]
    var = s**2
    ratio = np.zeros(2)
    if var.sum() > 0:
        ratio[:k] = var[:k] / var.sum()
    return zc @ comps.T, comps, ratio


def procrustes(coords: Array, reference: Array) -> Array:
    """coords (M, 2) times the orthogonal R that minimises ‖coords R − reference‖."""
    u, _, vt = np.linalg.svd(coords.T @ reference)
    return coords @ (u @ vt)


def nearest(z: Array, index: int, k: int) -> tuple[Array, Array]:
    """(indices, cosines) of the k rows most similar to row `index` (itself left out), best first."""
    if not 0 <= index < len(z):
        raise IndexError(f"index must be in 0 … {len(z) - 1}, got {index}")
    cos = z @ z[index]
    cos[index] = -np.inf
    k = min(k, len(z) - 1)
    order = np.argsort(-cos, kind="stable")[:k]
    return order, cos[order]
