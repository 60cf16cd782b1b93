"""The backprop lab's API shapes and its session runner (engine.backprop trace → JSON)."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Literal

import numpy as np
from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app import encoding
from app.settings import Settings
from app.state_import import state_errors
from engine import backprop, graph

ActivationName = Literal[backprop.ACTIVATIONS]  # type: ignore[valid-type]
LossName = Literal[backprop.LOSSES]  # type: ignore[valid-type]
STAGES = ["initialize", "forward", "error", "backward", "update", "repeat"]
MAX_REPEATS = 1000

_EX = backprop.WORKED_EXAMPLE


class BackpropIn(BaseModel):
    """One network and one training example; the defaults are the classic worked example."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    inputs: list[float] = Field(list(_EX["inputs"]), min_length=1, max_length=4, description="i1 … (1–4)")
    targets: list[float] = Field(list(_EX["targets"]), min_length=1, max_length=4, description="t per output")
    hidden: list[int] = Field([2], max_length=3, description="neurons per hidden layer (≤ 3 layers of ≤ 4)")
    weights: list[float] | None = Field(
        list(_EX["weights"]), fail_fast=True,
        description="w1, w2, … in slide order (by destination neuron, then source); empty: random from seed",
    )
    biases: bool = Field(False, description="neurons have biases")
    bias_values: list[float] | None = Field(None, fail_fast=True,
                                            description="b1, b2, … in neuron order; empty: random")
    activation: ActivationName = Field("linear", description="hidden layers' activation")
    output_activation: ActivationName | None = Field(
        None, description="the output's activation (default: as hidden; sigmoid for bce)"
    )
    loss: LossName = Field("squared", description="squared: ½Σ(ŷ − t)²; bce: cross-entropy with sigmoid")
    lr: float = Field(_EX["lr"], gt=0, le=100, description="learning rate η")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="random weights when none are given")
    repeats: int = Field(20, ge=0, le=MAX_REPEATS, description="iterations for the loss curve (step 6)")

    @model_validator(mode="after")
    def _consistent(self) -> BackpropIn:
        if any(not 1 <= h <= 4 for h in self.hidden):
            raise ValueError("hidden: every hidden layer has 1 to 4 neurons")
        values = self.inputs + self.targets + (self.weights or []) + (self.bias_values or [])
        if not all(np.isfinite(values)):
            raise ValueError("inputs, targets, weights and biases must be finite numbers")
        need = backprop.weight_count(self.sizes)
        if self.weights and len(self.weights) != need:
            raise ValueError(f"weights: a {'-'.join(map(str, self.sizes))} network has {need} weights "
                             f"(w1 … w{need}); got {len(self.weights)}")
        nb = sum(self.sizes[1:])
        if self.bias_values and len(self.bias_values) != nb:
            raise ValueError(f"bias_values: a {'-'.join(map(str, self.sizes))} network has {nb} biases; "
                             f"got {len(self.bias_values)}")
        if self.loss == "bce":
            if self.output_activation not in (None, "sigmoid"):
                raise ValueError("loss 'bce' needs output_activation 'sigmoid'")
            if any(not 0 <= t <= 1 for t in self.targets):
                raise ValueError("loss 'bce' needs targets between 0 and 1")
        return self

    @property
    def sizes(self) -> tuple[int, ...]:
        return (len(self.inputs), *self.hidden, len(self.targets))

    @property
    def resolved_output_activation(self) -> str:
        if self.loss == "bce":
            return "sigmoid"
        return self.output_activation or self.activation

    def network(self) -> backprop.Network:
        kw = {"biases": self.biases, "activation": self.activation,
              "output_activation": self.resolved_output_activation}
        rand = backprop.Network.random(self.sizes, self.seed, **kw)
        weights = self.weights if self.weights else rand.flat_weights()
        bias_values = self.bias_values if self.bias_values else rand.flat_biases()
        return backprop.Network.from_flat(self.sizes, weights, bias_values, **kw)  # type: ignore[arg-type]


