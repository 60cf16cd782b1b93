"""Frames per second a ConvNet lab page receives while the default network plays.

Starts the app in-process (TestClient, lifespan on), creates a session with the lab's defaults
(the digits, conv 8 → pool → conv 16 → pool → 10, Adam, batch 32), opens its stream as the page
does and plays at the page's speeds (1 and 3 mini-batch steps a frame, and one epoch a frame).
Prints frames/s received, their ratio to the frame cap (settings.max_frame_rate, the reference:
1.0 means every frame the server may send arrives), the mean size of a frame in KB with what
it carries, and the server's CPU time per frame (train, evaluate the test set, trace the chosen
image, encode), paced as in play: 1 / that time bounds the frame rate one core could give.
Run: python -m bench.bench_convnet_stream
"""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient

from app.labs.convnet.session import ConvNetConfigIn, ConvNetRunner
from app.main import app
from app.settings import get_settings
from app.streaming import _dumps

API = "/api/v1/convnet/sessions"


def receive_frames(ws, seconds: float) -> tuple[int, int, dict]:
    """(frames, bytes, the last frame) received over `seconds` of play."""
    frames = size = 0
    last: dict = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = ws.receive_text()
        if text.startswith('{"type":"frame"'):
            frames += 1
            size += len(text.encode())
            last = json.loads(text)
    return frames, size, last


def play(client: TestClient, steps_per_frame: int | None, seconds: float) -> tuple[float, float, dict]:
    session = client.post(API, json={}).json()
    per_frame = steps_per_frame or session["config"]["resolved"]["batches_per_epoch"]
    with client.websocket_connect(f"{API}/{session['id']}/stream") as ws:
        for _ in range(3):  # config, status, first frame
            ws.receive_text()
        ws.send_json({"type": "speed", "steps_per_frame": per_frame})
        ws.send_json({"type": "play"})
        receive_frames(ws, 0.5)  # warm-up
        frames, size, last = receive_frames(ws, seconds)
        ws.send_json({"type": "pause"})
    client.delete(f"{API}/{session['id']}")
    return frames / seconds, size / max(frames, 1) / 1024, last


def work_per_frame(steps_per_frame: int | None, cap: float, frames: int = 40) -> float:
    """CPU seconds the player spends per frame (train, evaluate, trace, encode) when frames are
    paced at the cap as in play (the test set is then read every few frames at one step a frame)."""
    runner = ConvNetRunner(ConvNetConfigIn(), get_settings())
    steps = steps_per_frame or runner.trainer.batches_per_epoch
    cpu = 0.0
    for _ in range(frames):
        started, wall = time.thread_time(), time.monotonic()
        runner.advance(steps)
        _dumps({"type": "frame", **runner.frame()})
        cpu += time.thread_time() - started
        time.sleep(max(0.0, 1 / cap - (time.monotonic() - wall)))
    return cpu / frames


def parts(frame: dict) -> str:
    """KB of each part of a frame, largest first."""
    sizes = {k: len(json.dumps(v, separators=(",", ":"))) / 1024 for k, v in frame.items() if k != "type"}
    return ", ".join(f"{k} {v:.1f}" for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])[:5])


def main(seconds: float = 4.0) -> None:
    cap = get_settings().max_frame_rate
    print(f"ConvNet stream, the default network on the digits, frame cap {cap:g}/s, {seconds:g} s each")
    with TestClient(app) as client:
        for steps, label in ((1, "1 step"), (3, "3 steps"), (None, "1 epoch")):
            fps, kb, last = play(client, steps, seconds)
            work = work_per_frame(steps, cap)
            bound = min(cap, 1 / work)
            print(f"  {label:>7}/frame: {fps:5.1f} frames/s received, ratio to the cap {fps / cap:4.2f}, "
                  f"{kb:4.1f} KB a frame; server work {1000 * work:5.1f} ms a frame "
                  f"(bound {bound:4.1f}/s, received/bound {fps / bound:4.2f})")
        print(f"  a frame's parts (KB): {parts(last)}")


if __name__ == "__main__":
    main()
