// A session's WebSocket: send commands, receive frames/status/config/error messages.
// Reconnects after a dropped connection (not after the server says the session is gone).

export function wsURL(path) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}

/**
 * openStream("/api/v1/mlp/sessions/ID/stream", {frame, status, config, error, open, close})
 * returns {send(command), close()}. Commands sent while connecting wait in a queue.
 */
export function openStream(path, handlers = {}) {
  let ws = null;
  let closed = false;
  let retry = 500;
  const pending = [];

  function connect() {
    ws = new WebSocket(wsURL(path));
    ws.onopen = () => {
      retry = 500;
      while (pending.length) ws.send(pending.shift());
      handlers.open?.();
    };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      handlers[msg.type]?.(msg);
    };
    ws.onclose = (ev) => {
      handlers.close?.(ev);
      if (!closed && ev.code !== 4404) {
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 8000);
      }
    };
  }
  connect();
  return {
    send(command) {
      const text = JSON.stringify(command);
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(text);
      else pending.push(text);
    },
    close() { closed = true; ws?.close(); },
  };
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
