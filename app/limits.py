"""Limits on what one request, message or client may ask, checked before any work is done.

`RequestLimits` is the outermost ASGI middleware. For every HTTP request it
- charges the client's quota (one unit, plus one per 64 KB of body; 429 + Retry-After when spent),
- refuses a body over NP_MAX_BODY_BYTES (413) before reading it, or as soon as it grows past,
- checks a JSON body's shape before validation sees it: nesting depth, items of any one list or
  object, valid Unicode (422), so no body can make validation list a million errors,
- gives each client one turn at a time for the API (`/api/...`): its next request waits, up to
  NP_MAX_REQUESTS_PER_CLIENT of them, then 429.
For every WebSocket it counts the client's open streams (NP_MAX_STREAMS_PER_CLIENT; past it the
socket is told why and closed with code 4429). The stream checks each message with
`check_message` and charges the same quota.

A client is one browser at one address: a page load without it hands out the `np_browser`
cookie (a random token), and requests and sockets that carry it count as that browser; scripts
without the cookie count as their address. So a lecture hall behind one NAT address is a hall of
clients, not one: up to NP_MAX_BROWSERS_PER_ADDRESS browsers an address, past which new ones share
the address's limits (a client that mints tokens gains at most that many shares). Behind a
reverse proxy, run uvicorn with `--proxy-headers --forwarded-allow-ips=<proxy>` so the address is
the student's, not the proxy's.
"""

from __future__ import annotations

import asyncio
import html
import json
import math
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_response
from app.settings import Settings, get_settings

UNIT_BYTES = 64 * 1024  # a request or message costs one quota unit more per this many bytes
# The client an API request comes from, for the work it runs in its own thread (app.work).
CLIENT: ContextVar[str | None] = ContextVar("client", default=None)


class JSONShapeError(ValueError):
    """A JSON document nests too deeply, holds too many items in one place, or bad text."""

    def __init__(self, msg: str, loc: tuple[str | int, ...] = (), kind: str = "value_error") -> None:
        super().__init__(msg)
        self.loc = loc
        self.kind = kind


def list_limit(settings: Settings) -> int:
    return max(settings.max_list_items, settings.max_points)


_CONTAINERS = (list, dict)
# A surrogate written as a JSON escape (\ud800 … \udfff) or as raw UTF-8 bytes (which Python's
# JSON reader lets through): only text that holds one needs its strings checked one by one.
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\xed[\xa0-\xbf]")


def check_shape(value: Any, settings: Settings, root: str = "body", strings: bool = True) -> None:
    """JSONShapeError naming where `value` (parsed JSON) goes past the depth or item limits,
    or (with `strings`) holds a lone surrogate (text that is not valid Unicode).

    Walks level by level over containers only, so a long list of numbers costs one C-level
    pass; without recursion, so any depth is safe to check."""
    most, deepest = list_limit(settings), settings.max_json_depth
    level, depth = [value] if isinstance(value, _CONTAINERS) else [], 1
    while level:
        if max(map(len, level)) > most:
            v = next(v for v in level if len(v) > most)
            what = "items" if isinstance(v, list) else "keys"
            raise JSONShapeError(f"{len(v)} {what} in one place; at most {most} (NP_MAX_LIST_ITEMS)",
                                 _path_to(value, v, root), "too_long")
        if depth > deepest:
            raise JSONShapeError(f"JSON nests more than {deepest} levels deep (NP_MAX_JSON_DEPTH)",
                                 _path_to(value, level[0], root), "too_deep")
        items = chain.from_iterable(v.values() if type(v) is dict else v for v in level)
        level, depth = [x for x in items if type(x) in _CONTAINERS], depth + 1
    if strings:
        _check_strings(value, root)


