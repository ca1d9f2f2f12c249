
const NS = "http://www.w3.org/2000/svg";
function el(tag, attrs, parent) { const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v); if (parent) parent.appendChild(e); return e; }
function niceTicks(lo, hi, n) {
  const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n)));
  const s = [1, 2, 5, 10].map(k => k * step).find(k => (hi - lo) / k <= n);
  const out = []; for (let t = Math.ceil(lo / s) * s; t <= hi + 1e-9 * s; t += s) out.push(+t.toFixed(10));
  return out;
}
const minus = s => String(s).replace(/-/g, "\u2212");
// a plot in svg: returns {sx, sy, g} where g is the clipped group for curves
function plot(svg, box, xlo, xhi, ylo, yhi, xlabel, ylabel) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const W = +svg.getAttribute("width"), H = +svg.getAttribute("height"), m = box;
  // drawn in its own W x H units, shown as wide as the window allows (no horizontal scroll)
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`); svg.style.width = "100%"; svg.style.maxWidth = `${W}px`;
  svg.style.height = "auto";
  const sx = v => m.l + (v - xlo) / (xhi - xlo) * (W - m.l - m.r);
  const sy = v => H - m.b - (v - ylo) / (yhi - ylo) * (H - m.t - m.b);
  const id = "clip-" + svg.id;
  const clip = el("clipPath", {id}, el("defs", {}, svg));
  el("rect", {x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b}, clip);
  const axis = el("g", {stroke: "#444", "font-size": 13, fill: "#333"}, svg);
  el("path", {d: `M${m.l},${m.t}V${H - m.b}H${W - m.r}`, fill: "none"}, axis);
  for (const t of niceTicks(xlo, xhi, 10)) {
    el("line", {x1: sx(t), x2: sx(t), y1: H - m.b, y2: H - m.b + 4}, axis);
    el("text", {x: sx(t), y: H - m.b + 18, "text-anchor": "middle", stroke: "none"}, axis).textContent = minus(t);
  }
  for (const t of niceTicks(ylo, yhi, 7)) {
    el("line", {x1: m.l - 4, x2: m.l, y1: sy(t), y2: sy(t)}, axis);
    el("text", {x: m.l - 7, y: sy(t) + 4, "text-anchor": "end", stroke: "none"}, axis).textContent = minus(t);
  }
  el("text", {x: (m.l + W - m.r) / 2, y: H - 6, "text-anchor": "middle", stroke: "none"}, axis).textContent = xlabel;
  const yl = el("text", {x: 0, y: 0, "text-anchor": "middle", stroke: "none",
                         transform: `translate(14,${(m.t + H - m.b) / 2}) rotate(-90)`}, axis);
  yl.textContent = ylabel;
  const g = el("g", {"clip-path": `url(#${id})`}, svg);
  return {sx, sy, g, W, H, m};
}
function line(p, xs, ys, attrs) {
  const d = xs.map((x, i) => `${i ? "L" : "M"}${p.sx(x).toFixed(2)},${p.sy(ys[i]).toFixed(2)}`).join("");
  return el("path", {d, fill: "none", ...attrs}, p.g);
}
function vline(p, x, attrs) {
  return el("line", {x1: p.sx(x), x2: p.sx(x), y1: p.m.t, y2: p.H - p.m.b, ...attrs}, p.g);
}
function dot(p, x, y, colour, r) { return el("circle", {cx: p.sx(x), cy: p.sy(y), r: r || 5, fill: colour}, p.g); }
