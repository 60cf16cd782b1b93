"""A schema-driven fuzz of the whole API: schemathesis against a real server, bounded, seeded.

Every operation of /openapi.json gets valid and invalid requests (boundary values, wrong
types, booleans for numbers, lone surrogates, huge numbers, unknown methods); the session
operations run against one real session per lab. No answer may be a 5xx, and every answer must
match what the schema documents: its status, content type, headers and body. The one check left
out, positive_data_acceptance, asks every schema-valid request to succeed, where the server
rightly refuses values past its settings (NP_MAX_POINTS, NP_MAX_GRID, …) and field combinations
a JSON schema cannot express ("steps or epochs, not both").

The server runs with small work budgets so that no request takes long, and a quota and a
capacity (NP_CAPACITY, whose 503 is a full lecture hall, not a fault) large enough for the
sessions a fuzzer creates. FUZZ_EXAMPLES (default 10 per operation) and FUZZ_SEED set the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.liveserver import LiveServer

LABS = {
    "mlp": {"hidden": [3]},
    "perceptron": {},
    "backprop": {},
    "optimizers": {"optimizers": [{"name": "adam", "lr": 0.1}]},
}
SETTINGS = {
    "client_quota_per_second": 100_000, "client_quota_burst": 100_000, "max_requests_per_client": 64,
    "max_sessions_per_client": 1000, "max_sessions": 1000, "capacity": 1000,
    "max_work_per_call": 100_000_000, "max_steps_per_call": 2_000, "max_optimizer_work": 20_000,
    "max_optimizer_points": 20_000, "max_perceptron_epochs": 200, "max_grid": 100,
}
CLI = Path(sys.executable).with_name("schemathesis")


def config(sessions: dict[str, str]) -> str:
    """schemathesis.toml: each lab's session operations use that lab's real session."""
    blocks = [f'[[operations]]\ninclude-path-regex = "^/api/v1/{lab}/sessions/"\n'
              f'parameters = {{ sid = "{sid}" }}\n' for lab, sid in sessions.items()]
    return "\n".join(blocks)


def test_fuzz_the_whole_api_finds_no_server_error_and_no_schema_violation(tmp_path):
    if not CLI.exists():
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    examples = os.environ.get("FUZZ_EXAMPLES", "10")
    seed = os.environ.get("FUZZ_SEED", "14")
    with LiveServer(settings=SETTINGS) as server:
        with httpx.Client(base_url=server.base, trust_env=False) as c:
            sessions = {lab: c.post(f"/api/v1/{lab}/sessions", json=body).raise_for_status().json()["id"]
                        for lab, body in LABS.items()}
        (tmp_path / "schemathesis.toml").write_text(config(sessions))
        started = time.monotonic()
        run = subprocess.run(
            [str(CLI), "--config-file", str(tmp_path / "schemathesis.toml"), "run",
             f"{server.base}/openapi.json", "--checks", "all",
             "--exclude-checks", "positive_data_acceptance", "--seed", seed, "--max-examples", examples,
             "--workers", "2", "--no-shrink", "--request-timeout", "60",
             "--report", "junit", "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=900, cwd=tmp_path, check=False,
        )
        took = time.monotonic() - started
        health = httpx.get(f"{server.base}/healthz", trust_env=False, timeout=30)
    summary = run.stdout[run.stdout.rfind("SUMMARY"):] if "SUMMARY" in run.stdout else run.stdout[-3000:]
    print(f"schemathesis, {examples} examples an operation, seed {seed}: {took:.0f} s\n{summary}")
    assert health.status_code == 200  # the server is still up and answering
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