def _path_to(value: Any, target: Any, root: str) -> tuple[str | int, ...]:
    """The location of container `target` inside `value` (only looked for once a limit is hit)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, (root,))]
    while stack:
        v, loc = stack.pop()
        if v is target:
            return loc
        if isinstance(v, dict):
            stack.extend((x, (*loc, k)) for k, x in v.items() if isinstance(x, _CONTAINERS))
        elif isinstance(v, list):
            stack.extend((x, (*loc, i)) for i, x in enumerate(v) if isinstance(x, _CONTAINERS))
    return (root,)


def _check_strings(value: Any, root: str) -> None:
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, (root,))]
    while stack:
        v, loc = stack.pop()
        if isinstance(v, str):
            _check_text(v, loc)
        elif isinstance(v, dict):
            for k, x in v.items():
                _check_text(k, loc)
                stack.append((x, (*loc, k)))
        elif isinstance(v, list):
            stack.extend((x, (*loc, i)) for i, x in enumerate(v))


def _check_text(text: str, loc: tuple[str | int, ...]) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JSONShapeError("text must be valid Unicode (a lone \\ud800 … \\udfff escape is not)",
                             loc, "unicode_error") from None


def parse_checked(raw: bytes | str, settings: Settings, root: str = "body") -> Any:
    """json.loads + check_shape; JSONShapeError for bad shapes, ValueError for bad JSON."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise JSONShapeError(f"JSON nests more than {settings.max_json_depth} levels deep "
                             "(NP_MAX_JSON_DEPTH)", (root,), "too_deep") from None
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    check_shape(value, settings, root, strings=_SURROGATE.search(data) is not None)
    return value


class TokenBucket:
    """`rate` units a second, at most `burst` saved up."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.level = burst
        self.stamp = time.monotonic()

    def take(self, cost: float) -> float:
        """Spend `cost` units: 0.0 when granted, else the seconds until it would be."""
        now = time.monotonic()
        self.level = min(self.burst, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.level >= cost:
            self.level -= cost
            return 0.0
        return (min(cost, self.burst) - self.level) / self.rate if self.rate > 0 else 60.0

    @property
    def idle(self) -> bool:
        return self.level + (time.monotonic() - self.stamp) * self.rate >= self.burst


@dataclass
class Client:
    """What the server keeps about one address."""

    bucket: TokenBucket
    waiting: int = 0  # API requests waiting for or holding the client's turn
    streams: int = 0  # open WebSockets
    turn: asyncio.Semaphore | None = field(default=None, repr=False)


class Clients:
    """Per-client quotas, turns and counts; forgets a client once it holds nothing."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[str, Client] = {}
        self._browsers: dict[str, int] = {}  # address → browsers known at it (keys "address#token")

    def key(self, scope: Scope, token: str | None = None) -> str:
        """The client a request or socket counts as: its browser (the cookie's token, or `token`
        just handed out) at its address, or the address."""
        address = client_key(scope)
        token = token or browser_token(scope)
        if token is None:
            return address
        key = f"{address}#{token}"
        if key not in self._clients:
            if self._browsers.get(address, 0) >= self.settings.max_browsers_per_address:
                return address
            self._browsers[address] = self._browsers.get(address, 0) + 1
            self.get(key)
        return key

    def get(self, key: str) -> Client:
        client = self._clients.get(key)
        if client is None:
            if len(self._clients) >= 4096:  # before adding: a new client is idle and would go at once
                self.forget_idle()
            s = self.settings
            client = self._clients[key] = Client(TokenBucket(s.client_quota_per_second, s.client_quota_burst))
        return client

    def forget_idle(self) -> None:
        for key in [k for k, c in self._clients.items()
                    if not c.waiting and not c.streams and c.bucket.idle]:
            del self._clients[key]
            address, browser, _ = key.partition("#")
            if browser and self._browsers.get(address, 0) > 1:
                self._browsers[address] -= 1
            elif browser:
                self._browsers.pop(address, None)

    def charge(self, key: str, size: int = 0) -> float:
        """Spend one unit (+1 per UNIT_BYTES of `size`): 0.0, or the seconds to wait."""
        return self.get(key).bucket.take(1 + size / UNIT_BYTES)

    def turn(self, key: str) -> asyncio.Semaphore:
        client = self.get(key)
        if client.turn is None:
            client.turn = asyncio.Semaphore(1)
        return client.turn

    @contextmanager
    def stream(self, key: str) -> Iterator[bool]:
        """Count an open stream; yields False when the client already holds its maximum."""
        client = self.get(key)
        if client.streams >= self.settings.max_streams_per_client:
            yield False
            return
        client.streams += 1
        try:
            yield True
        finally:
            client.streams -= 1


def client_key(scope: Scope) -> str:
    """The client RequestLimits counted this request or socket as, else its address."""
    known = scope.get("state", {}).get("client")
    if known:
        return str(known)
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


