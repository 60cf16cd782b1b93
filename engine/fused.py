"""The MLP's mini-batch training loop compiled with numba: the same maths as engine.mlp,
engine.losses, engine.regularizers and engine.optimizers, one example and one weight at a time.

Why: a playground frame of the default 2-4-2-1 network runs 25 mini-batch updates of 10
points. In NumPy each update is some fifty calls on arrays of a few numbers, and the calls,
not the arithmetic, cost the time (about 40 µs an update). Here an update is a few hundred
multiply-adds in one compiled function that also releases the GIL, so the server's event loop
runs while a session trains. `bench/engine.py` prints the ratio.

The NumPy engine stays the definition: `engine.trainer.Trainer` runs this loop only for the
configurations it covers (`supported`), tests/test_fused.py holds it to the NumPy updates
(weights, optimizer state, losses, divergence, to ~1e-12 over hundreds of steps) for every
activation, loss, regularizer and optimizer, and to central differences. A configuration
always takes the same path, so a run replays to the same bits however its steps are chunked.

Layout: the parameters are one vector θ = [W1 (row-major), b1, W2, b2, …] as
`MLP.parameters()` lists them; `state` has one row per optimizer state array in the same
layout; W[l][i, j] is θ[w_at[l] + i·n_out + j], b[l][j] is θ[b_at[l] + j].
"""

from __future__ import annotations

import itertools
import math

import numpy as np

try:  # the compiled path is optional: without numba the NumPy engine runs every configuration
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; a platform without wheels
    numba = None

Array = np.ndarray

ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "sine")
OUTPUTS = ("linear", "sigmoid", "tanh", "softmax")
LOSSES = ("squared", "bce", "softmax_ce")
REGULARIZERS = ("none", "l1", "l2")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
# The hyperparameters the kernel reads, in this order, from the optimizer object.
HYPER = ("lr", "weight_decay", "momentum", "dampening", "nesterov", "lr_decay", "eps", "alpha",
         "centered", "beta1", "beta2", "amsgrad")
STATE = {  # the optimizer's state arrays, rows of `state`
    "sgd": ("momentum_buffer",), "momentum": ("momentum_buffer",), "nesterov": ("momentum_buffer",),
    "adagrad": ("sum",), "rmsprop": ("square_avg", "grad_avg", "momentum_buffer"),
    "adam": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
}
_OPT_CODE = {"sgd": 0, "momentum": 0, "nesterov": 0, "adagrad": 1, "rmsprop": 2, "adam": 3}

available = numba is not None
# Multiply-adds of an update's forward pass (batch × weights) up to which the compiled loop is
# faster: past about this, NumPy's vectorized tanh and BLAS win (bench/engine.py measures where:
# 4.9× faster at the default 2-4-2-1 (180), 3.7× at 6 × 8 (3,440), even at ~20,000, 0.3× at 8 × 32
# with batch 250 (1.8 million)).
MOST_WORK = 16_000


def supported(activation: str, output_activation: str, loss: str, regularization: str,
              optimizer: str, work: int = 0) -> bool:
    """Whether the compiled loop covers this configuration and pays (`work`: batch × weights;
    else the NumPy engine runs it). It depends on the configuration alone, so a run that is
    replayed takes the same path at every step."""
    return (available and activation in ACTIVATIONS and output_activation in OUTPUTS
            and loss in LOSSES and regularization in REGULARIZERS and optimizer in OPTIMIZERS
            and work <= MOST_WORK)


def _jit(fn):
    if numba is None:  # pragma: no cover
        return fn
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


@_jit
def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


@_jit
def _f(kind: int, z: float) -> float:
    """The activation ACTIVATIONS[kind] (linear 0, sigmoid 1, …) at z, as engine.activations."""
    if kind == 0:
        return z
    if kind == 1:
        return _sigmoid(z)
    if kind == 2:
        return math.tanh(z)
    if kind == 3:
        return z if z > 0.0 else (0.0 if z <= 0.0 else z)  # max(z, 0), NaN stays NaN
    if kind == 4:
        return z if z > 0 else 0.01 * z
    if kind == 5:
        return z if z > 0 else math.expm1(min(z, 0.0))
    if kind == 6:
        return max(z, 0.0) + math.log1p(math.exp(-abs(z)))
    if kind == 7:
        return 0.5 * z * (1.0 + math.tanh(_SQRT_2_OVER_PI * (z + 0.044715 * z**3)))
    return math.sin(z)


