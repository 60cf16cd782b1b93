"""Server settings: every limit is a setting, read from NP_* environment variables."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# One frame-ancestors source: *, 'self', 'none', a scheme (https:) or a host with optional
# scheme, wildcard subdomain, port and path. No ; or , so a setting cannot add directives.
_ANCESTOR = re.compile(r"\*|'self'|'none'|[a-z][a-z0-9+.-]*:|([a-z][a-z0-9+.-]*://)?(\*\.)?[\w.-]+(:(\d+|\*))?(/\S*)?",
                       re.IGNORECASE)

# Characters nobody confuses when reading them off a projector (no 0/O, 1/I/L): worker names and
# the join codes built on them use only these.
WORKER_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NP_")

    max_sessions: int = 200
    session_idle_seconds: float = 1800.0
    eviction_interval_seconds: float = 30.0
    max_layers: int = 8  # hidden layers of an MLP
    max_neurons: int = 32  # neurons per hidden layer
    # The depth lab: hidden layers and units per layer of its networks (each side of a comparison),
    # and the width of an at-init signal-propagation study (a stateless call, no training).
    max_depth: int = 50
    max_width: int = 64
    max_propagation_width: int = 512
    max_points: int = 5000  # dataset size, including user-supplied points
    max_grid: int = 200  # resolution of any grid the server evaluates
    max_steps_per_call: int = 100_000  # mini-batch updates in one REST step call
    max_steps_per_frame: int = 2000  # the fastest play speed
    max_frame_rate: float = 30.0  # frames per second a stream sends at most
    # Work budgets in examples × parameters (one MLP update costs batch × weights): a call
    # or a frame past them is refused or cut, so no cap combination runs for minutes.
    max_work_per_call: int = 10_000_000_000
    max_work_per_frame: int = 300_000_000
    max_perceptron_epochs: int = 10_000
    max_optimizer_iterations: int = 20_000
    max_optimizer_runs: int = 64  # optimizers × start points in one request
    # Σ over runs of iterations × (1 + data points an update evaluates / 64), twice with internals
    max_optimizer_work: int = 150_000
    max_optimizer_points: int = 128_000  # runs × points per path in one answer
    # What one request or message may hold, checked before anything reads it further: a body
    # (HTTP) or a WebSocket message in bytes (a 256×256 RGB picture as JSON integers is ~1 MB),
    # the items of any one JSON list or object, and how deeply JSON may nest.
    max_body_bytes: int = 2 * 1024 * 1024
    max_list_items: int = 10_000  # at least NP_MAX_POINTS is always allowed
    max_json_depth: int = 32
    max_frame_bytes: int = 1024 * 1024  # a stream frame or a grid answer, encoded
    # What one client may hold or ask at once: sessions (past it, its own least recently used
    # unwatched session makes room), open streams, requests waiting for their turn, and a quota
    # of requests and messages (one unit each, and one per 64 KB they carry). A client is one
    # browser (the np_browser cookie a page load hands out) at one address, or the address alone
    # for scripts without the cookie; a lecture hall behind one NAT address is that many
    # browsers, up to `max_browsers_per_address` (past it, new browsers share the address's limits).
    max_sessions_per_client: int = 20
    max_streams_per_client: int = 20
    max_requests_per_client: int = 8
    client_quota_per_second: float = 50.0
    client_quota_burst: float = 100.0
    max_browsers_per_address: int = 400
    max_queued_commands: int = 16  # commands a stream holds before answering "too many"
    # CPU work (frames, stream commands) runs on this many threads; each client has one turn
    # at a time, in its requests, frames and commands alike, so one client cannot take them all.
    work_threads: int = 2
    # The MLP's training loop compiled with numba (engine.fused: the NumPy engine's maths, tested
    # against it, 4–6× faster a frame); off runs every update in the NumPy engine.
    compiled: bool = True
    # Serving a lecture hall (README, "Serving a lecture hall"). A worker admits at most
    # `capacity` sessions in use at once (watched by a page, or used in the last minute); past
    # it a new session is refused with 503 and Retry-After instead of slowing every student.
    capacity: int = 150
    # The worker's name when several run behind the proxy: two characters of WORKER_ALPHABET
    # that start every id and join code it hands out, so the proxy routes them to it. "" (the
    # default, `make run`) for one process.
    worker_name: str = ""
    # A session's journal (its configuration and every change, with the step it came at) lets a
    # page recreate the run elsewhere when its worker is gone; past this size it stops growing
    # and the run can only start over from its settings.
    max_journal_bytes: int = 1024 * 1024
    # Convolution lab: sizes of inputs and kernels, and what one call may compute or list.
    max_image_side: int = 256  # height and width of any input grid, image or uploaded picture
    max_kernel_side: int = 15  # kernel height and width
    max_filters: int = 64  # kernels or filters in one call
    max_channels: int = 16  # input channels of a grid
    max_conv_work: int = 200_000_000  # multiply-adds in one call (outputs × C × kh × kw, × repeat)
    max_trace_products: int = 50_000  # products a trace lists (and a step-by-step session holds)
    max_conv_numbers: int = 250_000  # numbers an answer lists with format "list"
    # The self-supervised lab: images per contrastive batch (2N views, a 2N×2N matrix a frame),
    # probe tables and sweeps training in the background at once on this server, a sweep's size.
    max_ssl_batch: int = 64
    max_ssl_jobs: int = 2
    max_ssl_sweep_runs: int = 12
    max_ssl_sweep_steps: int = 1000
    # The scale lab: sweeps (grids of training runs) and class experiments, owned by the worker
    # that created them. Compute is training FLOPs (6 · multiply-accumulates · examples).
    scale_max_sweeps: int = 500  # sweeps one worker keeps
    scale_sweep_idle_seconds: float = 1800.0  # unwatched and unused this long: dropped
    scale_max_cells: int = 120  # cells of one sweep
    scale_max_width: int = 4096  # hidden units, first-layer filters or random features
    scale_max_depth: int = 6  # hidden layers of a sweep's MLPs
    scale_max_steps: int = 5000  # mini-batch updates of one cell
    scale_max_cell_flops: float = 5e9  # compute of one cell (a few seconds of one core)
    scale_max_sweep_flops: float = 5e10  # compute of all of a sweep's cells
    scale_cache_cells: int = 5000  # results kept by (config, seed)
    scale_lease_seconds: float = 45.0  # a student's cell returns to the pool unless renewed
    scale_max_students: int = 500  # students in one class experiment
    scale_cells_per_join: int = 3  # cells one join may take
    scale_runner_threads: int = 1  # threads computing cells a sweep runs on the server
    scale_public_url: str = ""  # the origin students' phones reach (join link, QR); "" = the page's
    # The ConvNet lab: layers in a network, its parameters (weights and biases), and generated
    # images (the shapes set). One mini-batch step costs batch × multiply-accumulates per image
    # in the work budgets above.
    max_convnet_layers: int = 16
    max_convnet_parameters: int = 250_000
    max_images: int = 5000
    # Short links (/s/<id>) for share links too long for chat or a proxy: where they are kept
    # (one small file each; mount a volume there in a container), the longest link kept, how many.
    links_dir: Path = Path.home() / ".local" / "state" / "neural-playground" / "links"
    max_link_bytes: int = 262_144
    max_links: int = 100_000
    # Who may put a lab in an <iframe>: a space-separated CSP frame-ancestors list. "*" is any
    # http(s) page; "file:" adds slide decks opened from disk (browsers do not count them in "*").
    frame_ancestors: str = "* file:"

    @field_validator("worker_name")
    @classmethod
    def _worker_name(cls, value: str) -> str:
        if value and (len(value) != 2 or any(ch not in WORKER_ALPHABET for ch in value)):
            raise ValueError(f"worker_name is two characters of {WORKER_ALPHABET} (e.g. WA), or empty "
                             f"for a single process; not {value!r}")
        return value

    @field_validator("scale_public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.fullmatch(r"https?://[\w.-]+(:\d+)?(/[\w./-]*)?", value):
            raise ValueError(f"scale_public_url is an origin like http://192.168.1.20:8000, not {value!r}")
        return value

    @field_validator("frame_ancestors")
    @classmethod
    def _ancestor_list(cls, value: str) -> str:
        sources = value.split()
        bad = [s for s in sources if not _ANCESTOR.fullmatch(s) or ";" in s or "," in s]
        if not sources or bad:
            raise ValueError(
                f"frame_ancestors is a space-separated list like \"*\" or \"'self' https://slides.example.org\""
                f"; cannot use {bad or value!r}"
            )
        if "'none'" in sources and len(sources) > 1:
            raise ValueError("frame_ancestors: 'none' stands alone")
        return " ".join(sources)


@lru_cache
def get_settings() -> Settings:
    return Settings()