def net_out(net: backprop.Network) -> dict[str, Any]:
    """Weights and biases by slide name, with the neurons they join."""
    nm = backprop.names(net.sizes)
    src = [nm.inputs, *nm.neurons]
    weights = []
    for l, W in enumerate(net.W):
        for j in range(W.shape[1]):
            for i in range(W.shape[0]):
                weights.append({"name": nm.weights[l][i, j], "from": src[l][i], "to": nm.neurons[l][j],
                                "layer": l + 1, "value": float(W[i, j])})
    biases = [{"name": nm.biases[l][j], "neuron": nm.neurons[l][j], "value": float(b[j])}
              for l, b in enumerate(net.b) for j in range(len(b))] if net.biases else []
    return {"sizes": list(net.sizes), "inputs": nm.inputs, "neurons": nm.neurons, "weights": weights,
            "biases": biases, "activation": net.activation, "output_activation": net.output_activation}


def graph_out(net: backprop.Network, x: np.ndarray, t: np.ndarray, loss: str) -> dict[str, Any]:
    g = graph.build(net, x, t, loss)
    return {"nodes": [dataclasses.asdict(n) for n in g.nodes]}


def trace_out(cfg: BackpropIn, net: backprop.Network) -> dict[str, Any]:
    """Steps 1–5 of one iteration with every number, the graph and the gradient check."""
    x, t = np.array(cfg.inputs), np.array(cfg.targets)
    tr = backprop.trace(net, x, t, cfg.loss, cfg.lr)
    params = [dataclasses.asdict(p) for p in tr.params]
    return {
        "initialize": {"network": net_out(net), "inputs": [dataclasses.asdict(f) for f in tr.inputs],
                       "targets": tr.targets, "lr": cfg.lr, "loss": cfg.loss},
        "forward": [dataclasses.asdict(n) for n in tr.forward],
        "error": {"loss": cfg.loss, "E": tr.E, "outputs": [dataclasses.asdict(o) for o in tr.outputs]},
        "backward": {"hidden": [dataclasses.asdict(h) for h in tr.hidden], "params": params},
        "update": [{"name": p["name"], "old": p["old"], "grad": p["grad"], "new": p["new"]} for p in params],
        "repeat": {"E_before": tr.E, "E_after": tr.E_after},
        "gradcheck": {
            "max_rel_error": tr.max_rel_error,
            "rows": [{"name": p["name"], "analytic": p["grad"], "numeric": p["numeric"]} for p in params],
        },
        "graph": graph_out(net, x, t, cfg.loss),
    }


def full_trace(cfg: BackpropIn) -> dict[str, Any]:
    """The stateless answer: the first iteration in full and the loss over `repeats` iterations."""
    net = cfg.network()
    losses, final, diverged = backprop.train(
        net, np.array(cfg.inputs), np.array(cfg.targets), cfg.loss, cfg.lr, cfg.repeats
    )
    with np.errstate(all="ignore"):
        out = {
            "config": {**cfg.model_dump(), "weights": net.flat_weights(),
                       "bias_values": net.flat_biases() if net.biases else None,
                       "output_activation": net.output_activation},
            "steps": trace_out(cfg, net),
            "losses": losses,
            "diverged": diverged,
            "final": net_out(final),
        }
    return encoding.finite(out)


