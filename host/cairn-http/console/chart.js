// Line charts in SVG, drawn from samples the pages collect by polling.
// No library: a few series of at most a few hundred points each.

const palette = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#57606a"];
const namespace = "http://www.w3.org/2000/svg";

function svg(tag, attributes) {
  const made = document.createElementNS(namespace, tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  return made;
}

// Samples over time for named series, keeping the last `keep` of each.
export class Samples {
  constructor(keep = 150) {
    this.keep = keep;
    this.series = new Map();
  }

  add(name, time, value) {
    const points = this.series.get(name) ?? [];
    points.push({ time, value });
    while (points.length > this.keep) points.shift();
    this.series.set(name, points);
  }

  clear() {
    this.series.clear();
  }
}

// Draws `samples` into the <svg> `target`, with the latest value of each
// series in the legend and the peak on the axis.
export function draw(target, samples, unit) {
  const width = 420;
  const height = 170;
  const left = 52;
  const all = [...samples.series.values()].flat();
  target.setAttribute("viewBox", `0 0 ${width} ${height}`);
  target.setAttribute("role", "img");
  if (all.length === 0) {
    target.replaceChildren(svg("text", { x: left, y: height / 2, class: "axis" }));
    target.firstChild.textContent = "no samples yet";
    return;
  }
  const first = Math.min(...all.map((point) => point.time));
  const last = Math.max(...all.map((point) => point.time), first + 1);
  const peak = Math.max(1, ...all.map((point) => point.value));
  const x = (time) => left + ((time - first) / (last - first)) * (width - left - 8);
  const y = (value) => height - 20 - (value / peak) * (height - 36);
  const parts = [
    svg("line", { x1: left, y1: height - 20, x2: width - 8, y2: height - 20, class: "axis-line" }),
    Object.assign(svg("text", { x: 4, y: 16, class: "axis" }), { textContent: `${formatted(peak)} ${unit}` }),
    Object.assign(svg("text", { x: 4, y: height - 24, class: "axis" }), { textContent: "0" }),
    Object.assign(svg("text", { x: left, y: height - 4, class: "axis" }), { textContent: `last ${Math.round((last - first) / 1000)} s` }),
  ];
  let index = 0;
  const legend = [];
  for (const [name, points] of samples.series) {
    const color = palette[index++ % palette.length];
    const path = points.map((point, at) => `${at === 0 ? "M" : "L"}${x(point.time).toFixed(1)},${y(point.value).toFixed(1)}`).join(" ");
    parts.push(svg("path", { d: path, fill: "none", stroke: color, "stroke-width": 2 }));
    legend.push(`${name}: ${formatted(points.at(-1).value)} ${unit}`);
    parts.push(Object.assign(svg("text", { x: width - 8, y: 16 + 14 * (index - 1), "text-anchor": "end", fill: color, class: "legend" }), { textContent: legend.at(-1) }));
  }
  target.setAttribute("aria-label", legend.join("; "));
  target.replaceChildren(...parts);
}

function formatted(value) {
  return value >= 100 ? Math.round(value).toLocaleString() : value.toFixed(1);
}
