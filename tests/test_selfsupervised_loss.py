"""NT-Xent (engine.contrastive): a worked example by hand, the direct formula row by row, central
differences for the gradient (also through the L2-normalize layer), torch where installed, and
the metrics the page shows; alignment and uniformity (engine.embedding) by hand and by
Wang & Isola's own formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import contrastive, embedding
from engine.gradcheck import check
from engine.nn import Normalize


def unit_rows(rng, n2, d):
    z = rng.normal(size=(n2, d))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def direct(z, tau):
    """ℓ_i = −log(exp(s_i,p / τ) / Σ_{k≠i} exp(s_ik / τ)), written out with loops."""
    n2 = len(z)
    n = n2 // 2
    losses = []
    for i in range(n2):
        p = (i + n) % n2
        num = math.exp(float(z[i] @ z[p]) / tau)
        den = sum(math.exp(float(z[i] @ z[k]) / tau) for k in range(n2) if k != i)
        losses.append(-math.log(num / den))
    return float(np.mean(losses)), losses


def test_worked_example_by_hand():
    """N = 2 on the unit circle: view 1 of images 1, 2 at 0° and 90°, view 2 at 0° and 180°."""
    z = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
    r = contrastive.nt_xent(z, tau=0.5)
    # sims: row 0 = [1, 0, 1, −1]: positive 2 (cos 1), negatives 1 (cos 0) and 3 (cos −1)
    np.testing.assert_allclose(r.sims[0], [1, 0, 1, -1])
    l0 = -math.log(math.exp(2) / (math.exp(0) + math.exp(2) + math.exp(-2)))
    # row 1 = [0, 1, 0, 0]: positive 3 (cos 0), negatives 0 and 2 (cos 0): a third each
    l1 = math.log(3)
    l2 = l0  # row 2 = [1, 0, 1, −1]: positive 0 (cos 1), negatives 1 and 3
    # row 3 = [−1, 0, −1, 1]: positive 1 (cos 0), negatives 0 and 2 (cos −1)
    l3 = -math.log(1 / (1 + 2 * math.exp(-2)))
    assert r.row_losses == pytest.approx([l0, l1, l2, l3], abs=1e-12)
    assert r.loss == pytest.approx((l0 + l1 + l2 + l3) / 4, abs=1e-12)
    assert l0 == pytest.approx(0.14293, abs=1e-5)  # log(1 + e^−2 + e^−4)
    assert l1 == pytest.approx(1.09861, abs=1e-5)  # log 3
    np.testing.assert_array_equal(r.positives, [2, 3, 0, 1])
    assert r.probs[1].tolist() == pytest.approx([1 / 3, 0, 1 / 3, 1 / 3])
    # rows 0, 2 and 3 rank their positive first; row 1's three cosines tie at 0 (the first wins)
    assert r.positive_accuracy() == 0.75


@pytest.mark.parametrize(("n", "d", "tau"), [(2, 3, 0.5), (4, 5, 0.1), (8, 16, 1.0), (3, 2, 0.05)])
def test_value_matches_the_direct_formula(n, d, tau):
    z = unit_rows(np.random.default_rng(n), 2 * n, d)
    r = contrastive.nt_xent(z, tau)
    loss, losses = direct(z, tau)
    assert r.loss == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(r.row_losses, losses, rtol=1e-12)
    np.testing.assert_allclose(r.probs.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(np.diag(r.probs) == 0.0)


@pytest.mark.parametrize(("n", "d", "tau"), [(2, 3, 0.5), (4, 5, 0.1), (5, 4, 1.0)])
def test_gradient_by_central_differences(n, d, tau):
    """dL/dz for any z (the formula does not need unit rows to hold)."""
    z = np.random.default_rng(10 + n).normal(size=(2 * n, d)) * 0.6
    r = contrastive.nt_xent(z, tau)
    err = check(lambda: contrastive.nt_xent(z, tau).loss, z, r.grad)
    assert err < 1e-7


def test_gradient_through_the_normalize_layer():
    """Raw head outputs → L2-normalize → NT-Xent: the chain the trainer backpropagates."""
    x = np.random.default_rng(3).normal(size=(8, 5))
    norm = Normalize()
    r = contrastive.nt_xent(norm.forward(x), 0.2)
    dx = norm.backward(r.grad)

    def f():
        return contrastive.nt_xent(Normalize().forward(x), 0.2).loss

    assert check(f, x, dx) < 1e-7


def test_against_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(5)
    raw = rng.normal(size=(12, 7))
    tau = 0.15
    # SimCLR's usual torch code: normalise, mask the diagonal, cross-entropy to the positive.
    t = torch.tensor(raw, requires_grad=True)
    zt = F.normalize(t, dim=1)
    logits = zt @ zt.T / tau
    logits = logits.masked_fill(torch.eye(12, dtype=torch.bool), float("-inf"))
    target = (torch.arange(12) + 6) % 12
    loss = F.cross_entropy(logits, target)
    loss.backward()
    norm = Normalize()
    r = contrastive.nt_xent(norm.forward(raw), tau)
    assert r.loss == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(norm.backward(r.grad), t.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_temperature_and_batch_are_checked():
    z = unit_rows(np.random.default_rng(0), 4, 3)
    for tau in (0.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="temperature"):
            contrastive.nt_xent(z, tau)
    with pytest.raises(ValueError, match="N ≥ 2"):
        contrastive.nt_xent(z[:2], 0.5)
    with pytest.raises(ValueError, match="even"):
        contrastive.positives(5)


def test_readouts():
    """Positive/negative means, top-1 and the hardest negative's share of the push."""
    z = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])  # perfect pairs, orthogonal
    r = contrastive.nt_xent(z, 0.1)
    assert r.positive_similarity() == 1.0 and r.negative_similarity() == 0.0
    assert r.positive_accuracy() == 1.0
    # each row's two negatives have the same cosine: each takes half of the push
    assert r.hardest_share() == pytest.approx(0.5)
    # a cold temperature sends nearly all the push to the closest negative
    z2 = unit_rows(np.random.default_rng(1), 16, 4)
    cold, warm = contrastive.nt_xent(z2, 0.05), contrastive.nt_xent(z2, 1.0)
    assert cold.hardest_share() > 0.5 > 0.2 > warm.hardest_share() >= 1 / 14


