"""The nginx configuration for a set of workers, rendered from deploy/nginx.conf.in.

    python -m deploy.proxy WA=127.0.0.1:8101 WB=127.0.0.1:8102 > nginx.conf

Each worker is NAME=HOST:PORT; NAME is its NP_WORKER_NAME (two characters of the alphabet in
app.settings.WORKER_ALPHABET). `python -m deploy.proxy --compose` prints the configuration
compose.yaml mounts (deploy/compose/nginx.conf, kept equal to it by a test).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.settings import WORKER_ALPHABET

TEMPLATE = Path(__file__).with_name("nginx.conf.in")
# The workers compose.yaml runs: service name and worker name.
COMPOSE_WORKERS = [("WA", "wa:8000"), ("WB", "wb:8000"), ("WC", "wc:8000"), ("WD", "wd:8000")]
COMPOSE_TEMP = "/var/cache/nginx"


def render(workers: list[tuple[str, str]], listen: str = "80", temp: str = COMPOSE_TEMP,
           user: str | None = "nginx") -> str:
    """The configuration for `workers` [(name, "host:port"), ...]: one upstream per worker, the
    pool of all, and one route per worker name."""
    if not workers:
        raise ValueError("give at least one worker")
    names = [n for n, _ in workers]
    bad = [n for n in names if len(n) != 2 or any(c not in WORKER_ALPHABET for c in n)]
    if bad or len(set(names)) != len(names):
        raise ValueError(f"worker names are distinct pairs of {WORKER_ALPHABET}: not {names}")
    upstreams = "\n".join(
        f"    upstream worker_{name} {{\n        server {address};\n        keepalive 8;\n    }}"
        for name, address in workers)
    pool = "\n".join(f"        server {address} max_fails=1 fail_timeout=3s;" for _, address in workers)
    routes = "\n".join(f'        "~*/(sessions|sweeps|join)/{name}" worker_{name};' for name in names)
    text = TEMPLATE.read_text()
    for key, value in {"@USER@": f"user {user};" if user else "# (not root: no user directive)",
                       "@TEMP@": temp, "@LISTEN@": listen, "@UPSTREAMS@": upstreams, "@POOL@": pool,
                       "@ROUTES@": routes}.items():
        text = text.replace(key, value)
    return text


def compose_config() -> str:
    return render(COMPOSE_WORKERS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workers", nargs="*", help="NAME=HOST:PORT of each worker")
    parser.add_argument("--compose", action="store_true", help="the configuration compose.yaml mounts")
    parser.add_argument("--listen", default="80", help="the address and port nginx listens on")
    parser.add_argument("--temp", default=COMPOSE_TEMP, help="a directory nginx may write to")
    args = parser.parse_args()
    if args.compose:
        print(compose_config(), end="")
        return
    print(render([tuple(w.split("=", 1)) for w in args.workers], args.listen, args.temp), end="")


if __name__ == "__main__":
    main()