BROWSER_COOKIE = "np_browser"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


def browser_token(scope: Scope) -> str | None:
    """The browser's token when the request carries a well-formed one: the np_browser cookie,
    else (a page in a third-party frame, whose cookie the browser does not keep) the
    X-NP-Browser header its scripts send, or a WebSocket's `browser` query parameter."""
    header = None
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == BROWSER_COOKIE and _TOKEN.fullmatch(v):
                    return v
        elif name == b"x-np-browser":
            header = value.decode("latin-1")
    if header is None and scope.get("type") == "websocket":
        for part in scope.get("query_string", b"").decode("latin-1").split("&"):
            k, _, v = part.partition("=")
            if k == "browser":
                header = v
    return header if header is not None and _TOKEN.fullmatch(header) else None


def new_browser_token() -> str:
    return secrets.token_urlsafe(16)


def with_browser_cookie(send: Send, token: str) -> Send:
    """A send() that hands a page's answer its browser's np_browser token (a year, this site only)."""
    cookie = f"{BROWSER_COOKIE}={token}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly".encode("latin-1")

    async def send_with_cookie(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), (b"set-cookie", cookie)]}
        await send(message)

    return send_with_cookie


def retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def quota_message(seconds: float, settings: Settings) -> str:
    return ("too many requests from your browser (or address): "
            f"at most {settings.client_quota_per_second:g} a second "
            f"(NP_CLIENT_QUOTA_PER_SECOND, one more per 64 KB sent); retry in {max(1, math.ceil(seconds))} s")


def wants_html(scope: Scope) -> bool:
    """A browser navigating to a page (it accepts HTML), not a script or a page's own fetch."""
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return b"text/html" in value
    return False


def too_many(page: bool, msg: str, seconds: float) -> Response:
    """429 with Retry-After: JSON in the one error shape, or for a page a short HTML page that
    says so and loads itself again when the wait is over."""
    headers = retry_after(seconds)
    if not page:
        return error_response(429, msg, headers=headers)
    wait = headers["Retry-After"]
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{wait}"><title>One moment</title></head>'
        '<body style="font: 18px/1.5 system-ui, sans-serif; margin: 3em">'
        f"<h1>One moment</h1><p>The playground is answering many requests from your network: "
        f"this page loads again in {wait} s.</p><p><small>{html.escape(msg)}</small></p></body></html>",
        status_code=429, headers=headers)


