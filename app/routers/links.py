"""Short links: the server keeps a share link that is too long to paste (a lab with its own
points makes 15–60 KB) and opens it from /s/<id>.

A link is one small file in NP_LINKS_DIR named by a hash of its target, so the same link always
gets the same address and links survive a restart. Only lab pages can be kept (a path under
/labs/ or /embed/ with its query), so a short link never leads off the playground.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from app.deps import SettingsDep

router = APIRouter()

# A lab page's path and query: no scheme or host, no dot segments, no spaces or control characters.
_TARGET = re.compile(r"/(labs|embed)/[a-z0-9_-]+(\?[^\x00-\x20\x7f#]*)?")
_ID = re.compile(r"[a-z2-7]{12,32}")


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="a lab page's path and query, e.g. /labs/mlp?dataset=xor&points=…")


class LinkOut(BaseModel):
    id: str = Field(description="the short link's name")
    url: str = Field(description="the short address, /s/<id>, to share")
    target: str = Field(description="the page it opens")


def _ids(target: str) -> list[str]:
    """Candidate names for `target`, shortest first (a longer one only on a hash clash)."""
    digest = base64.b32encode(hashlib.sha256(target.encode()).digest()).decode().lower()
    return [digest[:n] for n in (12, 20, 32)]


def _read(folder: Path, link_id: str) -> str | None:
    if not _ID.fullmatch(link_id):
        return None
    try:
        return (folder / f"{link_id}.txt").read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None


@router.post("/api/v1/links", status_code=201, response_model=LinkOut, tags=["links"])
def create_link(body: LinkIn, settings: SettingsDep) -> LinkOut:
    """Keep a lab page's link and answer its short address (the same link, the same address)."""
    target = body.url
    if not _TARGET.fullmatch(target) or "/../" in target:
        raise HTTPException(422, "url must be a lab page's path and query, like /labs/mlp?seed=1")
    size = len(target.encode())
    if size > settings.max_link_bytes:
        raise HTTPException(
            413, f"the link is {size} bytes; at most {settings.max_link_bytes} (NP_MAX_LINK_BYTES)")
    folder = settings.links_dir
    folder.mkdir(parents=True, exist_ok=True)
    for link_id in _ids(target):
        kept = _read(folder, link_id)
        if kept == target:
            return LinkOut(id=link_id, url=f"/s/{link_id}", target=target)
        if kept is None:
            break
    else:
        raise HTTPException(409, "no free short name for this link")
    if sum(1 for _ in folder.glob("*.txt")) >= settings.max_links:
        raise HTTPException(507, f"the server keeps {settings.max_links} short links already (NP_MAX_LINKS)")
    tmp = folder / f".{link_id}.{os.getpid()}.tmp"
    tmp.write_text(target, encoding="utf-8")
    tmp.replace(folder / f"{link_id}.txt")  # atomic: a reader sees the whole link or none
    return LinkOut(id=link_id, url=f"/s/{link_id}", target=target)


def _target(link_id: str, settings: SettingsDep) -> str:
    target = _read(settings.links_dir, link_id)
    if target is None:
        raise HTTPException(404, f"no short link {link_id!r}: it may have been made on another server")
    return target


@router.get("/api/v1/links/{link_id}", response_model=LinkOut, tags=["links"])
def read_link(link_id: str, settings: SettingsDep) -> LinkOut:
    """The page a short link opens."""
    return LinkOut(id=link_id, url=f"/s/{link_id}", target=_target(link_id, settings))


@router.get("/s/{link_id}", include_in_schema=False)
def open_link(link_id: str, settings: SettingsDep) -> RedirectResponse:
    return RedirectResponse(_target(link_id, settings), status_code=307)
