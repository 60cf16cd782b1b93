"""The ConvNet lab's API shapes and its session runner (engine image trainer → JSON frames).

A run is an architecture (app.labs.convnet.layers), a data set (the UCI digits or generated
shapes, split by the seed), an optimizer and a batch size. A frame carries what the page draws:
metrics and gradient norms, every conv layer's filters, the feature maps of one chosen image
(a test image or a drawing), the confusion matrix and the test set's predictions, all numbers
finite and every array a quantized uint8 grid (app.encoding).
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.inputs import grid
from app.labs.convnet import layers as notation
from app.labs.convnet.views import config_out, snapshot
from app.settings import Settings
from engine import image_data, initializers, optimizers
from engine.digitize import digitize
from engine.image_trainer import ImageConfig, ImageTrainer
from engine.nn.build import ArchitectureError
from engine.nn.plan import PlannedLayer, plan
from engine.shapes import CLASSES as SHAPE_CLASSES

DatasetName = Literal[image_data.DATASETS]  # type: ignore[valid-type]
OptimizerName = Literal[tuple(optimizers.OPTIMIZERS)]  # type: ignore[valid-type]
InitName = Literal[tuple(initializers.INITIALIZERS)]  # type: ignore[valid-type]
Include = Literal["metrics", "filters", "maps", "confusion", "predictions", "history", "trace", "weights"]
MAX_DRAWING = 512  # pixels per side of a drawing sent to be read
# An architecture's text and list are bounded before they are parsed (NP_MAX_CONVNET_LAYERS,
# at most 16 by default, is checked on the parsed network).
LayersText = Annotated[str, Field(max_length=2000)]
LayerList = Annotated[list[dict[str, Any]], Field(max_length=64, fail_fast=True)]


class ConvNetConfigIn(BaseModel):
    """A ConvNet run. Noise values are percentages, as on the page."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    dataset: DatasetName = Field("digits", description="digits (UCI, 8×8, 10 classes) or shapes "
                                 "(generated circles, squares, triangles, crosses)")
    n_images: int = Field(1000, ge=20, description="shapes only: images generated (train + test)")
    image_size: int = Field(12, ge=8, le=16, description="shapes only: side in pixels")
    noise: float = Field(10, ge=0, le=50, description="shapes only: pixel noise σ in percent")
    train_percent: float = Field(80, ge=10, le=90, description="share of images used for training")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="draws the split, the weights and the batches")
    layers: LayersText | LayerList = Field(
        notation.DEFAULT, description='hidden layers as text ("conv8k3p1,relu,maxpool2,dense32,relu") '
        'or engine layer specs ([{"type": "conv", "filters": 8, "kernel": 3, "padding": 1}, ...]); '
        "the output layer is added")
    init: InitName = "he"
    optimizer: OptimizerName = "adam"
    lr: float = Field(0.01, gt=0, le=10, description="learning rate")
    optimizer_params: dict[str, float | bool] = Field(
        {}, max_length=8, description='torch.optim hyperparameters other than lr, e.g. {"momentum": 0.9}')
    batch_size: int = Field(32, ge=1, le=1024)
    augment_shift: int = Field(0, ge=0, le=2, description="shift training images by up to ± this many pixels")
    augment_noise: float = Field(0, ge=0, le=50, description="pixel noise σ added to training images, %")

    @model_validator(mode="after")
    def _consistent(self) -> ConvNetConfigIn:
        self.layers, _ = notation.parse(self.layers)  # canonical text; ValueError names the layer
        optimizers.check_hyperparameters(self.optimizer, self.optimizer_params)
        return self

    @property
    def specs(self) -> tuple[dict[str, Any], ...]:
        return notation.parse(self.layers)[1]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (1, 8, 8) if self.dataset == "digits" else (1, self.image_size, self.image_size)

    @property
    def num_classes(self) -> int:
        return len(image_data.DIGIT_CLASSES) if self.dataset == "digits" else len(SHAPE_CLASSES)

    def check_limits(self, settings: Settings) -> list[PlannedLayer]:
        """422 naming the layer or the setting a config goes past; the planned layers otherwise."""
        specs = self.specs
        if len(specs) > settings.max_convnet_layers:
            raise HTTPException(422, f"at most {settings.max_convnet_layers} layers (NP_MAX_CONVNET_LAYERS); "
                                f"this network has {len(specs)}")
        if self.dataset == "shapes" and self.n_images > settings.max_images:
            raise HTTPException(422, f"at most {settings.max_images} images (NP_MAX_IMAGES)")
        rows, parameters, macs = [], 0, 0
        try:
            for row in plan(specs, self.image_shape, self.num_classes):
                rows.append(row)
                parameters += row.parameters
                macs += row.macs
                where = "the output layer" if row.index == "output" else f"layer {row.index}"
                where = f"{where} ({row.label})"
                if parameters > settings.max_convnet_parameters:
                    raise HTTPException(422, (
                        f"{where}: the network reaches {parameters:,} parameters here, more than "
                        f"{settings.max_convnet_parameters:,} (NP_MAX_CONVNET_PARAMETERS); use fewer filters "
                        "or units, or pool the maps before a dense layer"))
                if self.batch_size * macs > settings.max_work_per_frame:
                    raise HTTPException(422, (
                        f"{where}: a step of {self.batch_size} images costs "
                        f"{self.batch_size * macs:,} multiply-accumulates up to here, more than "
                        f"{settings.max_work_per_frame:,} a frame (NP_MAX_WORK_PER_FRAME); use a smaller "
                        "batch, fewer filters, or pool (or stride) earlier"))
        except ArchitectureError as exc:
            raise HTTPException(422, str(exc)) from None
        return rows

    def to_engine(self) -> ImageConfig:
        return ImageConfig(
            dataset=self.dataset, n_images=self.n_images, image_size=self.image_size,
            noise=self.noise / 100.0, train_ratio=self.train_percent / 100.0, seed=self.seed,
            layers=self.specs, init=self.init, optimizer=self.optimizer, lr=self.lr,
            optimizer_params=tuple(sorted(self.optimizer_params.items())), batch_size=self.batch_size,
            augment_shift=self.augment_shift, augment_noise=self.augment_noise / 100.0,
        )


