// A session's WebSocket, and the truth about the connection (static/js/connection.js):
// reconnecting after a drop, the server restarted, the session gone and rebuilt, the server full.
//
// A run survives its server: the stream keeps the newest journal the server sent (?journal=1,
// app/journal.py) and the units of the last frame shown. When the session is gone — the server
// restarted (4404, or 404 for the session), or the worker process that held it died behind the
// proxy (502/504 for the session) — the page creates the run again from the journal on whichever
// worker answers, replays its changes at their units and fast-forwards to the last frame's
// unit, then plays on if it played: the same network at the same step. The lab hears the new
// id through its `session(id)` handler; its handlers and the stream object stay the same. A
// run without a journal (or one too long to keep) starts again from the link (`recreate`).
//
// With {binary: true} the page asks for binary frames: one deflate-compressed message a frame,
// a JSON header then the grids' raw bytes (app/encoding.py binary_message). They arrive as the
// same objects as JSON frames, each grid with `bytes` (a Uint8Array) instead of base64 `data`;
// grid.js reads either.

import { hideConnection, showConnection } from "./connection.js";
import { describeError } from "./errors.js";

// The browser's token (app/limits.py): the server knows a browser by its np_browser cookie, but
// a lab framed by slides from another site cannot keep that cookie, so the page's own requests
// and sockets carry the token the page was served with.
const BROWSER = document.querySelector('meta[name="np-browser"]')?.content || "";
if (BROWSER && !window.npBrowserFetch) {
  const own = window.fetch.bind(window);
  window.npBrowserFetch = own;
  window.fetch = (input, init = {}) => {
    if (typeof input !== "string" || !input.startsWith("/") || input.startsWith("//")) return own(input, init);
    const headers = new Headers(init.headers || {});
    headers.set("X-NP-Browser", BROWSER);
    return own(input, { ...init, headers });
  };
}

export function wsURL(path) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const browser = BROWSER ? `${path.includes("?") ? "&" : "?"}browser=${encodeURIComponent(BROWSER)}` : "";
  return `${proto}//${location.host}${path}${browser}`;
}

const GONE = 4404; // the server has no such session (restarted, deleted, or evicted when idle)
const TOO_MANY = 4429; // this address has too many streams open
let server = null; // the id of the server process the page last heard from (status messages)
let latest = null; // the stream opened last: the one a recreated run plays on

function capital(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

/** An error answer's detail (a list of {loc, msg}, or text) as one line a person can read,
 * each field named by its label (errors.js). */
export function describeDetail(detail, fallback = "the server refused the request") {
  if (Array.isArray(detail) ? !detail.length : typeof detail !== "string") return fallback;
  return describeError(detail);
}

/**
 * POST a new session (JSON body) like fetch, but when the server is full or this address is
 * over its share (429/503), say so in the banner, wait the Retry-After seconds and try again
 * (or at once with "Retry now"). Resolves to the final Response.
 */
export async function postSession(url, body) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    if ((res.status !== 429 && res.status !== 503) || attempt >= 30) {
      if (attempt > 0) hideConnection();
      return res;
    }
    const answer = await res.clone().json().catch(() => null);
    const wait = Math.max(1, Math.min(120, Number(res.headers.get("Retry-After")) || 5));
    const problem = Array.isArray(answer?.detail) ? answer.detail[0] : null;
    const full = problem?.type === "server_full";
    const said = full && res.status === 503 // past NP_CAPACITY: students in use right now
      ? `The server is full: ${problem.ctx?.sessions ?? "many"} students are playing`
      : full
        ? `The server is full: ${problem.ctx?.sessions ?? "all its"} runs are open, ` +
          `${problem.ctx?.playing ?? "many"} of them playing`
        : capital(describeDetail(answer?.detail, "The server is busy"));
    const state = full ? "full" : "refused";
    await new Promise((resolve) => {
      let left = wait;
      const tick = () => {
        if (left <= 0) { clearInterval(timer); resolve(); return; }
        showConnection(state, `${said.replace(/[.;]?\s*$/, "")}. Trying again in ${left} s.`,
          { action: "Retry now", onAction: () => { clearInterval(timer); resolve(); } });
        left -= 1;
      };
      const timer = setInterval(tick, 1000);
      tick();
    });
  }
}

