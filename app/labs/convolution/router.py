"""The convolution lab: apply kernels or a layer, trace windows, count parameters (stateless),
the shipped images and kernels, live step-by-step sessions, and the page."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from app import encoding
from app.deps import SettingsDep, StoreDep
from app.labs.convolution import answers
from app.labs.convolution.session import (
    LECTURE_INPUT,
    LECTURE_KERNEL,
    OPERATION_LABEL,
    ConvStepRunner,
    ImageName,
    KernelName,
    StepIn,
    fail,
)
from app.session_routes import add_session_routes
from app.sessions import Session
from app.templating import lab_page
from engine import conv, conv_volume, images, kernels

LAB = "convolution"
api = APIRouter(prefix=f"/api/v1/{LAB}", tags=[LAB])


@api.post("/apply")
def apply(body: answers.ApplyIn, settings: SettingsDep) -> dict[str, Any]:
    """Convolve an input (grid, shipped image or your pixels) with a kernel applied to each
    channel (an image filter, optionally repeated) or with a conv layer (weights D × C × kh × kw
    or generated filters). Answers the output (uint16 grid or full lists), its shape, the
    output-size formula's numbers per axis, the padding used and, on request, the input and each
    filter's per-channel responses. Equal to torch.nn.functional.conv2d (cross-correlation;
    flip=true turns the kernel for true convolution)."""
    return answers.apply(body, settings)


@api.post("/trace")
def trace(body: answers.TraceIn, settings: SettingsDep) -> dict[str, Any]:
    """Every window position (or the ones asked for) with its rows and columns in the padded
    input, the values under the kernel, the products and their sum: the step-by-step."""
    return answers.trace(body, settings)


@api.post("/params")
def params(body: answers.ParamsIn) -> dict[str, Any]:
    """Parameters and activations of a fully connected layer vs a conv layer on H × W × C, with
    the numbers written out (the lecture's 224·224·3 → 1024 question by default)."""
    return answers.params(body)


@api.get("/images")
def list_images() -> list[dict[str, Any]]:
    """The shipped images: name, title, credit, licence, size."""
    return [images.describe(name) for name in images.IMAGES]


@api.get("/images/{name}")
def read_image(name: ImageName, settings: SettingsDep,
               channels: Literal["grey", "rgb"] = "rgb",
               height: int | None = Query(None, ge=1),
               width: int | None = Query(None, ge=1)) -> dict[str, Any]:
    """One image's pixels as a uint8 grid (C, H, W), optionally resized (area averaging)."""
    size = None
    if height is not None or width is not None:
        if height is None or width is None:
            raise fail("give both height and width to resize")
        if max(height, width) > settings.max_image_side:
            raise fail(f"height and width at most {settings.max_image_side} (NP_MAX_IMAGE_SIDE)")
        size = (height, width)
    x = images.load(name, channels, size)
    return {**images.describe(name), "shape": list(x.shape), "pixels": encoding.grid(x, 0.0, 255.0, bits=8)}


@api.get("/kernels")
def list_kernels() -> dict[str, Any]:
    """The kernel gallery (weights at the default size; sizes each comes in), the designed
    filters of the layer view, padding modes and the two operations."""
    return {
        "kernels": [kernels.describe(name) for name in kernels.GALLERY],
        "layer_filters": [name for name, _, _ in conv_volume.DESIGNED],
        "padding_modes": list(conv.PAD_MODES),
        "operations": {"cross-correlation": OPERATION_LABEL[False], "convolution": OPERATION_LABEL[True]},
        "lecture": {"input": LECTURE_INPUT, "kernel": LECTURE_KERNEL},
    }


@api.get("/kernels/{name}")
def read_kernel(name: KernelName, settings: SettingsDep,
                size: int | None = Query(None, ge=1)) -> dict[str, Any]:
    """One gallery kernel at a size it comes in."""
    if size is not None and size > settings.max_kernel_side:
        raise fail(f"size at most {settings.max_kernel_side} (NP_MAX_KERNEL_SIDE)")
    try:
        w = kernels.make(name, size)
    except ValueError as exc:
        raise fail(f"size: {exc}") from None
    return {**kernels.describe(name), "size": w.shape[0], "weights": w.tolist()}


# ---- step-by-step sessions ---------------------------------------------------------------------


class StepBody(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    steps: int = Field(1, ge=1, le=100_000, description="window positions to move on")


def _runner(session: Session) -> ConvStepRunner:
    return session.runner  # type: ignore[return-value]


def _state(session: Session) -> dict[str, Any]:
    runner = _runner(session)
    with session.lock:
        return {"id": session.id, **runner.describe(), "frame": runner.frame()}


@api.post("/sessions", status_code=201)
def create_session(cfg: StepIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """Start a step-by-step: the window at no position yet; step it, or play it over .../stream
    (`rate` window positions a second)."""
    session = store.create(LAB, ConvStepRunner(cfg, settings))
    return _state(session)


@api.get("/sessions/{sid}")
def read_session(sid: str, store: StoreDep) -> dict[str, Any]:
    """The configuration, the padded input and sizes, and the window so far."""
    return _state(store.get(LAB, sid))


@api.post("/sessions/{sid}/step")
def step_session(sid: str, body: StepBody, store: StoreDep) -> dict[str, Any]:
    session = store.get(LAB, sid)
    with session.lock:
        _runner(session).advance(body.steps)
    return _state(session)


add_session_routes(
    api, LAB, _state,
    patch_doc="Change any field of the step-by-step (input, kernel, padding, mode, stride, dilation, "
              "flip, bias): it starts over. `rate` alone changes the pace and keeps the window where it is.",
)


pages = APIRouter(include_in_schema=False)


@pages.get(f"/labs/{LAB}", response_class=HTMLResponse)
def page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return lab_page(request, LAB, catalog={**list_kernels(), "images": list_images(),
                                           "max_image_side": settings.max_image_side})


router = APIRouter()
router.include_router(api)
router.include_router(pages)
