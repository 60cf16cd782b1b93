// The drawing pad: ink with the mouse, a pen or a finger on a small canvas (its own pixels, not
// the screen's, so the bitmap sent is the same on every device). When a stroke ends, onDraw
// gets the ink as {height, width, data: base64 of one byte a pixel}; the server crops, scales
// and averages it down as the UCI digits were made.

export class DrawingPad {
  constructor(canvas, onDraw) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.onDraw = onDraw;
    this.last = null;
    this.empty = true;
    this.clear();
    canvas.addEventListener("pointerdown", (ev) => {
      canvas.setPointerCapture(ev.pointerId);
      this.last = this.point(ev);
      this.dot(this.last);
      ev.preventDefault();
    });
    canvas.addEventListener("pointermove", (ev) => {
      if (!this.last) return;
      const p = this.point(ev);
      this.line(this.last, p);
      this.last = p;
    });
    const end = () => {
      if (!this.last) return;
      this.last = null;
      this.empty = false;
      this.onDraw(this.bitmap());
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  point(ev) {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((ev.clientX - r.left) / r.width) * this.canvas.width,
      y: ((ev.clientY - r.top) / r.height) * this.canvas.height };
  }

  get brush() {
    return this.canvas.width * 0.1;
  }

  dot(p) {
    this.ctx.fillStyle = "#000";
    this.ctx.beginPath();
    this.ctx.arc(p.x, p.y, this.brush / 2, 0, 2 * Math.PI);
    this.ctx.fill();
  }

  line(a, b) {
    const ctx = this.ctx;
    ctx.strokeStyle = "#000";
    ctx.lineWidth = this.brush;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  }

  clear() {
    this.ctx.fillStyle = "#fff";
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.empty = true;
  }

  /** The ink (255 − grey) of every pixel, base64. */
  bitmap() {
    const { width, height } = this.canvas;
    const rgba = this.ctx.getImageData(0, 0, width, height).data;
    let text = "";
    for (let i = 0; i < width * height; i++) text += String.fromCharCode(255 - rgba[i * 4]);
    return { height, width, data: btoa(text) };
  }
}
