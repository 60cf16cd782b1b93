"""The depth lab: deep networks trained side by side (sessions, the stream), signal propagation
at initialization (stateless), and the page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from app import streaming
from app.deps import SettingsDep, StoreDep
from app.labs.depth.session import (
    ActivationName,
    DepthConfigIn,
    DepthRunner,
    Include,
    InitName,
    StepIn,
    config_out,
    sig,
    snapshot,
)
from app.session_routes import add_session_routes
from app.sessions import Session
from app.settings import Settings
from app.templating import lab_page
from engine import activations, datasets, initializers, optimizers, propagation
from engine.depth_data import DATASETS

LAB = "depth"
api = APIRouter(prefix=f"/api/v1/{LAB}", tags=[LAB])
# The initializers a propagation study compares unless told otherwise: every rule but none twice.
PROPAGATION_INITS = ["zeros", "small_uniform", "tf_uniform", "xavier", "he", "orthogonal"]


def _runner(session: Session) -> DepthRunner:
    return session.runner  # type: ignore[return-value]


def _state(session: Session, include: list[str]) -> dict[str, Any]:
    runner = _runner(session)
    with session.lock:
        return {"id": session.id, "config": config_out(runner.cfg, runner.trainer),
                **snapshot(runner.trainer, include)}


@api.post("/sessions", status_code=201)
def create_session(cfg: DepthConfigIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Start a comparison: every network built from the same seed (plain and residual twins
    start from identical weights), trained on the same batches. The answer carries the id, the
    resolved config, metrics and the per-layer numbers at initialization."""
    cfg.check_limits(settings)
    session = store.create(LAB, DepthRunner(cfg, settings))
    return _state(session, ["metrics", "layers"])


@api.get("/sessions/{sid}")
def read_session(sid: str, store: StoreDep,
                 include: list[Include] = Query(["metrics", "layers"])) -> dict[str, Any]:
    return _state(store.get(LAB, sid), include)


@api.post("/sessions/{sid}/step")
def step_session(sid: str, body: StepIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Run `steps` lockstep steps or `epochs` passes (default one step). `include` any of
    metrics, layers (‖∂L/∂W‖ and ‖ΔW‖/‖W‖ per dense layer, quantiles, mean, variance and dead
    ReLUs per activation), histograms, history, weights."""
    session = store.get(LAB, sid)
    trainer = _runner(session).trainer
    with session.lock:
        n = body.steps or (body.epochs or 0) * trainer.batches_per_epoch or 1
        try:
            streaming.check_work(session, settings, n)
        except ValueError as exc:
            raise HTTPException(422, f"{exc}; call again to go on") from None
        trainer.step(n)
    return _state(session, body.include)


add_session_routes(
    api, LAB, lambda session: _state(session, ["metrics", "layers"]),
    patch_doc=(
        "Change config fields. Learning rate, optimizer and batch size continue the run; the data, "
        'depth, width or networks start it over (`"reset": true` in the answer). `weights` (one list '
        "of parameter arrays per network, as `include=weights` gives them) imports a saved run."
    ),
)


class PropagationIn(BaseModel):
    """A freshly initialized plain network of `depth` layers of `width` units, one batch of
    standard-normal inputs forward and a standard-normal gradient back, per initializer."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    activation: ActivationName = "tanh"
    depth: int = Field(20, ge=2, description="hidden layers, 2 … NP_MAX_DEPTH (50)")
    width: int = Field(64, ge=2, description="units per layer, 2 … NP_MAX_PROPAGATION_WIDTH (512)")
    inits: list[InitName] = Field(default_factory=lambda: list(PROPAGATION_INITS), min_length=1,
                                  max_length=len(initializers.INITIALIZERS), fail_fast=True)
    batchnorm: bool = Field(False, description="BatchNorm before every activation")
    n: int = Field(128, ge=2, description="examples in the batch")
    seed: int = Field(0, ge=0, le=2**32 - 1)

    def check_limits(self, settings: Settings) -> None:
        problems = []
        if self.depth > settings.max_depth:
            problems.append(f"at most {settings.max_depth} layers (NP_MAX_DEPTH)")
        if self.width > settings.max_propagation_width:
            problems.append(f"at most {settings.max_propagation_width} units a layer "
                            "(NP_MAX_PROPAGATION_WIDTH)")
        if self.n > settings.max_points:
            problems.append(f"at most {settings.max_points} examples (NP_MAX_POINTS)")
        work = self.n * self.width * self.width * self.depth * len(set(self.inits))
        if not problems and work > settings.max_work_per_call:
            problems.append(f"{work:.3g} units of work (examples × width² × depth × initializers), more than "
                            f"{settings.max_work_per_call:.3g} (NP_MAX_WORK_PER_CALL): fewer examples or a "
                            "narrower network")
        if problems:
            raise HTTPException(422, "over the server's limits: " + "; ".join(problems))


@api.post("/propagation")
def signal_propagation(body: PropagationIn, settings: SettingsDep) -> dict[str, Any]:
    """Var(aᵢ) of every hidden layer's activations (forward) and Var(∂L/∂aᵢ) (backward) at
    initialization, per initializer, with the fitted factor per layer of each and the drawn
    weights' variance s² (n·s² is the factor a linear layer applies)."""
    body.check_limits(settings)
    inits = list(dict.fromkeys(body.inits))
    runs = propagation.propagate_all(body.depth, body.width, body.activation, inits, body.batchnorm,
                                     body.n, body.seed)
    return {
        "activation": body.activation, "depth": body.depth, "width": body.width,
        "batchnorm": body.batchnorm, "n": body.n, "layers": list(range(1, body.depth + 1)),
        "inits": [{
            "init": p.init, "label": initializers.get(p.init).label,
            "activation_var": sig(p.activation_var), "grad_var": sig(p.grad_var),
            "activation_rate": sig([p.activation_rate if p.activation_rate is not None else float("nan")])[0],
            "grad_rate": sig([p.grad_rate if p.grad_rate is not None else float("nan")])[0],
            "weight_var": sig([p.weight_var])[0], "factor": sig([body.width * p.weight_var])[0],
        } for p in runs],
    }


pages = APIRouter(include_in_schema=False)


def page_choices(settings: Settings) -> dict[str, Any]:
    """What the page's controls offer, straight from the engine's registries."""
    labels = {d.name: d.label for d in datasets.DATASETS.values()}
    return {
        "datasets": [{"name": n, "label": "Digits (8×8 images)" if n == "digits" else labels[n]}
                     for n in DATASETS],
        "activations": [{"name": a.name, "label": a.label} for a in activations.ACTIVATIONS.values()],
        "initializers": [{"name": i.name, "label": i.label} for i in initializers.INITIALIZERS.values()],
        "optimizers": list(optimizers.OPTIMIZERS),
        "propagation_inits": PROPAGATION_INITS,
        "limits": {"max_depth": settings.max_depth, "max_width": settings.max_width,
                   "max_propagation_width": settings.max_propagation_width},
    }


@pages.get("/labs/depth", response_class=HTMLResponse)
def page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return lab_page(request, LAB, choices=page_choices(settings))


router = APIRouter()
router.include_router(api)
router.include_router(pages)