class DrawingIn(BaseModel):
    """A drawing's ink, one byte a pixel (0 none … 255 full), row-major, base64."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    height: int = Field(ge=1, le=MAX_DRAWING)
    width: int = Field(ge=1, le=MAX_DRAWING)
    data: str = Field(description="base64 of height × width bytes")

    def array(self) -> np.ndarray:
        try:
            raw = base64.b64decode(self.data, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("drawing.data: not valid base64") from None
        if len(raw) != self.height * self.width:
            raise ValueError(f"drawing.data: {len(raw)} bytes; height × width is {self.height * self.width}")
        return np.frombuffer(raw, dtype=np.uint8).reshape(self.height, self.width) / 255.0


class ImageIn(BaseModel):
    """One picture for the network: an image at the data's size, or a drawing to be read."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    image: grid(64) | None = Field(None, description="H × W values in [0, 1] "
                                            "at the data's image size (8 × 8 for the digits)")
    drawing: DrawingIn | None = Field(None, description="a drawing, cropped, scaled and averaged down "
                                      "as the UCI digits were made (engine.digitize)")

    @model_validator(mode="after")
    def _one(self) -> ImageIn:
        if (self.image is None) == (self.drawing is None):
            raise ValueError("give one of image (a grid) or drawing (a bitmap)")
        return self

    def pixels(self, shape: tuple[int, int, int], fit: bool) -> np.ndarray:
        """The picture as (1, H, W) in [0, 1]."""
        _, H, W = shape
        if self.drawing is not None:
            return digitize(self.drawing.array(), (H, W), fit=fit)[None]
        x = np.asarray(self.image, dtype=np.float64)
        if x.shape != (H, W):
            raise ValueError(f"image: give {H} rows of {W} values (the data's size), not {list(x.shape)}")
        if x.min() < 0 or x.max() > 1:
            raise ValueError("image: values from 0 (background) to 1 (ink)")
        return x[None]


