"""The self-supervised lab's API shapes and its session runner (contrastive trainer → frames,
whose parts frames.py encodes; background jobs in jobs.py)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.inputs import grid
from app.labs.selfsupervised.frames import (
    batch_out,
    embedding_out,
    heldout_out,
    history_out,
    images_grid,
    job_out,
    metrics_out,
    num,
    row_out,
)
from app.labs.selfsupervised.jobs import Job
from app.settings import Settings
from engine import contrastive_eval, embedding, image_data, optimizers, views
from engine.contrastive_trainer import ENCODERS, ContrastiveConfig, ContrastiveTrainer

EncoderName = Literal[tuple(ENCODERS)]  # type: ignore[valid-type]
OptimizerName = Literal[tuple(optimizers.OPTIMIZERS)]  # type: ignore[valid-type]
DatasetName = Literal[tuple(image_data.DATASETS)]  # type: ignore[valid-type]
Include = Literal["metrics", "batch", "row", "embedding", "history", "heldout", "probe", "sweep"]
T = views.TRANSFORMS


def strength(name: str) -> Any:
    t = T[name]
    return Field(getattr(views.Augmentation(), name), ge=t.lo, le=t.hi,
                 description=f"{t.label}: {t.strength}{' in ' + t.unit if t.unit else ''}, 0 = off")


class AugmentIn(BaseModel):
    """The strength of each transform of a view; 0 turns it off."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    crop: float = strength("crop")
    flip: float = strength("flip")
    rotate: float = strength("rotate")
    shift: int = strength("shift")
    contrast: float = strength("contrast")
    blur: float = strength("blur")
    noise: float = strength("noise")
    cutout: int = strength("cutout")

    def to_engine(self) -> views.Augmentation:
        return views.Augmentation(**{k: getattr(self, k) for k in views.ORDER})


class SSLConfigIn(AugmentIn):
    """A contrastive run. The augmentation strengths are flat fields, as in the page's URL."""

    dataset: DatasetName = "digits"
    n_images: int = Field(1000, ge=40, description="shapes only: images generated")
    image_size: int = Field(12, ge=8, le=16, description="shapes only: side in pixels")
    shape_noise: float = Field(0.1, ge=0, le=0.5, description="shapes only: pixel noise σ")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    encoder: EncoderName = Field("cnn", description="cnn: conv 8 → pool → conv 16 → pool → dense 16; "
                                 "mlp: dense 64 → dense 16 (h, what the probe reads)")
    embed_dim: int = Field(16, ge=2, le=64, description="size of z, the projection head's output")
    tau: float = Field(0.2, gt=0, le=1, description="temperature τ of NT-Xent (> 0)")
    batch_size: int = Field(32, ge=2, description="N images a batch (2N views); at least 2")
    optimizer: OptimizerName = "adam"
    lr: float = Field(0.01, gt=0, le=10, description="learning rate")

    @model_validator(mode="after")
    def _augmentation(self) -> SSLConfigIn:
        self.to_engine()  # ranges are checked by the fields; this keeps the two in step
        return self

    def check_limits(self, settings: Settings) -> None:
        problems = []
        if self.batch_size > settings.max_ssl_batch:
            problems.append(f"batch_size at most {settings.max_ssl_batch} (NP_MAX_SSL_BATCH)")
        if self.dataset == "shapes" and self.n_images > settings.max_points:
            problems.append(f"n_images at most {settings.max_points} (NP_MAX_POINTS)")
        if problems:
            raise HTTPException(422, "over the server's limits: " + "; ".join(problems))

    def to_engine(self) -> ContrastiveConfig:
        return ContrastiveConfig(
            dataset=self.dataset, n_images=self.n_images, image_size=self.image_size,
            noise=self.shape_noise, seed=self.seed, encoder=self.encoder, embed_dim=self.embed_dim,
            tau=self.tau, batch_size=self.batch_size, optimizer=self.optimizer, lr=self.lr,
            augmentation=views.Augmentation(**{k: getattr(self, k) for k in views.ORDER}))


class ViewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    row: int = Field(0, ge=0, description="the similarity matrix's row whose softmax a frame shows")


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    steps: int = Field(1, ge=1, description="contrastive steps to run")
    include: list[Include] = Field(["metrics"], max_length=16, fail_fast=True,
                                   description="what the answer carries")


class ProbeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    fractions: list[float] = Field([0.01, 0.1, 1.0], min_length=1, max_length=5, fail_fast=True,
                                   description="shares of the training labels the probe may use, in (0, 1]")
    rows: list[Literal["contrastive", "random", "supervised"]] = Field(
        ["contrastive", "random", "supervised"], min_length=1, max_length=3, fail_fast=True,
        description="which encoders to probe")
    wait: bool = Field(True, description="answer once the table is complete (false: at once, then "
                       "GET …/probe or watch the stream's frames)")

    @model_validator(mode="after")
    def _fractions(self) -> ProbeIn:
        if any(not 0 < f <= 1 for f in self.fractions):
            raise ValueError("every fraction must be above 0 and at most 1 (0.01 is 1 % of the labels)")
        return self


class SweepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    taus: list[float] = Field([0.05, 0.1, 0.2, 0.5, 1.0], max_length=12, fail_fast=True,
                              description="temperatures to try (each > 0, at most 1)")
    batch_sizes: list[int] = Field([4, 8, 16, 32, 64], max_length=12, fail_fast=True,
                                   description="N to try (each ≥ 2)")
    steps: int = Field(200, ge=1, description="steps of each run")
    fraction: float = Field(0.1, gt=0, le=1, description="share of labels the probe of each run uses")

    @model_validator(mode="after")
    def _values(self) -> SweepIn:
        if any(not 0 < t <= 1 for t in self.taus):
            raise ValueError("every τ must be above 0 and at most 1")
        if any(n < 2 for n in self.batch_sizes):
            raise ValueError("every batch size N must be at least 2 (a row needs a negative)")
        if not self.taus and not self.batch_sizes:
            raise ValueError("give at least one τ or one N")
        return self

    def check_limits(self, settings: Settings) -> None:
        problems = []
        if len(self.taus) + len(self.batch_sizes) > settings.max_ssl_sweep_runs:
            problems.append(f"at most {settings.max_ssl_sweep_runs} runs (NP_MAX_SSL_SWEEP_RUNS)")
        if self.steps > settings.max_ssl_sweep_steps:
            problems.append(f"steps at most {settings.max_ssl_sweep_steps} (NP_MAX_SSL_SWEEP_STEPS)")
        if any(n > settings.max_ssl_batch for n in self.batch_sizes):
            problems.append(f"batch sizes at most {settings.max_ssl_batch} (NP_MAX_SSL_BATCH)")
        if problems:
            raise HTTPException(422, "over the server's limits: " + "; ".join(problems))


class AugmentRequest(AugmentIn):
    """Views of one image: a digit (or shape) by index, or your own pixels."""

    dataset: DatasetName = "digits"
    index: int = Field(0, ge=0, description="which image of the dataset (ignored with `image`)")
    image: grid(64) | None = Field(None, description="your own grey image, rows of values "
                                            "in [0, 1], 4 … 64 pixels a side")
    views: int = Field(8, ge=1, le=64, description="how many random views")
    seed: int = Field(0, ge=0, le=2**32 - 1)


# ---- the runner ------------------------------------------------------------------------------

