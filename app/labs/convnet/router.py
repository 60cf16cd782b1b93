"""The ConvNet lab: sessions over REST, the datasets as compact grids, reading a picture,
the live stream, and the page."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import Field

from app import encoding, streaming
from app.deps import SettingsDep, StoreDep
from app.labs.convnet import layers as notation
from app.labs.convnet.session import (
    ConvNetConfigIn,
    ConvNetRunner,
    DatasetName,
    ImageIn,
    Include,
    StepIn,
)
from app.labs.convnet.views import config_out, images, maps_out, snapshot
from app.session_routes import add_session_routes
from app.sessions import Session
from app.settings import Settings
from app.templating import lab_page
from engine import activations, initializers, optimizers
from engine.image_trainer import dataset_split

LAB = "convnet"
api = APIRouter(prefix=f"/api/v1/{LAB}", tags=[LAB])


def _runner(session: Session) -> ConvNetRunner:
    return session.runner  # type: ignore[return-value]


def _state(session: Session, include: list[str], example: int | None = None) -> dict[str, Any]:
    runner = _runner(session)
    with session.lock:
        trainer = runner.trainer
        picture = runner.picture()
        if example is not None:
            if example >= len(trainer.X_test):
                raise HTTPException(422, f"example: a test image index from 0 to {len(trainer.X_test) - 1}")
            picture = (trainer.X_test[example], {"source": "test", "index": example,
                                                 "label": int(trainer.y_test[example])})
        out = {"id": session.id, "config": config_out(runner.cfg, trainer, runner.settings),
               **snapshot(trainer, include, picture)}
        if "filters" in include:
            out["initial_filters"] = out["config"]["initial_filters"]
        return out


@api.post("/sessions", status_code=201)
def create_session(cfg: ConvNetConfigIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Start a run: the answer carries its id, the resolved config (every layer's shape and
    parameters, the same budget as a fully connected net, the initial filters) and metrics."""
    cfg.check_limits(settings)
    session = store.create(LAB, ConvNetRunner(cfg, settings))
    return _state(session, ["metrics"])


@api.get("/sessions/{sid}")
def read_session(sid: str, store: StoreDep, include: list[Include] = Query(["metrics"]),
                 example: int | None = Query(None, ge=0, description="test image for include=maps")
                 ) -> dict[str, Any]:
    return _state(store.get(LAB, sid), include, example)