class WalkStateIn(BaseModel):
    """A saved walk-through to continue (as the page exports it): the network's current
    weights and biases, the iteration, the step shown and the error history."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    weights: list[float] = Field(fail_fast=True, description="w1, w2, … now, in slide order")
    bias_values: list[float] | None = Field(None, fail_fast=True,
                                            description="b1, b2, … now (when biases are on)")
    iteration: int = Field(0, ge=0, le=MAX_REPEATS, description="updates applied so far")
    stage: int = Field(1, ge=1, le=6, description="the step shown, 1 (initialize) … 6 (repeat)")
    losses: list[float | None] | None = Field(
        None, max_length=MAX_REPEATS + 1, fail_fast=True,
        description="E before the first update and after each one")
    loss_iterations: list[int] | None = Field(
        None, fail_fast=True, description="the iteration of each listed E (default 0, 1, 2, …)")

    @model_validator(mode="after")
    def _consistent(self) -> WalkStateIn:
        if self.losses is None:
            if self.loss_iterations is not None:
                raise ValueError("loss_iterations needs losses")
            return self
        its = self.loss_iterations if self.loss_iterations is not None else list(range(len(self.losses)))
        if len(its) != len(self.losses) or not self.losses:
            raise ValueError("losses and loss_iterations must have the same, non-zero length")
        if its[0] != 0 or its[-1] != self.iteration or any(b <= a for a, b in itertools.pairwise(its)):
            raise ValueError("loss_iterations must rise from 0 to the iteration")
        self.loss_iterations = its
        return self


class BackpropRunner:
    """A live walk-through: one unit of work = one of the six steps (2–6 repeat)."""

    def __init__(self, cfg: BackpropIn, settings: Settings) -> None:
        self.cfg = cfg
        self.settings = settings
        self.reset()

    def reset(self) -> None:
        self.net = self.cfg.network()
        self.stage = 0
        self.iteration = 0
        self.diverged = False
        self.losses: list[float] = [self._loss()]
        self.loss_iterations: list[int] = [0]
        self._trace: dict[str, Any] | None = None

    def _loss(self) -> float:
        with np.errstate(all="ignore"):
            x, t = np.array(self.cfg.inputs), np.array(self.cfg.targets)
            return backprop.loss_of(self.net, x, t, self.cfg.loss)

    def restore(self, state: WalkStateIn) -> None:
        """Continue from saved weights: the network, the iteration, the step and the history.

        The newest error is recomputed from the weights (so it always matches them). Raises
        ValueError when the counts do not fit the network; nothing changes then.
        """
        kw = {"biases": self.cfg.biases, "activation": self.cfg.activation,
              "output_activation": self.cfg.resolved_output_activation}
        try:
            net = backprop.Network.from_flat(self.cfg.sizes, state.weights, state.bias_values, **kw)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"state: {exc}") from None
        self.net = net
        self.iteration = state.iteration
        self.stage = state.stage - 1
        E = self._loss()
        if state.losses is None:
            self.losses, self.loss_iterations = [E], [state.iteration]
        else:
            self.losses = [np.nan if v is None else v for v in state.losses[:-1]] + [E]
            self.loss_iterations = list(state.loss_iterations or [])
        self.diverged = not np.isfinite(E)
        self._trace = None

    def advance(self, n: int) -> int:
        done = 0
        for _ in range(n):
            if self.diverged:
                break
            if self.stage == 4:  # step 5 → 6: the update is applied
                self._apply_update()
            self.stage = 1 if self.stage == 5 else self.stage + 1  # after step 6 comes step 2
            done += 1
        return done

    def _apply_update(self) -> None:
        """One iteration of the engine's training loop (forward, backward, update)."""
        x, t = np.array(self.cfg.inputs), np.array(self.cfg.targets)
        history, net, diverged = backprop.train(self.net, x, t, self.cfg.loss, self.cfg.lr, 1)
        self._trace = None
        self.diverged = diverged
        if len(history) < 2:  # E was not finite before the update: nothing was applied
            return
        self.net = net
        self.iteration += 1
        self.losses.append(history[-1])
        self.loss_iterations.append(self.iteration)

    @property
    def done(self) -> bool:
        return self.diverged or self.iteration >= MAX_REPEATS

    def frame(self) -> dict[str, Any]:
        if self._trace is None:
            with np.errstate(all="ignore"):
                self._trace = encoding.finite(trace_out(self.cfg, self.net))
        return encoding.finite({
            "stage": STAGES[self.stage],
            "stage_index": self.stage + 1,
            "iteration": self.iteration,
            "diverged": self.diverged,
            "losses": encoding.decimate(self.losses, 400),
            "loss_iterations": encoding.decimate(self.loss_iterations, 400),
            "network": net_out(self.net),
            "trace": self._trace,
        })

    def describe(self) -> dict[str, Any]:
        return encoding.finite({**self.cfg.model_dump(), "output_activation": self.net.output_activation})

    def apply(self, params: dict[str, Any]) -> dict[str, Any]:
        """Any change starts the walk-through over from step 1 with the new settings.

        `state` (WalkStateIn: the current weights, iteration, step, error history) then
        continues a saved walk-through, e.g. an imported one. Nothing changes when the config
        or the state is rejected (ValueError naming the field).
        """
        state = params.get("state")
        cfg = BackpropIn(**{**self.cfg.model_dump(), **{k: v for k, v in params.items() if k != "state"}})
        fresh = BackpropRunner(cfg, self.settings)
        if state is not None:
            try:
                saved = WalkStateIn.model_validate(state)
            except ValidationError as exc:
                raise ValueError(state_errors(exc)) from None
            fresh.restore(saved)
        self.__dict__.update(fresh.__dict__)
        return {"reset": True}


def check_limits(cfg: BackpropIn, settings: Settings) -> None:
    if cfg.repeats > settings.max_steps_per_call:
        raise HTTPException(422, f"repeats at most {settings.max_steps_per_call} (NP_MAX_STEPS_PER_CALL)")
