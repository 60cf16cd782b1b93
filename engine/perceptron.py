"""Rosenblatt's perceptron and the Widrow–Hoff delta rule (Adaline), one example at a time.

Shapes: Φ (n, d) feature vectors (the raw points mapped by engine.features), y (n,) labels ±1,
w (d,), b scalar. The score of example i is s = w·φ_i + b and the prediction sign(s).

- ``perceptron``: an example is a mistake when y·s ≤ 0 (a score of exactly 0 is on the line,
  never right; a score within rounding of 0, |s| ≤ 1e-12·(Σ|w_j φ_j| + |b|), is 0: from zero
  weights every run is then the η = 1 run scaled by η). On a mistake w ← w + η·y·φ,
  b ← b + η·y: a positive example whose score is too low pushes the weights towards φ, a
  negative one whose score is too high away from it. Correct examples leave w and b alone.
  Training stops after an epoch without a mistake.
- ``adaline`` (Widrow–Hoff, least mean squares): after every example
  w ← w + η·(y − s)·φ, b ← b + η·(y − s), gradient descent on ½(y − s)². Mistakes are counted
  the same way (y·s ≤ 0) so the two rules can be compared. As it moves the weights on correct
  examples too, it converges only after an epoch without a mistake whose final weights
  classify every example. One step on example i scales its error y − s by 1 − η‖(φ_i, 1)‖²:
  for η above `stable_rate` = 2 / max_i ‖(φ_i, 1)‖² some step overshoots, and the run is
  "diverged" once the epoch's mean ½(y − s)² has grown three epochs in a row to more than
  10× the first epoch's (or 10⁶×, or one example's ½(y − s)² passes 10¹²).

Convergence: on data separable with margin γ by a unit vector (u, u_b), and R = max ‖(φ, 1)‖,
the perceptron started from zero makes at most (R/γ)² mistakes (Novikoff). On data that no
hyperplane separates, it never finishes an epoch without a mistake; with a fixed example order
the weights at the start of an epoch eventually repeat, which proves the run cycles forever.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine import datasets, features

Array = np.ndarray

RULES = {"perceptron": "Perceptron (Rosenblatt)", "adaline": "Delta rule (Widrow–Hoff, Adaline)"}
#: Other names of a rule, and each rule's default η (the perceptron's from zero weights does
#: not matter; the delta rule converges on the gates at 0.1 and overshoots at 1).
RULE_ALIASES = {"delta": "adaline"}
DEFAULT_LR = {"perceptron": 1.0, "adaline": 0.1}
TIE = 1e-12  # a score this small relative to its terms is 0 (rounding, not a side of the line)
INITS = {"zeros": "All zero", "random": "Uniform in [−0.5, 0.5]"}

# The logic gates on {0, 1}² with ±1 labels, as in the lecture's tables.
_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
GATES: dict[str, tuple[str, Array]] = {
    "gate_and": ("AND gate", np.array([-1.0, -1.0, -1.0, 1.0])),
    "gate_or": ("OR gate", np.array([-1.0, 1.0, 1.0, 1.0])),
    "gate_nand": ("NAND gate", np.array([1.0, 1.0, 1.0, -1.0])),
    "gate_xor": ("XOR gate", np.array([-1.0, 1.0, 1.0, -1.0])),
}


def separable(n: int, noise: float, rng: np.random.Generator, margin: float = 0.5) -> tuple[Array, Array]:
    """Two blobs around (2, 2) (+1) and (−2, −2) (−1), kept only where the line x1 + x2 = 0
    separates them with distance ≥ `margin`, so the set is linearly separable for any noise."""
    std = 0.8 + noise * 4.0
    xs: list[Array] = []
    ys: list[Array] = []
    got = 0
    while got < n:
        y = np.where(rng.random(n) < 0.5, 1.0, -1.0)
        X = y[:, None] * 2.0 + rng.normal(0.0, std, (n, 2))
        keep = y * (X[:, 0] + X[:, 1]) / np.sqrt(2.0) >= margin
        keep &= np.all(np.abs(X) <= datasets.DOMAIN, axis=1)
        xs.append(X[keep])
        ys.append(y[keep])
        got += int(keep.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


#: Data sources by API name: the gates, the separable blobs and the 2-class engine datasets.
DATA: dict[str, str] = {
    **{name: label for name, (label, _) in GATES.items()},
    "separable": "Linearly separable blobs",
    **{d.name: d.label for d in datasets.DATASETS.values() if d.problem == "classification"},
}


def make_data(name: str, n: int = 100, noise: float = 0.0, seed: int = 0) -> tuple[Array, Array]:
    """Points X (n, 2) and labels y (n,) ±1. Gates ignore n, noise and seed (4 fixed rows)."""
    if name in GATES:
        return _CORNERS.copy(), GATES[name][1].copy()
    if name == "separable":
        return separable(n, noise, np.random.default_rng(seed))
    if name not in DATA:
        raise KeyError(f"unknown data {name!r}; choose one of {sorted(DATA)}")
    return datasets.generate(name, n, noise, seed)


def extent(name: str, X: Array) -> tuple[float, float]:
    """The square of the plane worth showing: [−0.5, 1.5] for gates, else [−6, 6] (or wider)."""
    if name in GATES:
        return -0.5, 1.5
    m = max(datasets.DOMAIN, float(np.max(np.abs(X))) * 1.05) if len(X) else datasets.DOMAIN
    return -m, m


@dataclass(frozen=True)
class Update:
    """One example's step: what the lab shows while stepping.

    decision: "too_low" (positive example, y·s ≤ 0), "too_high" (negative example, y·s ≤ 0)
    or "correct". dw, db: the change applied (zero for a correct perceptron example).
    """

    step: int  # examples seen so far, this one included (1-based)
    epoch: int  # the epoch this example belongs to (1-based)
    index: int  # row of the example in the data
    phi: Array  # its feature vector (d,)
    y: float
    score: float
    prediction: float  # sign(score): −1, 0 or +1
    decision: str
    mistake: bool
    w_before: Array
    b_before: float
    dw: Array
    db: float
    w_after: Array
    b_after: float


@dataclass
class Perceptron:
    """A perceptron (or Adaline) learning run over fixed data, steppable one example at a time.

    status: "running", "converged" (an epoch without a mistake), "cycle" (the weights at the
    start of an epoch repeat an earlier epoch's with the same order: it can never converge),
    "epoch_limit" (max_epochs ran without convergence) or "diverged" (NaN/inf weights).
    """

    Phi: Array
    y: Array
    rule: str = "perceptron"
    lr: float = 1.0
    max_epochs: int = 100
    init: str = "zeros"
    shuffle: bool = False
    seed: int = 0
    w: Array = field(init=False)
    b: float = field(init=False)

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise KeyError(f"unknown rule {self.rule!r}; choose one of {sorted(RULES)}")
        if self.init not in INITS:
            raise KeyError(f"unknown init {self.init!r}; choose one of {sorted(INITS)}")
        self.Phi = np.asarray(self.Phi, dtype=np.float64)
        self.y = np.asarray(self.y, dtype=np.float64)
        self.reset()

    def reset(self) -> None:
        """Back to the initial weights and the first example of epoch 1."""
        self._rng = np.random.default_rng(self.seed)
        d = self.Phi.shape[1]
        if self.init == "zeros":
            self.w, self.b = np.zeros(d), 0.0
        else:
            self.w = self._rng.uniform(-0.5, 0.5, d)
            self.b = float(self._rng.uniform(-0.5, 0.5))
        self.step_count = 0
        self.epoch = 1
        self._pos = 0  # position within the current epoch's order
        self._order = self._epoch_order()
        self.status = "running"
        self.mistakes = 0  # mistakes in the current (unfinished) epoch
        self.total_mistakes = 0
        self.mistakes_per_epoch: list[int] = []
        self.sq_error_per_epoch: list[float] = []  # mean ½(y − s)² over each epoch's examples
        self._sq = 0.0
        self.weights_per_epoch: list[tuple[Array, float]] = [(self.w.copy(), self.b)]
        self._seen: dict[bytes, int] = {self._key(): 0}
        self.cycle_start: int | None = None  # the earlier epoch whose start state came back
        self.last: Update | None = None

    def restore(self, w: Array, b: float, epoch: int = 1, position: int = 0,
                mistakes_per_epoch: list[int] | tuple[int, ...] = (),
                sq_error_per_epoch: list[float] | tuple[float, ...] | None = None,
                total_mistakes: int | None = None, epoch_sq_error: float = 0.0,
                status: str = "running", cycle_start: int | None = None) -> None:
        """Continue a saved run: its weights w (d,) and b, the epoch (1-based) and the examples
        already presented in it (`position`), the finished epochs' mistakes and mean squared
        errors, all mistakes so far, the current epoch's summed ½(y − s)², and its status.

        The example order is rebuilt from the seed, so a shuffled run goes on with the orders an
        uninterrupted run would use. Cycle detection starts again from the restored epoch (the
        earlier epochs' start weights are not saved). Raises ValueError naming what does not
        fit this run (shape, non-finite value, counts); nothing changes then.
        """
        n, d = self.Phi.shape
        w = np.asarray(w, dtype=np.float64)
        mpe = [int(m) for m in mistakes_per_epoch]
        sq = [float(v) for v in sq_error_per_epoch] if sq_error_per_epoch is not None else [0.0] * len(mpe)
        finished = epoch - 1 if status == "running" else epoch
        total = sum(mpe) if total_mistakes is None else int(total_mistakes)
        problems = []
        if w.shape != (d,):
            problems.append(f"w must hold {d} weights (one per feature), got shape {list(w.shape)}")
        elif not (np.all(np.isfinite(w)) and np.isfinite(b)):
            problems.append("w and b must be finite numbers")
        if status not in ("running", "converged", "cycle", "epoch_limit"):
            problems.append("status must be running, converged, cycle or epoch_limit")
        if not 1 <= epoch <= self.max_epochs:
            problems.append(f"epoch must be between 1 and max_epochs = {self.max_epochs}")
        if not (0 <= position < max(n, 1)) or (status != "running" and position != 0):
            problems.append(f"position must be between 0 and {n - 1} (0 once the run stopped)")
        if len(mpe) != finished or len(sq) != finished:
            problems.append(f"mistakes_per_epoch and sq_error_per_epoch must list the {finished} "
                            f"finished epoch{'s' if finished != 1 else ''}")
        elif any(not 0 <= m <= n for m in mpe):
            problems.append(f"mistakes_per_epoch values must be between 0 and {n}")
        if not sum(mpe) <= total <= sum(mpe) + position:
            problems.append("total_mistakes must be the finished epochs' mistakes plus at most "
                            "one per example of the current epoch")
        if not (all(np.isfinite(sq)) and np.isfinite(epoch_sq_error)):
            problems.append("squared errors must be finite numbers")
        if status == "cycle" and not (cycle_start is not None and 0 <= cycle_start < epoch):
            problems.append("a cycle needs cycle_start, an earlier epoch")
        if problems:
            raise ValueError("; ".join(problems))
        # The seeded generator as an uninterrupted run leaves it at this epoch.
        self._rng = np.random.default_rng(self.seed)
        if self.init == "random":
            self._rng.uniform(-0.5, 0.5, d)
            self._rng.uniform(-0.5, 0.5)
        for _ in range(epoch):
            self._order = self._epoch_order()
        self.w, self.b = w.copy(), float(b)
        self.epoch, self._pos, self.status = int(epoch), int(position), status
        self.step_count = finished * n + self._pos
        self.mistakes_per_epoch, self.sq_error_per_epoch = mpe, sq
        self.total_mistakes = total
        self.mistakes = total - sum(mpe)
        self._sq = float(epoch_sq_error)
        self.weights_per_epoch = [(self.w.copy(), self.b)] if self._pos == 0 else []
        self._seen = {self._key(): finished} if self._pos == 0 else {}
        self.cycle_start = cycle_start if status == "cycle" else None
        self.last = None

    def _epoch_order(self) -> Array:
        n = len(self.y)
        return self._rng.permutation(n) if self.shuffle else np.arange(n)

    def _key(self) -> bytes:
        # Weights in units of η: exact multiples for integer data, so revisits compare exactly.
        state = np.append(self.w, self.b) / self.lr
        return np.round(state, 9).tobytes()

    @property
    def done(self) -> bool:
        return self.status != "running"

    @property
    def position(self) -> int:
        """Examples already presented in the current epoch."""
        return self._pos

    @property
    def epoch_sq_error(self) -> float:
        """Σ ½(y − s)² over the examples presented so far in the current epoch."""
        return self._sq

    def step(self) -> Update | None:
        """Present the next example and apply the rule; None once the run has stopped."""
        if self.done or len(self.y) == 0:
            return None
        i = int(self._order[self._pos])
        phi, y = self.Phi[i], float(self.y[i])
        with np.errstate(over="ignore", invalid="ignore"):
            score = float(_snap(phi @ self.w + self.b, np.abs(phi) @ np.abs(self.w) + abs(self.b)))
        mistake = y * score <= 0
        decision = "correct" if not mistake else ("too_low" if y > 0 else "too_high")
        # perceptron: η·y on a mistake, else nothing; delta rule: η·(y − s) always.
        error = (y if mistake else 0.0) if self.rule == "perceptron" else y - score
        scale = self.lr * error
        with np.errstate(over="ignore", invalid="ignore"):
            dw, db = scale * phi, scale
            w_before, b_before = self.w, self.b
            self.w, self.b = self.w + dw, self.b + db
        self.step_count += 1
        self.mistakes += int(mistake)
        self.total_mistakes += int(mistake)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is the "diverged" state
            self._sq += float(0.5 * np.square(np.float64(y) - score))
        self.last = Update(
            self.step_count, self.epoch, i, phi.copy(), y, score, float(np.sign(score)), decision,
            bool(mistake), w_before.copy(), b_before, dw, float(db), self.w.copy(), self.b,
        )
        blown = self.rule == "adaline" and not 0.5 * (y - score) ** 2 <= 1e12
        if blown or not (np.all(np.isfinite(self.w)) and np.isfinite(self.b)):
            self.status = "diverged"
            return self.last
        self._pos += 1
        if self._pos == len(self.y):
            self._end_epoch()
        return self.last

    def _end_epoch(self) -> None:
        self.mistakes_per_epoch.append(self.mistakes)
        self.sq_error_per_epoch.append(self._sq / len(self.y))
        self.weights_per_epoch.append((self.w.copy(), self.b))
        finished = self.epoch
        if self.mistakes == 0 and (self.rule == "perceptron" or self._separates()):
            self.status = "converged"
        elif self.rule == "adaline" and self._error_grows():
            self.status = "diverged"
        elif self.rule == "perceptron" and not self.shuffle and self._key() in self._seen:
            self.cycle_start = self._seen[self._key()]
            self.status = "cycle"
        elif finished >= self.max_epochs:
            self.status = "epoch_limit"
        self._seen.setdefault(self._key(), finished)
        self.mistakes, self._sq, self._pos = 0, 0.0, 0
        if self.status == "running":
            self.epoch += 1
            self._order = self._epoch_order()

    def _separates(self) -> bool:
        """Whether the current weights put every example on its side of the line."""
        with np.errstate(all="ignore"):
            s = _snap(self.scores(self.Phi), np.abs(self.Phi) @ np.abs(self.w) + abs(self.b))
        return bool(np.all(self.y * s > 0))

    def _error_grows(self) -> bool:
        """The delta rule's divergence: the epochs' mean ½(y − s)² running away (see above)."""
        e = self.sq_error_per_epoch
        ref = max(0.5, e[0])
        if e[-1] > 1e6 * ref:
            return True
        return len(e) >= 4 and e[-1] > 10 * ref and e[-1] > e[-2] > e[-3] > e[-4]

    def run_epoch(self) -> list[Update]:
        """Step to the end of the current epoch (or until the run stops)."""
        out: list[Update] = []
        epoch = self.epoch
        while not self.done and self.epoch == epoch:
            u = self.step()
            if u is None:
                break
            out.append(u)
            if self._pos == 0:  # the epoch just ended
                break
        return out

    def run(self) -> None:
        """Step until the run stops (converged, cycle, epoch limit or diverged)."""
        while self.step() is not None:
            pass

    @property
    def separable_verdict(self) -> str | None:
        """What the run says about the data, once it stopped."""
        if self.status == "converged":
            return "separable"
        if self.status in ("cycle", "epoch_limit"):
            return "not_separable"
        return None

    def scores(self, Phi: Array) -> Array:
        """w·φ + b for every row of Φ (m, d)."""
        return Phi @ self.w + self.b

    def score_grid(self, lo: float, hi: float, res: int, names: list[str] | tuple[str, ...]) -> Array:
        """The score w·φ(x) + b over the square [lo, hi]², shape (res, res), row 0 at the top."""
        xs = np.linspace(lo, hi, res)
        g1, g2 = np.meshgrid(xs, xs[::-1])
        pts = np.column_stack([g1.ravel(), g2.ravel()])
        with np.errstate(all="ignore"):
            return self.scores(featurize(pts, names)).reshape(res, res)


def _snap(scores: Array | float, scale: Array | float) -> Array:
    """Scores with those within rounding of 0 (|s| ≤ TIE·scale) set to exactly 0."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.where(np.abs(scores) <= TIE * np.asarray(scale), 0.0, scores)


def stable_rate(Phi: Array) -> float:
    """2 / max_i ‖(φ_i, 1)‖²: the delta rule's η above which a step overshoots (Φ (n, d))."""
    return 2.0 / float(np.max(np.sum(np.square(Phi), axis=1) + 1.0)) if len(Phi) else float("inf")


def featurize(X: Array, names: list[str] | tuple[str, ...]) -> Array:
    """The feature vectors Φ (n, d) the perceptron learns on (engine.features)."""
    return features.transform(np.asarray(X, dtype=np.float64), list(names))


def novikoff_bound(Phi: Array, y: Array, u: Array, u_b: float) -> float:
    """(R/γ)² for separator (u, u_b) scaled to unit norm; inf when it does not separate."""
    aug = np.column_stack([Phi, np.ones(len(Phi))])
    v = np.append(u, u_b)
    v = v / np.linalg.norm(v)
    gamma = float(np.min(y * (aug @ v)))
    if gamma <= 0:
        return float("inf")
    R = float(np.max(np.linalg.norm(aug, axis=1)))
    return (R / gamma) ** 2