@_jit
def _der(kind: int, z: float, a: float) -> float:
    """f'(z) given a = f(z), as engine.activations' `der`."""
    if kind == 0:
        return 1.0
    if kind == 1:
        return a * (1.0 - a)
    if kind == 2:
        return 1.0 - a * a
    if kind == 3:
        return 1.0 if z > 0 else 0.0
    if kind == 4:
        return 1.0 if z > 0 else 0.01
    if kind == 5:
        return 1.0 if z > 0 else a + 1.0
    if kind == 6:
        return _sigmoid(z)
    if kind == 7:
        u = _SQRT_2_OVER_PI * (z + 0.044715 * z**3)
        t = math.tanh(u)
        du = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * z**2)
        return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * du
    return math.cos(z)


@_jit
def _train(theta, state, before, sizes, w_at, b_at, F, T, pos, n, bs, hidden, out, loss, reg,
           reg_rate, opt, h, t):  # numba infers the types
    """Up to n mini-batch updates from row `pos` of the epoch's shuffled F, T, stopping at the
    epoch's end or after a non-finite loss. `before` receives θ as it was before the last
    update (for the trace). Returns (updates run, new pos, new t, last loss, diverged)."""
    L = sizes.shape[0] - 1
    width = 0
    for l in range(L + 1):
        width = max(width, sizes[l])
    n_train = F.shape[0]
    rows = min(bs, n_train)  # a batch never holds more than the training set
    Z = np.empty((L, rows, width))
    A = np.empty((L, rows, width))
    D = np.empty((rows, width))
    Dp = np.empty((rows, width))
    g = np.empty_like(theta)
    lr, wd, mom, damp, nesterov = h[0], h[1], h[2], h[3], h[4] != 0.0
    lr_decay, eps, alpha, centered = h[5], h[6], h[7], h[8] != 0.0
    beta1, beta2, amsgrad = h[9], h[10], h[11] != 0.0
    ran = 0
    value = 0.0
    diverged = False
    k_out = sizes[L]
    while ran < n:
        m = min(bs, n_train - pos)
        before[:] = theta
        # ----- forward: z[l] = a[l−1] W[l] + b[l], a[l] = f(z[l]) (output: its own f)
        for l in range(L):
            n_in, n_o, wo, bo = sizes[l], sizes[l + 1], w_at[l], b_at[l]
            for e in range(m):
                for j in range(n_o):
                    Z[l, e, j] = 0.0
                for i in range(n_in):  # row i of W at a time: the inner loop runs along memory
                    x = F[pos + e, i] if l == 0 else A[l - 1, e, i]
                    for j in range(n_o):
                        Z[l, e, j] += x * theta[wo + i * n_o + j]
                for j in range(n_o):
                    Z[l, e, j] += theta[bo + j]
                    if l < L - 1:
                        A[l, e, j] = _f(hidden, Z[l, e, j])
                    elif out != 3:
                        A[l, e, j] = _f(out, Z[l, e, j])
            if l == L - 1 and out == 3:  # softmax, shifted by the row max
                for e in range(m):
                    zmax = Z[l, e, 0]
                    for j in range(1, n_o):
                        zmax = max(zmax, Z[l, e, j])
                    tot = 0.0
                    for j in range(n_o):
                        A[l, e, j] = math.exp(Z[l, e, j] - zmax)
                        tot += A[l, e, j]
                    for j in range(n_o):
                        A[l, e, j] = A[l, e, j] / tot
        # ----- loss (mean over the batch) and dL/dz of the output layer
        total = 0.0
        for e in range(m):
            if loss == 0:  # squared: ½ Σ (a − t)², dz = (a − t) f'(z) / N
                for j in range(k_out):
                    diff = A[L - 1, e, j] - T[pos + e, j]
                    total += diff * diff
                    D[e, j] = diff * _der(out, Z[L - 1, e, j], A[L - 1, e, j]) / m
            elif loss == 1:  # bce from logits, dz = (σ(z) − t) / N
                z, tt = Z[L - 1, e, 0], T[pos + e, 0]
                total += max(z, 0.0) - z * tt + math.log1p(math.exp(-abs(z)))
                D[e, 0] = (A[L - 1, e, 0] - tt) / m
            else:  # softmax CE: logsumexp(z) − z_t, dz = (p − onehot(t)) / N
                c = int(T[pos + e, 0])
                zmax = Z[L - 1, e, 0]
                for j in range(1, k_out):
                    zmax = max(zmax, Z[L - 1, e, j])
                se = 0.0
                for j in range(k_out):
                    se += math.exp(Z[L - 1, e, j] - zmax)
                total += zmax + math.log(se) - Z[L - 1, e, c]
                for j in range(k_out):
                    D[e, j] = (A[L - 1, e, j] - (1.0 if j == c else 0.0)) / m
        value = (0.5 * total if loss == 0 else total) / m if m else math.nan
        # ----- backward: dW = a[l−1]ᵀ dz, db = Σ dz, dz[l−1] = (dz Wᵀ) ⊙ f'(z[l−1])
        for l in range(L - 1, -1, -1):
            n_in, n_o, wo, bo = sizes[l], sizes[l + 1], w_at[l], b_at[l]
            for k in range(wo, bo + n_o):
                g[k] = 0.0
            for e in range(m):
                for i in range(n_in):
                    x = F[pos + e, i] if l == 0 else A[l - 1, e, i]
                    for j in range(n_o):
                        g[wo + i * n_o + j] += x * D[e, j]
                for j in range(n_o):
                    g[bo + j] += D[e, j]
            if reg != 0 and reg_rate != 0.0:
                for k in range(wo, bo):
                    w = theta[k]
                    if reg == 1:  # L1: sign(w), 0 at 0
                        g[k] += reg_rate * (1.0 if w > 0 else (-1.0 if w < 0 else (0.0 if w == 0 else w)))
                    else:  # L2: w
                        g[k] += reg_rate * w
            if l > 0:
                for e in range(m):
                    for i in range(n_in):
                        s = 0.0
                        for j in range(n_o):
                            s += D[e, j] * theta[wo + i * n_o + j]
                        Dp[e, i] = s * _der(hidden, Z[l - 1, e, i], A[l - 1, e, i])
                for e in range(m):
                    for i in range(n_in):
                        D[e, i] = Dp[e, i]
        # ----- the optimizer's update, as engine.optimizers (weight decay first: g + λθ)
        t += 1
        clr, bc1, bc2 = lr, 1.0, 1.0
        if opt == 0 and mom == 0.0 and wd == 0.0:
            for k in range(theta.shape[0]):
                theta[k] -= lr * g[k]
        else:
            if opt == 1:
                clr = lr / (1.0 + (t - 1) * lr_decay)
            if opt == 3:
                bc1 = 1.0 - beta1**t
                bc2 = 1.0 - beta2**t
            for k in range(theta.shape[0]):
                gk = g[k] + wd * theta[k] if wd != 0.0 else g[k]
                if opt == 0:
                    if mom != 0.0:
                        if t == 1:
                            state[0, k] = gk
                        else:
                            state[0, k] = state[0, k] * mom + (1.0 - damp) * gk
                        gk = gk + mom * state[0, k] if nesterov else state[0, k]
                    theta[k] -= lr * gk
                elif opt == 1:
                    state[0, k] += gk * gk
                    theta[k] -= clr * gk / (math.sqrt(state[0, k]) + eps)
                elif opt == 2:
                    state[0, k] = state[0, k] * alpha + (1.0 - alpha) * gk * gk
                    if centered:
                        state[1, k] = state[1, k] * alpha + (1.0 - alpha) * gk
                        denom = math.sqrt(state[0, k] - state[1, k] * state[1, k]) + eps
                    else:
                        denom = math.sqrt(state[0, k]) + eps
                    if mom > 0:
                        state[2, k] = state[2, k] * mom + gk / denom
                        theta[k] -= lr * state[2, k]
                    else:
                        theta[k] -= lr * gk / denom
                else:
                    state[0, k] = state[0, k] * beta1 + (1.0 - beta1) * gk
                    state[1, k] = state[1, k] * beta2 + (1.0 - beta2) * gk * gk
                    v = state[1, k]
                    if amsgrad:
                        state[2, k] = max(state[2, k], v) if not math.isnan(v) else v
                        v = state[2, k]
                    theta[k] -= lr * (state[0, k] / bc1) / (math.sqrt(v / bc2) + eps)
        ran += 1
        pos += bs
        if not math.isfinite(value):
            diverged = True
            break
        if pos >= n_train:
            break
    return ran, pos, t, value, diverged


