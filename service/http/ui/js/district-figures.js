// The district summary's figures as the pages show them: a table per school and day, the weekdays on which a school
// recorded no service, and a chart of children served and released per day. Counts only. Shared by the district
// page (every school of the district) and the school admin's page (their own school).

import { svg } from "./chart.js";
import { t } from "./i18n.js";

const COLUMNS = ["children_served", "released", "absent", "late_pickups", "release_refusals", "corrections", "incidents"];
const MORE = ["missing_child_incidents", "unauthorised_pickup_incidents", "incidents_open"];
const HEADINGS = ["school", "day", "served", "released", "absent", "late", "refusals", "corrections", "incidents", "missing", "unauthorised", "open"];

export function isoDay(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
}

function daysBetween(first, last) {
  const days = [];
  for (let at = new Date(`${first}T12:00:00Z`); isoDay(at) <= last && days.length < 400; at.setUTCDate(at.getUTCDate() + 1)) {
    days.push({ day: at.toISOString().slice(0, 10), weekday: at.getUTCDay() });
  }
  return days;
}

function cell(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  node.textContent = text;
  Object.assign(node, attributes);
  return node;
}

/** A table's head row from its columns' word keys (the pages' tables are declared once, here and in disclosures.js). */
export function renderHead(table, keys) {
  const row = document.createElement("tr");
  row.append(...keys.map((key) => cell("th", t(key), { scope: "col" })));
  (table.tHead ?? table.createTHead()).replaceChildren(row);
}

function renderTable(summary) {
  renderHead(document.getElementById("summary"), HEADINGS.map((name) => `district.col.${name}`));
  const body = document.querySelector("#summary tbody");
  const rows = summary.items.map((item) => {
    const row = document.createElement("tr");
    row.dataset.school = item.school_id;
    row.dataset.day = item.service_day;
    row.append(cell("th", item.school_id, { scope: "row" }), cell("td", item.service_day));
    for (const name of [...COLUMNS, ...MORE]) {
      row.append(cell("td", String(item[name]), { className: `n ${name}` }));
    }
    return row;
  });
  if (!rows.length) {
    const row = document.createElement("tr");
    row.append(cell("td", t("district.none"), { colSpan: 2 + COLUMNS.length + MORE.length }));
    rows.push(row);
  }
  body.replaceChildren(...rows);
}

function renderNotOpen(summary) {
  const seen = new Set(summary.items.map((item) => `${item.school_id}/${item.service_day}`));
  const weekdays = daysBetween(summary.day_from, summary.day_to).filter((d) => d.weekday >= 1 && d.weekday <= 5);
  const missing = summary.schools.flatMap((school) =>
    weekdays.filter((d) => !seen.has(`${school}/${d.day}`)).map((d) => ({ school, ...d })),
  );
  const list = document.getElementById("not-open");
  const items = missing.map((m) =>
    cell("li", t("district.not_open.item", { school: m.school, day: m.day, weekday: t(`weekday.${m.weekday}`) })),
  );
  list.replaceChildren(...(items.length ? items : [cell("li", t("district.not_open.none"))]));
}

function renderChart(summary) {
  const days = daysBetween(summary.day_from, summary.day_to);
  const totals = new Map(days.map((d) => [d.day, { served: 0, released: 0 }]));
  for (const item of summary.items) {
    const day = totals.get(item.service_day);
    if (day) {
      day.served += item.children_served;
      day.released += item.released;
    }
  }
  const [width, height, left, bottom] = [640, 220, 40, 40];
  const top = Math.max(4, ...[...totals.values()].map((d) => d.served));
  const slot = (width - left - 10) / Math.max(1, days.length);
  const y = (n) => height - bottom - (n / top) * (height - bottom - 16);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": t("district.chart.label"), class: "chart-svg" });
  chart.append(svg("title", {}, t("district.chart")));
  for (const n of [0, Math.round(top / 2), top]) {
    chart.append(svg("line", { x1: left, x2: width - 10, y1: y(n), y2: y(n), class: "grid" }));
    chart.append(svg("text", { x: left - 6, y: y(n) + 4, class: "axis end" }, String(n)));
  }
  days.forEach((d, i) => {
    const x = left + i * slot;
    const bar = Math.max(2, slot / 2 - 3);
    const { served, released } = totals.get(d.day);
    chart.append(svg("rect", { x: x + 2, y: y(served), width: bar, height: y(0) - y(served), class: "bar served" }));
    chart.append(svg("rect", { x: x + 2 + bar, y: y(released), width: bar, height: y(0) - y(released), class: "bar released" }));
    if (days.length <= 16 || i % Math.ceil(days.length / 16) === 0) {
      chart.append(svg("text", { x: x + slot / 2, y: height - 22, class: "axis middle" }, d.day.slice(5)));
    }
  });
  chart.append(svg("rect", { x: left, y: height - 14, width: 10, height: 10, class: "bar served" }));
  chart.append(svg("text", { x: left + 14, y: height - 5, class: "axis" }, t("district.legend.served")));
  chart.append(svg("rect", { x: left + 120, y: height - 14, width: 10, height: 10, class: "bar released" }));
  chart.append(svg("text", { x: left + 134, y: height - 5, class: "axis" }, t("district.legend.released")));
  document.getElementById("district-chart").replaceChildren(chart);
}

function node(tag, attributes = {}, children = []) {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    made.setAttribute(name, value);
  }
  made.append(...children);
  return made;
}

function worded(tag, key, attributes = {}) {
  return node(tag, { ...attributes, "data-i18n": key }, [t(key)]);
}

/** Builds the figures' section inside `section` (the range form, the chart, the weekdays without service, the table),
 * with the headings its data-note, data-chart and data-table attributes name: the district page and the school
 * admin's page declare only those words. Call it before looking up #range. */
export function mountFigures(section) {
  const { note, chart, table } = section.dataset;
  const range = node("form", { id: "range", class: "range" }, [
    worded("label", "district.from", { for: "day-from" }),
    node("input", { id: "day-from", name: "from", type: "date", required: "" }),
    worded("label", "district.to", { for: "day-to" }),
    node("input", { id: "day-to", name: "to", type: "date", required: "" }),
    worded("button", "district.show", { type: "submit", id: "show" }),
  ]);
  const scroller = node("div", { class: "table-scroll" }, [
    node("table", { id: "summary" }, [node("thead"), node("tbody")]),
  ]);
  section.prepend(
    range,
    worded("p", note, { class: "note" }),
    worded("h2", chart),
    node("div", { id: "district-chart", class: "chart" }),
    worded("h2", "district.not_open"),
    node("ul", { id: "not-open", class: "not-open" }),
    worded("h2", table),
    scroller,
  );
}

/** Every figure of `summary` in the page. */
export function renderFigures(summary) {
  renderTable(summary);
  renderNotOpen(summary);
  renderChart(summary);
}
