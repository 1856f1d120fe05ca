// Children on site over the day as a plain inline SVG step line (no chart library).

import { timeOf } from "./format.js";
import { t } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 600;
const HEIGHT = 220;
const PAD = { left: 44, right: 24, top: 14, bottom: 34 };

export function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value);
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

export function drawChart(container, series, timeZone) {
  const starts = Date.parse(series.starts);
  const ends = Math.max(Date.parse(series.ends), starts + 1);
  const top = Math.max(4, ...series.points.map((p) => p.on_site));
  const x = (at) => PAD.left + ((Date.parse(at) - starts) / (ends - starts)) * (WIDTH - PAD.left - PAD.right);
  const y = (n) => HEIGHT - PAD.bottom - (n / top) * (HEIGHT - PAD.top - PAD.bottom);
  const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": t("board.chart.label"), class: "chart-svg" });
  chart.append(svg("title", {}, t("board.chart")));
  for (const n of [0, Math.round(top / 2), top]) {
    chart.append(svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(n), y2: y(n), class: "grid" }));
    chart.append(svg("text", { x: PAD.left - 6, y: y(n) + 4, class: "axis end" }, String(n)));
  }
  const step = 2 * 3600 * 1000;
  for (let at = Math.ceil(starts / step) * step; at <= ends; at += step) {
    const iso = new Date(at).toISOString();
    chart.append(svg("text", { x: x(iso), y: HEIGHT - 10, class: "axis middle" }, timeOf(iso, timeZone)));
  }
  let path = "";
  let previous = null;
  for (const point of series.points) {
    path += previous === null ? `M${x(point.at)},${y(point.on_site)}` : ` H${x(point.at)} V${y(point.on_site)}`;
    previous = point;
  }
  chart.append(svg("path", { d: path, class: "line" }));
  const last = series.points.at(-1);
  chart.append(svg("circle", { cx: x(last.at), cy: y(last.on_site), r: 4, class: "dot" }));
  container.replaceChildren(chart);
}
