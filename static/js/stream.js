// A session's WebSocket, and the truth about the connection (static/js/connection.js):
// reconnecting after a drop, the server restarted, the session gone and started again from
// the page's link, the server full.

import { hideConnection, showConnection } from "./connection.js";

export function wsURL(path) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}

const GONE = 4404; // the server has no such session (restarted, deleted, or evicted when idle)
const TOO_MANY = 4429; // this address has too many streams open
let server = null; // the id of the server process the page last heard from (status messages)
let latest = null; // the stream opened last: the one a recreated run plays on

function capital(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

/** An error answer's detail (a list of {loc, msg}, or text) as one line a person can read. */
export function describeDetail(detail, fallback = "the server refused the request") {
  if (Array.isArray(detail)) {
    return detail.map((e) => {
      const where = (e.loc || []).filter((p) => p !== "body" && p !== "query").join(".");
      return where ? `${where}: ${e.msg}` : e.msg;
    }).join("; ");
  }
  return typeof detail === "string" ? detail : fallback;
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
    const said = full
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
 * openStream("/api/v1/mlp/sessions/ID/stream", {frame, status, config, error, open, close},
 *            {recreate}) returns {send(command), close()}. Commands sent while connecting wait in
 * a queue. After a dropped connection it reconnects (1 s, 2 s, then every 4 s), and the lab's
 * status handler hears playing: false meanwhile. When the server says the session is gone,
 * recreate() — the lab's own start from its current parameters, opening a new stream — runs
 * once, and the new run plays if the old one played; without recreate the banner asks for a
 * reload.
 */
export function openStream(path, handlers = {}, { recreate = null } = {}) {
  let ws = null;
  let closed = false;
  let retry = 1000;
  let dropped = false;
  let resume = false; // it played when the connection dropped: play again once back
  let lastStatus = null;
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

  async function gone(msg) {
    closed = true;
    const wasPlaying = resume || Boolean(lastStatus?.playing);
    notPlaying();
    const restarted = msg?.server && server && msg.server !== server;
    const why = restarted ? "The server restarted and lost this run" : "The server no longer has this run";
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

  function connect() {
    ws = new WebSocket(wsURL(path));
    let goneMessage = null;
    ws.onopen = () => {
      retry = 1000;
      while (pending.length) ws.send(pending.shift());
      handlers.open?.();
    };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type === "error" && msg.code === "session_gone") { goneMessage = msg; return; }
      if (msg.type === "error" && msg.code === "too_many_streams") {
        showConnection("refused", capital(msg.message));
        return;
      }
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
    };
    ws.onclose = (ev) => {
      handlers.close?.(ev);
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
      const timer = setTimeout(connect, wait);
      retry = Math.min(retry * 2, 4000);
    };
  }
  connect();
  return self;
}