def test_loss_floor():
    assert contrastive.loss_floor(32, 1.0) == pytest.approx(math.log(1 + 62 * math.exp(-2)))
    assert contrastive.loss_floor(32, 0.1) < 1e-6
    z = unit_rows(np.random.default_rng(2), 64, 8)
    assert contrastive.nt_xent(z, 1.0).row_losses.min() >= contrastive.loss_floor(32, 1.0)


# ---- alignment and uniformity -------------------------------------------------------------

def test_alignment_by_hand():
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert embedding.alignment(a, a) == 0.0
    assert embedding.alignment(a, -a) == pytest.approx(4.0)  # antipodal: ‖2‖² = 4
    b = np.array([[0.0, 1.0], [0.0, 1.0]])  # first pair at 90°: ‖·‖² = 2; second equal: 0
    assert embedding.alignment(a, b) == pytest.approx(1.0)


def test_uniformity_by_hand():
    """Two antipodal points: one pair at ‖·‖² = 4, log e^(−8) = −8; identical points: 0."""
    assert embedding.uniformity(np.array([[1.0, 0.0], [-1.0, 0.0]])) == pytest.approx(-8.0)
    assert embedding.uniformity(np.array([[1.0, 0.0]] * 5)) == pytest.approx(0.0)
    # three points at 120° on the circle: every pair at ‖·‖² = 3
    ang = np.deg2rad([90, 210, 330])
    tri = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    assert embedding.uniformity(tri) == pytest.approx(-6.0)


def test_uniformity_and_alignment_against_wang_and_isola():
    torch = pytest.importorskip("torch")
    z = unit_rows(np.random.default_rng(4), 40, 6)
    w = unit_rows(np.random.default_rng(5), 40, 6)
    zt, wt = torch.tensor(z), torch.tensor(w)
    # the paper's code, verbatim in spirit
    unif = torch.pdist(zt, p=2).pow(2).mul(-2).exp().mean().log().item()
    align = (zt - wt).norm(p=2, dim=1).pow(2).mean().item()
    assert embedding.uniformity(z) == pytest.approx(unif, rel=1e-12)
    assert embedding.alignment(z, w) == pytest.approx(align, rel=1e-12)


def test_pca_procrustes_and_neighbours():
    rng = np.random.default_rng(6)
    z = unit_rows(rng, 30, 5)
    coords, comps, ratio = embedding.pca_2d(z)
    assert coords.shape == (30, 2) and comps.shape == (2, 5)
    np.testing.assert_allclose(comps @ comps.T, np.eye(2), atol=1e-12)
    assert 0 < ratio[1] <= ratio[0] <= 1
    # a turned and mirrored copy is turned back exactly
    th = 0.7
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]]) @ np.diag([1, -1])
    np.testing.assert_allclose(embedding.procrustes(coords @ R, coords), coords, atol=1e-12)
    idx, cos = embedding.nearest(z, 3, 4)
    assert 3 not in idx and len(idx) == 4 and np.all(np.diff(cos) <= 0)
    brute = sorted((k for k in range(30) if k != 3), key=lambda k: -z[3] @ z[k])[:4]
    assert idx.tolist() == brute
    with pytest.raises(IndexError):
        embedding.nearest(z, 30, 2)