@api.post("/sessions/{sid}/step")
def step_session(sid: str, body: StepIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Run `steps` mini-batch updates or `epochs` passes (default one step); `include` says what
    the answer carries, `example` which test image `maps` traces."""
    session = store.get(LAB, sid)
    trainer = _runner(session).trainer
    with session.lock:
        n = body.steps or (body.epochs or 0) * trainer.batches_per_epoch or 1
        try:
            streaming.check_work(session, settings, n)
        except ValueError as exc:
            raise HTTPException(422, f"{exc}; call again to go on") from None
        if body.epochs:
            trainer.run_epochs(body.epochs)
        else:
            trainer.step(n)
    return _state(session, body.include, body.example)


@api.get("/sessions/{sid}/confusion")
def confusion_cell(sid: str, store: StoreDep,
                   true: int = Query(ge=0, description="the images' true class"),
                   predicted: int = Query(ge=0, description="the class the network gives them")
                   ) -> dict[str, Any]:
    """The test images behind one cell of the confusion matrix, with their probabilities."""
    session = store.get(LAB, sid)
    with session.lock:
        trainer = _runner(session).trainer
        k = trainer.data.num_classes
        if true >= k or predicted >= k:
            raise HTTPException(422, f"true and predicted are classes 0 … {k - 1}")
        idx = trainer.confusion_examples(true, predicted)
        probs = trainer.test_evaluation().probs[idx]
        return {"true": true, "predicted": predicted, "count": len(idx), "indices": idx.tolist(),
                "images": images(trainer.X_test[idx]) if len(idx) else None,
                "probs": encoding.finite(probs, 4)}


class PredictIn(ImageIn):
    session: str = Field(description="the id of a ConvNet session whose network reads the picture")
    maps: bool = Field(True, description="also every layer's feature maps")


@api.post("/predict")
def predict(body: PredictIn, store: StoreDep) -> dict[str, Any]:
    """Read one picture with a session's network (its weights now): the image it saw (a drawing
    cropped and averaged down to the data's size), the class probabilities and the prediction."""
    session = store.get(LAB, body.session)
    runner = _runner(session)
    with session.lock:
        try:
            image = body.pixels(runner.cfg.image_shape, fit=runner.cfg.dataset == "digits")
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        out = maps_out(runner.trainer, (image, {"source": "drawing" if body.drawing else "image"}))
        out["classes"] = list(runner.trainer.data.classes)
    if not body.maps:
        out.pop("layers")
    return out


@api.get("/datasets/{name}")
def dataset(
    name: DatasetName,  # type: ignore[valid-type]
    settings: SettingsDep,
    part: Literal["all", "train", "test"] = Query("all", description="all images, or a session's split"),
    seed: int = Query(0, ge=0, le=2**32 - 1, description="the split's seed (and the shapes')"),
    train_percent: float = Query(80, ge=10, le=90),
    n_images: int = Query(1000, ge=20, description="shapes only"),
    image_size: int = Query(12, ge=8, le=16, description="shapes only"),
    noise: float = Query(10, ge=0, le=50, description="shapes only, percent"),
    offset: int = Query(0, ge=0),
    limit: int | None = Query(None, ge=1),
) -> dict[str, Any]:
    """Images as one uint8 grid (N, H, W) over [0, 1] and labels as uint8; with part=train or
    test, the split a session with the same seed and train_percent trains and tests on."""
    if name == "shapes" and n_images > settings.max_images:
        raise HTTPException(422, f"at most {settings.max_images} images (NP_MAX_IMAGES)")
    cfg = ConvNetConfigIn(dataset=name, seed=seed, train_percent=train_percent, n_images=n_images,
                          image_size=image_size, noise=noise).to_engine()
    data, X_tr, y_tr, X_te, y_te = dataset_split(cfg)
    X, y = {"all": (data.images, data.labels), "train": (X_tr, y_tr), "test": (X_te, y_te)}[part]
    total = len(y)
    end = None if limit is None else offset + limit
    X, y = X[offset:end], y[offset:end]
    return {"name": name, "part": part, "classes": list(data.classes), "total": total, "offset": offset,
            "count": len(y), "images": images(X) if len(y) else None,
            "labels": encoding.labels(np.asarray(y))}


add_session_routes(
    api, LAB, lambda session: _state(session, ["metrics"]),
    patch_doc=(
        "Change config fields: learning rate, optimizer, batch size and augmentation continue the "
        "run; data, seed, layers and init start it over (`\"reset\": true`). Also `example` (a test "
        "image index), `image` or `drawing` (the picture frames trace; `drawing: null` goes back "
        "to the test image) and `weights` ({layer: {parameter: values}}, as include=weights gives)."
    ),
)


pages = APIRouter(include_in_schema=False)

OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
                    "rmsprop": "RMSProp", "adam": "Adam"}


def page_choices(settings: Settings) -> dict[str, Any]:
    """What the page's controls offer, from the engine's registries."""
    return {
        "optimizers": [{"name": k, "label": OPTIMIZER_LABELS.get(k, k)} for k in optimizers.OPTIMIZERS],
        "inits": list(initializers.INITIALIZERS),
        "activations": [{"name": a.name, "label": a.label} for a in activations.ACTIVATIONS.values()],
        "default_layers": notation.DEFAULT,
        "limits": {"max_layers": settings.max_convnet_layers,
                   "max_parameters": settings.max_convnet_parameters, "max_images": settings.max_images},
    }


@pages.get("/labs/convnet", response_class=HTMLResponse)
def page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return lab_page(request, LAB, choices=page_choices(settings))


router = APIRouter()
router.include_router(api)
router.include_router(pages)
