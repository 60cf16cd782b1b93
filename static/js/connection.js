// The connection banner every lab shares: what happened to the page's link to the server.
//
// showConnection(state, text, {action, onAction, hideAfter}) shows one line at the top of the
// page (fixed, so the lab's layout never moves) and marks <html data-connection="state">:
//   "reconnecting" the socket dropped, the page tries again;
//   "gone"         the server no longer has the session (it restarted, or the page sat idle);
//   "recreated"    the page started its run again from its link;
//   "full"         the server refuses new sessions for now and the page retries;
//   "refused"      the server refused for another reason (the text says which);
//   "connected"    back after a drop.
// hideConnection() removes it (data-connection="ok").

let box = null;
let hideTimer = null;

// The style is fetched now, while the server answers: the banner may first be needed when it
// does not. Until it has loaded the banner still sits on top of the page (inline position).
if (!document.querySelector('link[href="/static/css/connection.css"]')) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/static/css/connection.css";
  document.head.append(link);
}

function ensure() {
  if (box) return box;
  box = document.createElement("div");
  box.id = "np-connection";
  box.className = "np-connection";
  box.setAttribute("role", "status");
  box.setAttribute("aria-live", "polite");
  box.hidden = true;
  Object.assign(box.style, { position: "fixed", top: "8px", left: "50%", transform: "translateX(-50%)",
    zIndex: "1000" });
  const text = document.createElement("span");
  text.className = "np-connection-text";
  const button = document.createElement("button");
  button.type = "button";
  button.hidden = true;
  box.append(text, button);
  document.body.append(box);
  return box;
}

export function showConnection(state, text, { action = null, onAction = null, hideAfter = 0 } = {}) {
  const el = ensure();
  clearTimeout(hideTimer);
  el.className = `np-connection ${state}`;
  el.querySelector(".np-connection-text").textContent = text;
  const button = el.querySelector("button");
  button.hidden = !action;
  button.textContent = action || "";
  button.onclick = onAction;
  el.hidden = false;
  document.documentElement.dataset.connection = state;
  if (hideAfter) hideTimer = setTimeout(hideConnection, hideAfter);
}

export function hideConnection() {
  clearTimeout(hideTimer);
  if (box) box.hidden = true;
  document.documentElement.dataset.connection = "ok";
}