def is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind = value.split(b";")[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return False


def content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestLimits:
    """The ASGI middleware described in the module docstring."""

    def __init__(self, app: ASGIApp, settings_source: Any = None) -> None:
        self.app = app
        self.settings_source = settings_source  # () -> Settings; tests override get_settings

    def settings(self) -> Settings:
        return self.settings_source() if self.settings_source else get_settings()

    def clients(self, scope: Scope) -> Clients:
        state = scope["app"].state
        clients = getattr(state, "clients", None)
        if clients is None:
            clients = state.clients = Clients(self.settings())
        return clients

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings, clients = self.settings(), self.clients(scope)
        key = clients.key(scope)
        with clients.stream(key) as allowed:
            if allowed:
                scope.setdefault("state", {})["client"] = key
                await self.app(scope, receive, send)
                return
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        text = json.dumps({"type": "error", "code": "too_many_streams", "message": (
            "too many open streams from your browser (or address): "
            f"at most {settings.max_streams_per_client} "
            "(NP_MAX_STREAMS_PER_CLIENT); close another page of the playground")})
        await send({"type": "websocket.send", "text": text})
        await send({"type": "websocket.close", "code": 4429})

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if path.startswith("/static/"):
            await self.app(scope, receive, send)
            return
        settings, clients = self.settings(), self.clients(scope)
        token = None
        page = not path.startswith("/api/") and wants_html(scope)
        if page and scope.get("method") == "GET" and browser_token(scope) is None:
            # A page loaded by a new browser: the browser is a client of its own from this request
            # on, so a hall of students behind one address does not share one quota.
            token = new_browser_token()
            send = with_browser_cookie(send, token)
        key = clients.key(scope, token)
        state = scope.setdefault("state", {})
        state["client"] = key
        state["browser"] = token or browser_token(scope)  # a page hands it to its scripts
        length = content_length(scope)
        too_large = length is not None and length > settings.max_body_bytes
        wait = clients.charge(key, 0 if too_large else length or 0)
        if wait:
            await too_many(page, quota_message(wait, settings), wait)(scope, receive, send)
            return
        if too_large:
            await self._too_large(scope, receive, send, settings)
            return
        body = await self._read_body(receive, settings.max_body_bytes)
        if body is None:
            await self._too_large(scope, receive, send, settings)
            return
        extra = len(body) - (length or 0)
        if extra > UNIT_BYTES and clients.charge(key, extra):  # a body sent without its length
            await too_many(page, quota_message(1, settings), 1)(scope, receive, send)
            return
        if path.startswith("/api/"):
            await self._in_turn(scope, body, receive, send, clients, key, settings)
        elif await self._shape_ok(scope, body, receive, send, settings):
            await self.app(scope, _replay(body, receive), send)

    async def _shape_ok(self, scope: Scope, body: bytes, receive: Receive, send: Send,
                        settings: Settings) -> bool:
        """Check a JSON body's shape (off the event loop); answer 422 when it is refused."""
        if not body or not is_json(scope):
            return True
        try:
            await asyncio.to_thread(parse_checked, body, settings)
        except JSONShapeError as exc:
            await error_response(422, str(exc), exc.kind, exc.loc)(scope, receive, send)
            return False
        except (ValueError, RecursionError):
            pass  # not JSON: FastAPI answers it (400 or 422 naming the position)
        return True

    async def _in_turn(self, scope: Scope, body: bytes, receive: Receive, send: Send, clients: Clients,
                       key: str, settings: Settings) -> None:
        """Check and run an API request in the client's turn: one at a time per client (its
        checks, validation and work alike), a few more waiting."""
        client = clients.get(key)
        if client.waiting >= settings.max_requests_per_client:
            msg = ("too many requests from your browser (or address) at once: "
                   f"at most {settings.max_requests_per_client} "
                   "(NP_MAX_REQUESTS_PER_CLIENT); wait for the answers")
            await error_response(429, msg, headers=retry_after(1))(scope, receive, send)
            return
        turn = clients.turn(key)
        client.waiting += 1
        released = False

        work = getattr(scope["app"].state, "work", None)
        running = False  # the request's work runs from its turn until its answer starts

        def release() -> None:
            nonlocal released, running
            if running:
                running = False
                work.stop_running(key)
            if not released:
                released = True
                turn.release()

        async def send_then_release(message: Message) -> None:
            if message["type"] == "http.response.start":
                release()  # the work is done; sending the answer is the network's part
            await send(message)

        token = CLIENT.set(key)
        try:
            with work.wanting(key) if work is not None else nullcontext():
                await turn.acquire()
                try:
                    if work is not None:
                        work.start_running(key)
                        running = True
                    await self._serve(scope, body, receive, send_then_release, settings)
                finally:
                    release()
        finally:
            CLIENT.reset(token)
            client.waiting -= 1

    async def _serve(self, scope: Scope, body: bytes, receive: Receive, send: Send,
                     settings: Settings) -> None:
        """The request, once it is its client's turn: its shape checked, then the app."""
        if await self._shape_ok(scope, body, receive, send, settings):
            loops = getattr(scope["app"].state, "api_loops", None)
            if loops is not None:  # validation, the work and the answer off this loop
                await loops.run(_Replayed(self.app, body), scope, receive, send)
            else:
                await self.app(scope, _replay(body, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, settings: Settings) -> None:
        msg = (f"the body is larger than {settings.max_body_bytes} bytes (NP_MAX_BODY_BYTES); send less, "
               "e.g. fewer points or a smaller picture")
        await error_response(413, msg, "too_large", ("body",), headers={"Connection": "close"})(
            scope, receive, send)

    @staticmethod
    async def _read_body(receive: Receive, most: int) -> bytes | None:
        """The whole body, or None as soon as it passes `most` bytes."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # the client left; the app will see an empty body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > most:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


class _Replayed:
    """The app, handed the body read already (on whichever loop it runs)."""

    def __init__(self, app: ASGIApp, body: bytes) -> None:
        self.app, self.body = app, body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, _replay(self.body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that hands the app the body read already, then waits for the client."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
