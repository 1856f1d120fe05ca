// The district page for the education bureau (督导): counts per school and day from the district summary, a chart,
// and the weekdays on which a school recorded no service. Counts only; the device keeps the district code and the
// inspector's token, nothing else.

import { ApiError, api } from "./api.js";
import { svg } from "./chart.js";
import { DISTRICT_WORDS } from "./district-words.js";
import { addWords, currentLanguage, refusalText, setLanguage, t, translatePage } from "./i18n.js";
import { showNetwork } from "./session.js";

addWords(DISTRICT_WORDS);

const KEPT = "handoff.district";
const COLUMNS = ["children_served", "released", "absent", "late_pickups", "release_refusals", "corrections", "incidents"];
const MORE = ["missing_child_incidents", "unauthorised_pickup_incidents", "incidents_open"];
const message = document.getElementById("district-message");
const signin = document.getElementById("district-signin");
const view = document.getElementById("district-view");
const range = document.getElementById("range");
let shown = null;

function kept() {
  try {
    return JSON.parse(localStorage.getItem(KEPT));
  } catch {
    return null;
  }
}

function isoDay(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
}

function daysBetween(first, last) {
  const days = [];
  for (let at = new Date(`${first}T12:00:00Z`); isoDay(at) <= last && days.length < 400; at.setUTCDate(at.getUTCDate() + 1)) {
    days.push({ day: at.toISOString().slice(0, 10), weekday: at.getUTCDay() });
  }
  return days;
}

async function load(district, token, first, last) {
  const query = new URLSearchParams({ from: first, to: last });
  return api(`/api/v1/districts/${encodeURIComponent(district)}/summary?${query}`, { token });
}

function say(text, kind = "") {
  message.className = `message ${kind}`.trim();
  message.textContent = text;
}

function refused(error) {
  return error instanceof ApiError ? t("district.refused", { message: refusalText(error.code, error.message) }) : t("district.offline");
}

function cell(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  node.textContent = text;
  Object.assign(node, attributes);
  return node;
}

function renderTable(summary) {
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

function render() {
  if (shown) {
    renderTable(shown);
    renderNotOpen(shown);
    renderChart(shown);
  }
}

async function show(district, token) {
  say(t("district.checking"));
  try {
    shown = await load(district, token, range.from.value, range.to.value);
    say("");
    render();
    return true;
  } catch (error) {
    say(refused(error), "error");
    return false;
  }
}

function open(found) {
  document.getElementById("who").textContent = found.district;
  signin.hidden = true;
  view.hidden = false;
}

signin.addEventListener("submit", async (event) => {
  event.preventDefault();
  const found = { district: signin.district.value.trim(), token: signin.token.value.trim() };
  if (await show(found.district, found.token)) {
    localStorage.setItem(KEPT, JSON.stringify(found));
    open(found);
  }
});

range.addEventListener("submit", async (event) => {
  event.preventDefault();
  const found = kept();
  if (found) {
    await show(found.district, found.token);
  }
});

document.getElementById("lang").addEventListener("click", () => {
  setLanguage(currentLanguage() === "zh-CN" ? "en" : "zh-CN");
  translatePage();
  showNetwork();
  render();
});

document.getElementById("signout").addEventListener("click", () => {
  localStorage.removeItem(KEPT);
  location.reload();
});

const today = new Date();
const weekAgo = new Date(today);
weekAgo.setDate(today.getDate() - 6);
range.from.value = isoDay(weekAgo);
range.to.value = isoDay(today);
translatePage();
showNetwork();
const found = kept();
if (found && (await show(found.district, found.token))) {
  open(found);
} else {
  signin.hidden = false;
}