/**
 * openStream("/api/v1/mlp/sessions/ID/stream", {frame, status, config, error, open, close,
 *            session}, {recreate, binary}) returns {send(command), close()}. Commands sent
 * while connecting wait in a queue. After a dropped connection it asks for its session, then
 * reconnects (1 s, 2 s, then every 4 s), and the lab's status handler hears playing: false
 * meanwhile. When the session is gone it rebuilds the run from its journal (session(id) hears
 * the new id); without a journal, recreate() — the lab's own start from its current
 * parameters, opening a new stream — runs once, and the new run plays if the old one played;
 * without recreate the banner asks for a reload.
 */
export function openStream(path, handlers = {}, { recreate = null, binary = false } = {}) {
  let ws = null;
  let closed = false;
  let retry = 1000;
  let dropped = false;
  let resume = false; // it played when the connection dropped: play again once back
  let lastStatus = null;
  let journal = null; // the newest journal: what rebuilds the run elsewhere
  let units = 0; // of the last frame shown
  let order = Promise.resolve(); // messages are handled in the order they came, binary ones too
  const pending = [];
  const self = {
    send(command) {
      const text = JSON.stringify(command);
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(text);
      else pending.push(text);
    },
    close() { closed = true; ws?.close(); },
  };
  latest = self;

  function notPlaying() {
    if (lastStatus?.playing) {
      lastStatus = { ...lastStatus, playing: false };
      handlers.status?.(lastStatus);
    }
  }

  /** Create the run again from the journal, replay it to the last frame's unit: true if done. */
  async function rebuild(wasPlaying) {
    const [base] = parts(path);
    if (!base || !journal?.replayable) return false;
    const res = await postSession(base, journal.base).catch(() => null);
    if (!res?.ok) return false;
    const { id } = await res.json();
    path = `${base}/${id}/stream`;
    handlers.session?.(id);
    pending.unshift(JSON.stringify({ type: "replay", events: journal.events, units }));
    if (wasPlaying) pending.push(JSON.stringify({ type: "play" }));
    closed = false;
    dropped = false;
    resume = false;
    connect();
    return true;
  }

  async function gone(msg, workerDown = false) {
    closed = true;
    const wasPlaying = resume || Boolean(lastStatus?.playing);
    notPlaying();
    const restarted = msg?.server && server && msg.server !== server;
    const why = workerDown ? "The server process that ran this lab stopped"
      : restarted ? "The server restarted and lost this run" : "The server no longer has this run";
    if (journal?.replayable) {
      showConnection("gone", `${why}; rebuilding the run where it was…`);
      if (await rebuild(wasPlaying)) {
        showConnection("recreated", `${why}: the run was rebuilt at the same step${wasPlaying ? " and plays on" : ""}.`,
          { hideAfter: 8000 });
        return;
      }
    }
    if (!recreate) {
      showConnection("gone", `${why}: reload the page to start it again.`,
        { action: "Reload", onAction: () => location.reload() });
      return;
    }
    showConnection("gone", `${why}; starting it again from the link…`);
    try {
      await recreate();
    } catch (err) {
      showConnection("refused", `Could not start the run again: ${err?.message || err}.`,
        { action: "Reload", onAction: () => location.reload() });
      return;
    }
    if (latest === self) { // no new stream: the lab could not start a run and says why on the page
      showConnection("gone", `${why}, and it could not be started again: see the page, or reload it.`,
        { action: "Reload", onAction: () => location.reload() });
      return;
    }
    if (wasPlaying) latest.send({ type: "play" });
    showConnection("recreated", `${why}: started again from the link${wasPlaying ? " and playing" : ""}.`,
      { hideAfter: 8000 });
  }

  /** After a drop: is the session still there (reconnect), gone (rebuild), or the server away? */
  async function probe() {
    if (closed) return;
    const [base, id] = parts(path);
    const answer = base ? await fetch(`${base}/${id}`, { cache: "no-store" }).catch(() => null) : null;
    if (closed) return;
    if (answer && [502, 504].includes(answer.status)) gone(null, true); // its worker is down
    else connect(); // there, gone (the socket says so, naming the server), or nothing answers yet
  }

  function handle(msg, goneMessage) {
    if (msg.type === "error" && msg.code === "session_gone") { goneMessage.msg = msg; return; }
    if (msg.type === "error" && msg.code === "too_many_streams") {
      showConnection("refused", capital(msg.message));
      return;
    }
    if (msg.type === "journal") journal = msg;
    else if (msg.type === "frame" && Number.isInteger(msg.units)) units = msg.units;
    if (msg.type === "status") {
      if (dropped) {
        dropped = false;
        if (resume && !msg.playing && !msg.done) self.send({ type: "play" });
        resume = false;
        const restarted = msg.server && server && msg.server !== server;
        showConnection("connected", restarted ? "The server restarted; connected again." : "Connected again.",
          { hideAfter: 4000 });
      }
      if (msg.server) server = msg.server;
      lastStatus = msg;
    }
    handlers[msg.type]?.(msg);
  }

  function connect() {
    ws = new WebSocket(wsURL(`${path}?journal=1${binary ? "&frames=binary" : ""}`));
    ws.binaryType = "arraybuffer";
    const goneMessage = { msg: null };
    ws.onopen = () => {
      retry = 1000;
      while (pending.length) ws.send(pending.shift());
      handlers.open?.();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") {
        const msg = JSON.parse(ev.data);
        order = order.then(() => handle(msg, goneMessage));
      } else {
        const decoded = decodeBinary(ev.data);
        order = order.then(() => decoded).then((msg) => handle(msg, goneMessage),
          (err) => console.warn("a frame could not be read", err));
      }
    };
    ws.onclose = (ev) => {
      handlers.close?.(ev);
      order = order.then(() => closedWith(ev, goneMessage.msg));
    };
  }

  function closedWith(ev, goneMessage) {
    if (closed) return;
    if (ev.code === GONE) { gone(goneMessage); return; }
    if (!dropped) resume = Boolean(lastStatus?.playing);
    dropped = true;
    notPlaying();
    const wait = ev.code === TOO_MANY ? 10000 : retry + Math.random() * 500; // apart, after a restart
    const seconds = Math.round(wait / 1000);
    if (ev.code !== TOO_MANY) {
      showConnection("reconnecting", `Connection to the server lost; reconnecting in ${seconds} s…`,
        { action: "Now", onAction: () => { clearTimeout(timer); connect(); } });
    }
    const timer = setTimeout(ev.code === TOO_MANY ? connect : probe, wait);
    retry = Math.min(retry * 2, 4000);
  }

  connect();
  return self;
}

