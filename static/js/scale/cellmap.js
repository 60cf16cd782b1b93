// The cell map: one box per (depth, width, training-set size), seeds together, coloured by
// state: waiting, training here, held by a student (their number), done (the test error).

const pct = (v) => `${+(v * 100).toPrecision(v < 0.1 ? 2 : 3)}%`;

export function drawCellMap(box, cells) {
  const widths = [...new Set(cells.map((c) => c.width))].sort((a, b) => a - b);
  const rows = [...new Set(cells.map((c) => `${c.depth}/${c.train_size}`))]
    .map((k) => k.split("/").map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const depths = new Set(rows.map((r) => r[0]));
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  const corner = document.createElement("th");
  corner.textContent = "images ╲ width";
  corner.scope = "col";
  head.append(corner);
  for (const w of widths) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = w;
    head.append(th);
  }
  const body = table.createTBody();
  for (const [d, n] of rows) {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = depths.size > 1 ? `${d} × · ${n}` : n;
    tr.append(th);
    for (const w of widths) {
      const group = cells.filter((c) => c.width === w && c.depth === d && c.train_size === n);
      const td = tr.insertCell();
      const done = group.filter((c) => c.status === "done" && c.result);
      const leased = group.filter((c) => c.status === "leased");
      const running = group.some((c) => c.status === "running");
      let state = "pending";
      if (done.length === group.length) state = "done";
      else if (running) state = "running";
      else if (leased.length) state = "leased";
      td.className = `box ${state}`;
      if (state === "done") {
        const mean = done.reduce((s, c) => s + c.result.test_error, 0) / done.length;
        td.textContent = pct(mean);
        td.style.setProperty("--shade", String(Math.min(1, mean * 2)));
        td.title = `width ${w}, ${n} images: test error ${pct(mean)}` +
          (done.some((c) => c.source === "student") ? ` (from student ${done.map((c) => c.student).filter(Boolean).join(", ")})` : "");
      } else if (state === "leased") {
        td.textContent = leased.map((c) => `#${c.student}`).join(" ");
        td.title = `student ${leased.map((c) => c.student).join(", ")} is training it`;
      } else {
        td.textContent = running ? "…" : group.length > 1 ? `${done.length}/${group.length}` : "";
        td.title = running ? "training on the server" : "waiting";
      }
    }
  }
  box.replaceChildren(table);
}