class Layout:
    """Where each of an MLP's arrays lives in the flat vector θ (see the module's docstring)."""

    def __init__(self, sizes: list[int]) -> None:
        self.sizes = np.asarray(sizes, dtype=np.int64)
        w_at, b_at, at = [], [], 0
        for n_in, n_out in itertools.pairwise(sizes):
            w_at.append(at)
            at += n_in * n_out
            b_at.append(at)
            at += n_out
        self.w_at, self.b_at = np.asarray(w_at, dtype=np.int64), np.asarray(b_at, dtype=np.int64)
        self.size = at


def pack(arrays: list[Array], out: Array) -> Array:
    at = 0
    for a in arrays:
        out[at : at + a.size] = a.ravel()
        at += a.size
    return out


def unpack(flat: Array, arrays: list[Array]) -> None:
    at = 0
    for a in arrays:
        a[...] = flat[at : at + a.size].reshape(a.shape)
        at += a.size


def hyperparameters(optimizer: object) -> Array:
    return np.array([float(getattr(optimizer, k, 0.0)) for k in HYPER])


def train(layout: Layout, params: list[Array], optimizer: object, before: Array, F: Array, T: Array,
          pos: int, n: int, batch_size: int, hidden: str, output: str, loss: str, regularization: str,
          reg_rate: float) -> tuple[int, int, bool]:
    """Run up to n updates of `params` (MLP.parameters(), changed in place) and the optimizer's
    state from row `pos` of the epoch (F, T as float64 rows), to the epoch's end at most.
    `before` receives the parameters as they were before the last update, flat.
    Returns (updates run, new pos, diverged); the optimizer's t advances."""
    name = optimizer.name  # type: ignore[attr-defined]
    theta = pack(params, np.empty(layout.size))
    plain = _OPT_CODE[name] == 0 and not optimizer.momentum  # type: ignore[attr-defined]
    names = () if plain else STATE[name]  # plain SGD reads no state
    rows = [[s[k] for s in optimizer.state] for k in names]  # type: ignore[attr-defined]
    state = np.empty((len(rows), layout.size))
    for r, arrays in enumerate(rows):
        pack(arrays, state[r])
    ran, pos, t, _, diverged = _train(
        theta, state, before, layout.sizes, layout.w_at, layout.b_at, F, T, pos, n, batch_size,
        ACTIVATIONS.index(hidden), OUTPUTS.index(output), LOSSES.index(loss),
        REGULARIZERS.index(regularization), float(reg_rate), _OPT_CODE[name],
        hyperparameters(optimizer), int(optimizer.t))  # type: ignore[attr-defined]
    unpack(theta, params)
    for r, arrays in enumerate(rows):
        unpack(state[r], arrays)
    optimizer.t = t  # type: ignore[attr-defined]
    return ran, pos, diverged


def warm() -> None:
    """Compile (or load from numba's cache) the loop once, before the first student plays."""
    if not available:
        return
    layout = Layout([2, 2, 1])
    F, T = np.zeros((2, 2)), np.zeros((2, 1))
    _train(np.zeros(layout.size), np.zeros((1, layout.size)), np.zeros(layout.size), layout.sizes,
           layout.w_at, layout.b_at, F, T, 0, 1, 2, 2, 2, 0, 0, 0.0, 0, np.zeros(len(HYPER)), 0)
