// A session's WebSocket: send commands, receive frames/status/config/error messages.
// Reconnects after a dropped connection. When the session is gone — the server restarted, or
// the worker process that held it died (the proxy answers 502) — the page rebuilds the run:
// it creates it again from the newest journal the stream sent (app/journal.py) on whichever
// worker answers, replays the journal's changes at their units and fast-forwards to the unit of
// the last frame it showed, then plays on if it played. The lab hears the new session's id
// through its `session(id)` handler; everything else (its handlers, the stream object it
// holds) stays the same.
//
// With {binary: true} the page asks for binary frames: one deflate-compressed message a frame,
// a JSON header then the grids' raw bytes (app/encoding.py binary_message). They arrive as the
// same objects as JSON frames, each grid with `bytes` (a Uint8Array) instead of base64 `data`;
// grid.js reads either.

export function wsURL(path) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}

const GONE = 4404; // the server has no such session

/** "/api/v1/mlp/sessions/ID/stream" → ["/api/v1/mlp/sessions", "ID"]. */
function parts(path) {
  const m = path.match(/^(.*\/sessions)\/([^/?]+)\/stream/);
  return m ? [m[1], m[2]] : [null, null];
}

/**
 * openStream("/api/v1/mlp/sessions/ID/stream", {frame, status, config, error, open, close,
 * session, rebuilt}, {binary}) returns {send(command), close()}. Commands sent while connecting wait in
 * a queue. `session(id)` hears the id of a rebuilt run; `rebuilt({units})` that it is back.
 */
export function openStream(path, handlers = {}, { binary = false } = {}) {
  let ws = null;
  let closed = false;
  let retry = 500;
  let journal = null; // the newest journal: what rebuilds the run elsewhere
  let units = 0; // of the last frame shown
  let playing = false;
  let rebuilding = false;
  let order = Promise.resolve(); // messages are handled in the order they came, binary ones too
  const pending = [];

  function handle(msg) {
    if (msg.type === "journal") journal = msg;
    else if (msg.type === "frame" && Number.isInteger(msg.units)) units = msg.units;
    else if (msg.type === "status" && !rebuilding) playing = msg.playing;
    handlers[msg.type]?.(msg);
  }

  function connect() {
    ws = new WebSocket(wsURL(`${path}?journal=1${binary ? "&frames=binary" : ""}`));
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      retry = 500;
      while (pending.length) ws.send(pending.shift());
      handlers.open?.();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") {
        const msg = JSON.parse(ev.data);
        order = order.then(() => handle(msg));
      } else {
        const decoded = decodeBinary(ev.data);
        order = order.then(() => decoded).then(handle, (err) => console.warn("a frame could not be read", err));
      }
    };
    ws.onclose = (ev) => {
      handlers.close?.(ev);
      if (closed) return;
      if (ev.code === GONE) { rebuild(); return; }
      setTimeout(probe, retry);
      retry = Math.min(retry * 2, 8000);
    };
  }

  /** After a drop: is the session still there (reconnect), gone (rebuild), or the server away? */
  async function probe() {
    if (closed) return;
    const [base, id] = parts(path);
    const answer = base ? await fetch(`${base}/${id}`, { cache: "no-store" }).catch(() => null) : null;
    if (answer && [404, 502, 504].includes(answer.status)) rebuild();
    else connect(); // there, or nothing answers at all yet: try the socket again
  }

  async function rebuild() {
    const [base] = parts(path);
    if (rebuilding || closed || !base) return;
    if (!journal?.replayable) {
      handlers.error?.({ type: "error", message: "The server lost this run and it cannot be rebuilt here: reload the page to start it again." });
      return;
    }
    rebuilding = true;
    const wasPlaying = playing;
    handlers.status?.({ type: "status", playing: false, rebuilding: true });
    try {
      let res;
      for (let attempt = 0; attempt < 30; attempt++) {
        res = await fetch(base, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(journal.base),
        }).catch(() => null);
        if (res && ![429, 502, 503, 504].includes(res.status)) break;
        const wait = Number(res?.headers.get("Retry-After")) || 2;
        await new Promise((resolve) => setTimeout(resolve, 1000 * Math.min(30, wait)));
      }
      if (!res?.ok) throw new Error(`the server answered ${res ? res.status : "nothing"}`);
      const { id } = await res.json();
      path = `${base}/${id}/stream`;
      handlers.session?.(id);
      pending.unshift(JSON.stringify({ type: "replay", events: journal.events, units }));
      if (wasPlaying) pending.push(JSON.stringify({ type: "play" }));
      rebuilding = false;
      connect();
      handlers.rebuilt?.({ units });
    } catch (err) {
      rebuilding = false;
      handlers.error?.({ type: "error", message: `The server lost this run and could not rebuild it (${err.message}): reload the page.` });
    }
  }

  connect();
  return {
    send(command) {
      const text = JSON.stringify(command);
      if (ws && ws.readyState === WebSocket.OPEN && !rebuilding) ws.send(text);
      else pending.push(text);
    },
    close() { closed = true; ws?.close(); },
  };
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