/** "/api/v1/mlp/sessions/ID/stream" → ["/api/v1/mlp/sessions", "ID"]. */
function parts(path) {
  const m = path.match(/^(.*\/sessions)\/([^/?]+)\/stream/);
  return m ? [m[1], m[2]] : [null, null];
}

/** A binary frame (zlib: header length, JSON header, grid bytes) as the object JSON would give. */
export async function decodeBinary(buffer) {
  const inflated = new Blob([buffer]).stream().pipeThrough(new DecompressionStream("deflate"));
  const bytes = new Uint8Array(await new Response(inflated).arrayBuffer());
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const msg = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n)));
  attachBlobs(msg, bytes, 4 + n);
  return msg;
}

function attachBlobs(obj, bytes, base) {
  if (Array.isArray(obj)) {
    if (obj.length && typeof obj[0] === "object") for (const v of obj) if (v) attachBlobs(v, bytes, base);
    return;
  }
  if (obj.blob) {
    const [offset, length] = obj.blob;
    obj.bytes = bytes.subarray(base + offset, base + offset + length);
    delete obj.blob;
    return;
  }
  for (const key in obj) {
    const v = obj[key];
    if (v && typeof v === "object") attachBlobs(v, bytes, base);
  }
}

/**
 * Commands for a session a page is still creating (or replacing): they wait, in order, until
 * attach(stream) and then go to that stream; detach() when the session goes, and what is sent
 * meanwhile waits for the next one. A key pressed while the page starts is not lost.
 */
export function commandQueue() {
  let stream = null;
  const waiting = [];
  return {
    send(command) {
      if (stream) stream.send(command);
      else waiting.push(command);
    },
    attach(next) {
      stream = next;
      while (waiting.length) stream.send(waiting.shift());
    },
    detach() { stream = null; },
  };
}