class SSLRunner:
    """A contrastive session: the trainer, its config, the chosen row, background jobs."""

    FRAME = ("metrics", "batch", "row", "embedding", "history", "probe", "sweep")

    def __init__(self, cfg: SSLConfigIn, settings: Settings) -> None:
        self.cfg = cfg
        self.settings = settings
        self.trainer = ContrastiveTrainer(cfg.to_engine())
        self.view = ViewIn()
        self.jobs: dict[str, Job | None] = {"probe": None, "sweep": None}

    # Runner protocol
    def advance(self, n: int) -> int:
        return self.trainer.step(n)

    @property
    def done(self) -> bool:
        return self.trainer.diverged

    def reset(self) -> None:
        self.cancel_jobs()
        self.trainer.reset()

    def frame(self) -> dict[str, Any]:
        return self.snapshot(self.FRAME)

    def describe(self) -> dict[str, Any]:
        """The config, the chosen row and `heldout_key`: the held-out images and labels (31 KB)
        travel in GET …?include=heldout, read again only when this key changes."""
        return {**self.config_out(), "row": self.view.row, "heldout_key": self.heldout_key()}

    def heldout_key(self) -> str:
        c = self.trainer.config
        return f"{c.dataset}:{c.seed}:{c.n_images}:{c.image_size}:{c.noise}:{c.train_ratio}"

    def apply(self, params: dict[str, Any]) -> dict[str, Any]:
        """Config fields and the view's `row`; a new run only when the data or networks change."""
        view_keys = {k: params[k] for k in ViewIn.model_fields if k in params}
        cfg_keys = {k: v for k, v in params.items() if k not in view_keys}
        view = ViewIn(**{**self.view.model_dump(), **view_keys})
        cfg = SSLConfigIn(**{**self.cfg.model_dump(), **cfg_keys})
        try:
            cfg.check_limits(self.settings)
        except HTTPException as exc:
            raise ValueError(exc.detail) from None
        engine_cfg = cfg.to_engine()
        changes = {k: getattr(engine_cfg, k) for k in engine_cfg.__dataclass_fields__
                   if getattr(engine_cfg, k) != getattr(self.trainer.config, k)}
        reset = self.trainer.update(**changes) if changes else False
        if reset:
            self.cancel_jobs()
        self.cfg, self.view = cfg, view
        return {"reset": reset}

    def step_cost(self) -> int:
        return self.trainer.step_cost()

    # reading
    def config_out(self) -> dict[str, Any]:
        t = self.trainer
        h_shape = t.encoder.output_shape(t.data.image_shape)
        return {**self.cfg.model_dump(), "resolved": {
            "image_shape": list(t.data.image_shape), "train_images": len(t.X_train),
            "heldout_images": len(t.X_test), "h_dim": h_shape[0],
            "encoder": t.encoder.describe(), "head": t.head.describe(),
            "parameters": sum(p.size for p in t.parameters()),
            "transforms": {k: {"label": v.label, "strength": v.strength, "unit": v.unit, "lo": v.lo,
                               "hi": v.hi, "on": v.on} for k, v in T.items()},
        }}

    def snapshot(self, include: Any, row: int | None = None) -> dict[str, Any]:
        t = self.trainer
        out: dict[str, Any] = {"step": t.step_count, "epoch": t.epoch, "diverged": t.diverged}
        if "metrics" in include:
            out["metrics"] = metrics_out(t)
        if "batch" in include:
            out["batch"] = batch_out(t)
        if "row" in include:
            out["row"] = row_out(t, self.view.row if row is None else row)
        if "embedding" in include:
            out["embedding"] = embedding_out(t)
        if "history" in include:
            out["history"] = history_out(t)
        if "heldout" in include:
            out["heldout"] = heldout_out(t)
        if "probe" in include:
            out["probe"] = job_out(self.jobs["probe"])
        if "sweep" in include:
            out["sweep"] = job_out(self.jobs["sweep"])
        return out

    def neighbours(self, index: int, k: int) -> dict[str, Any]:
        t = self.trainer
        ev = t.evaluate()
        if not 0 <= index < len(ev.z):
            raise ValueError(f"index must be in 0 … {len(ev.z) - 1} (the held-out images)")
        idx, cos = embedding.nearest(ev.z, index, k)
        return {"step": ev.step, "index": index, "label": int(t.y_test[index]),
                "neighbours": [{"index": int(i), "label": int(t.y_test[i]), "cosine": num(c)}
                               for i, c in zip(idx, cos, strict=True)],
                "same_class": float(np.mean(t.y_test[idx] == t.y_test[index])) if len(idx) else None,
                "images": images_grid(t.X_test[np.concatenate([[index], idx])])}

    # background jobs
    def cancel_jobs(self) -> None:
        for job in self.jobs.values():
            if job is not None:
                job.cancel()

    def start_probe(self, body: ProbeIn) -> Job:
        frozen = contrastive_eval.freeze(self.trainer)
        fractions, rows = sorted(set(body.fractions)), [r for r in contrastive_eval.ROWS if r in body.rows]
        draws = contrastive_eval.DRAWS

        def units(row: str, fraction: float) -> int:
            """Progress units of a cell: a probe is one; a supervised cell trains an encoder a draw."""
            return (draws if fraction < 1 else 1) if row == "supervised" else 1

        total = sum(units(r, f) for r in rows for f in fractions)

        def work(job: Job):
            for cell in contrastive_eval.probe_cells(frozen, fractions, rows, draws):
                job.advance(job.done + units(cell.row, cell.fraction))
                yield cell
                if job.cancelled:
                    return

        if self.jobs["probe"] is not None:
            self.jobs["probe"].cancel()
        job = Job("probe", total, work, self.settings.max_ssl_jobs,
                  {"step": frozen.step, "fractions": fractions, "rows": rows, "draws": draws}, owner=self)
        self.jobs["probe"] = job
        return job

    def start_sweep(self, body: SweepIn) -> Job:
        config = self.trainer.config
        taus, sizes = list(body.taus), [n for n in body.batch_sizes if n <= len(self.trainer.X_train)]

        def work(job: Job):
            return contrastive_eval.sweep_points(
                config, taus, sizes, body.steps, body.fraction, should_stop=lambda: job.cancelled,
                on_steps=lambda run, done: job.advance(run + done / (body.steps + 1)))

        if self.jobs["sweep"] is not None:
            self.jobs["sweep"].cancel()
        job = Job("sweep", len(taus) + len(sizes), work, self.settings.max_ssl_jobs,
                  {"taus": taus, "batch_sizes": sizes, "steps": body.steps, "fraction": body.fraction,
                   "tau": config.tau, "batch_size": config.batch_size}, owner=self)
        self.jobs["sweep"] = job
        return job
