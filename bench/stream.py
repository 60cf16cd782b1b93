"""Frames per second a playground page receives while the largest network plays.

Starts the app in-process (TestClient, lifespan on), creates an MLP session with 6 hidden
layers of 8 on the spiral, opens its stream like the page does and plays at the page's
speeds (1 epoch per frame, and the fastest, 10 epochs per frame). Prints frames/s received,
their ratio to the frame cap (settings.max_frame_rate, the reference: 1.0 means every frame
the server may send arrives), and the mean size of a frame in KB.
Run: python -m bench.stream
"""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from app.labs.mlp.session import MLPConfigIn, MLPRunner
from app.main import app
from app.settings import get_settings
from app.streaming import _dumps

API = "/api/v1/mlp/sessions"
CONFIG = {"dataset": "spiral", "hidden": [8] * 6, "activation": "tanh", "lr": 0.03, "batch_size": 10}


def receive_frames(ws, seconds: float) -> tuple[int, int]:
    """(frames, bytes) received over `seconds` of play."""
    frames = size = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = ws.receive_text()
        if text.startswith('{"type":"frame"'):
            frames += 1
            size += len(text.encode())
    return frames, size


def play(client: TestClient, epochs_per_frame: int, seconds: float) -> tuple[float, float]:
    session = client.post(API, json=CONFIG).json()
    per_epoch = session["config"]["resolved"]["batches_per_epoch"]
    with client.websocket_connect(f"{API}/{session['id']}/stream") as ws:
        for _ in range(3):  # config, status, first frame
            ws.receive_text()
        ws.send_json({"type": "speed", "steps_per_frame": epochs_per_frame * per_epoch})
        ws.send_json({"type": "play"})
        receive_frames(ws, 0.5)  # warm-up
        frames, size = receive_frames(ws, seconds)
        ws.send_json({"type": "pause"})
    client.delete(f"{API}/{session['id']}")
    return frames / seconds, size / max(frames, 1) / 1024


def work_per_frame(epochs_per_frame: int, repeats: int = 10) -> float:
    """Seconds the player thread spends per frame (train, evaluate, encode), without a socket."""
    runner = MLPRunner(MLPConfigIn(**CONFIG), get_settings())
    steps = epochs_per_frame * runner.trainer.batches_per_epoch
    start = time.perf_counter()
    for _ in range(repeats):
        runner.advance(steps)
        _dumps({"type": "frame", **runner.frame()})
    return (time.perf_counter() - start) / repeats


def main(seconds: float = 4.0) -> None:
    cap = get_settings().max_frame_rate
    print(f"MLP stream, 6 hidden layers of 8 (spiral, batch 10), frame cap {cap:g}/s, {seconds:g} s each")
    with TestClient(app) as client:
        for epochs in (1, 10):
            fps, kb = play(client, epochs, seconds)
            work = work_per_frame(epochs)
            bound = min(cap, 1 / work)
            print(f"  {epochs:2d} epoch(s)/frame: {fps:5.1f} frames/s received, "
                  f"ratio to the cap {fps / cap:4.2f}, {kb:5.1f} KB a frame; "
                  f"server work {1000 * work:5.1f} ms a frame (bound {bound:4.1f}/s, "
                  f"received/bound {fps / bound:4.2f})")


if __name__ == "__main__":
    main()
