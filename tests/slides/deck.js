// Slide navigation for deck.html: arrow keys / PageUp / PageDown / Home / End, #n in the URL,
// and "p" to play or pause the labs on the current slide (postMessage to the playground's
// shell.js, which accepts {np: "toggle"}). Iframes get their src from data-src and ?base=.

const base = new URLSearchParams(location.search).get("base") || "http://127.0.0.1:8000";
const slides = [...document.querySelectorAll(".slide")];
let current = 0;

for (const frame of document.querySelectorAll("iframe[data-src]")) {
  frame.src = new URL(frame.dataset.src, base).href;
}

function show(n) {
  current = Math.max(0, Math.min(slides.length - 1, n));
  slides.forEach((s, i) => s.classList.toggle("current", i === current));
  document.getElementById("slide-number").textContent = current + 1;
  history.replaceState(null, "", `${location.pathname}${location.search}#${current + 1}`);
}

document.getElementById("slide-count").textContent = slides.length;
document.addEventListener("keydown", (ev) => {
  const moves = { ArrowRight: 1, PageDown: 1, ArrowLeft: -1, PageUp: -1 };
  if (ev.key in moves) show(current + moves[ev.key]);
  else if (ev.key === "Home") show(0);
  else if (ev.key === "End") show(slides.length - 1);
  else if (ev.key === "p") {
    for (const frame of slides[current].querySelectorAll("iframe")) frame.contentWindow.postMessage({ np: "toggle" }, "*");
  } else return;
  ev.preventDefault();
});

show((parseInt(location.hash.slice(1), 10) || 1) - 1);