class ViewIn(BaseModel):
    """Which picture the frames trace through the network: a test image or your own."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    example: int = Field(0, ge=0, description="index of a test image whose feature maps frames carry")


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    steps: int | None = Field(None, ge=1, description="mini-batch updates to run")
    epochs: int | None = Field(None, ge=1, description="passes over the training set to run")
    include: list[Include] = Field(["metrics"], max_length=16, fail_fast=True,
                                   description="what the response carries")
    example: int = Field(0, ge=0, description="the test image whose feature maps `maps` carries")

    @model_validator(mode="after")
    def _one_amount(self) -> StepIn:
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give steps or epochs, not both")
        return self


class ConvNetRunner:
    """A ConvNet session: the trainer, the config it came from, and the picture frames trace.

    A frame's filters and feature maps are always the current step's. Its test-set parts
    (metrics, confusion, predictions; `metrics.step` says at which step) are evaluated afresh
    unless the last evaluation is under EVAL_AGE seconds old and the training since cost less
    than half an evaluation (steps · 3 · batch < n_test / 2 forward passes): while playing one
    step a frame, the test set is read every few frames instead of costing four steps' work in
    every one; a paused run's frame (after a step, a reset, a change) is always exact, and a
    `set` (an empty one too: the page sends one when playing stops) answers with an exact frame.
    """

    FRAME = ("metrics", "filters", "maps", "confusion", "predictions")
    EVALUATED = ("metrics", "confusion", "predictions")
    EVAL_AGE = 0.1

    def __init__(self, cfg: ConvNetConfigIn, settings: Settings) -> None:
        self.cfg = cfg
        self.settings = settings
        self.trainer = ImageTrainer(cfg.to_engine())
        self.example = 0
        self.own: np.ndarray | None = None  # a drawing or image of the user's (1, H, W)
        self._macs: tuple[Any, int] = (None, 0)
        self._evaluated: tuple[Any, int, float, dict[str, Any]] | None = None

    def advance(self, n: int) -> int:
        return self.trainer.step(n)

    @property
    def done(self) -> bool:
        return self.trainer.diverged

    def reset(self) -> None:
        self.trainer.reset()
        self._evaluated = None

    def picture(self) -> tuple[np.ndarray, dict[str, Any]]:
        """The picture frames trace, and what it is."""
        if self.own is not None:
            return self.own, {"source": "drawing"}
        k = min(self.example, len(self.trainer.X_test) - 1)
        return self.trainer.X_test[k], {"source": "test", "index": k, "label": int(self.trainer.y_test[k])}

    def frame(self) -> dict[str, Any]:
        t = self.trainer
        cached = self._evaluated
        if cached is not None and cached[0] is t.model and not t.diverged:
            _, step, when, parts = cached
            since = t.step_count - step
            if since >= 0 and (since == 0 or (time.monotonic() - when < self.EVAL_AGE
                                              and since * 3 * t.config.batch_size < len(t.X_test) / 2)):
                return {**snapshot(t, ("filters", "maps"), self.picture()), **parts}
        out = snapshot(t, self.FRAME, self.picture())
        self._evaluated = (t.model, t.step_count, time.monotonic(), {k: out[k] for k in self.EVALUATED})
        return out

    def describe(self) -> dict[str, Any]:
        return config_out(self.cfg, self.trainer, self.settings)

    def apply(self, params: dict[str, Any]) -> dict[str, Any]:
        """Config fields, the traced picture (example, image, drawing) and imported weights.

        Learning rate, optimizer, batch size and augmentation continue the run; data, seed,
        layers and init start it over (`"reset": true`). `weights` ({layer: {param: values}}
        as `include=weights` gives them) replaces the network's parameters after the change.
        """
        self._evaluated = None  # a set always answers with an exact frame (an empty one asks for it)
        params = dict(params)
        weights = params.pop("weights", None)
        picture = {k: params.pop(k) for k in ("image", "drawing") if k in params}
        example = params.pop("example", None)
        cfg = ConvNetConfigIn(**{**self.cfg.model_dump(), **params}) if params else self.cfg
        if params:
            try:
                cfg.check_limits(self.settings)
            except HTTPException as exc:
                raise ValueError(exc.detail) from None
        own = self.own
        if picture and any(v is not None for v in picture.values()):
            own = ImageIn(**picture).pixels(cfg.image_shape, fit=cfg.dataset == "digits")
        elif picture:  # {"drawing": null}: back to the test image
            own = None
        if example is not None:
            example = ViewIn(example=example).example
        reset = False
        if cfg is not self.cfg:
            engine_cfg = cfg.to_engine()
            changes = {k: getattr(engine_cfg, k) for k in engine_cfg.__dataclass_fields__
                       if getattr(engine_cfg, k) != getattr(self.trainer.config, k)}
            self.cfg = cfg
            reset = self.trainer.update(**changes)
        if weights is not None:
            if not isinstance(weights, dict):
                raise ValueError("weights: give {layer: {parameter: values}} as include=weights gives them")
            self.trainer.set_weights(weights)
        if example is not None:
            self.example, own = example, None
        if own is not None and own.shape != cfg.image_shape:
            own = None  # a drawing of the old data's size
        self.own = own
        return {"reset": reset}

    def step_cost(self) -> int:
        """Work of one mini-batch update: images × multiply-accumulates per image."""
        model = self.trainer.model
        if self._macs[0] is not model:  # a new network since the last count
            self._macs = (model, sum(r.macs for r in self.trainer.summary()))
        return self.trainer.config.batch_size * self._macs[1]
