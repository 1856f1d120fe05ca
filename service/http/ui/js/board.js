// The duty leader's board: live occupancy over the stream, children awaiting pickup, open incidents, the day's
// chart, and the actions of the duty leader (headcounts, incidents, emergency mode).

import { ApiError, api, deviceId, randomKey, schoolPath } from "./api.js";
import { drawChart } from "./chart.js";
import { el, placeLabel, timeOf } from "./format.js";
import { refusalText, t } from "./i18n.js";
import { followLive } from "./live.js";
import { keepPagesOffline, loadSchoolCard, requireSession, setUpHeader } from "./session.js";

const current = requireSession();
const TOTALS = ["expected", "in_care", "guardian_arrived", "confirmed", "released", "absent", "expected_not_seen", "waiting_after_batch"];
const EMERGENCY_POLL_MS = 3000;
const POLICY_DELAY_MS = 1500;
const EXTRAS_POLL_MS = 15000; // incidents change without changing occupancy, so the stream does not announce them
const state = { card: null, snapshot: null, awaiting: [], incidents: [], series: null, liveState: "reconnecting" };

function path(suffix) {
  return schoolPath(current.school, suffix);
}

/** The result line; `words` is a function, so that it is said again in the other language after a switch. */
function showResult(kind, words) {
  state.result = { kind, words };
  const banner = document.getElementById("result");
  banner.className = `message ${kind}`;
  banner.textContent = words();
}

function failed(error) {
  showResult("error", () => (error instanceof ApiError ? refusalText(error.code, error.message) : t("error.network")));
}

async function command(suffix, body) {
  return api(path(suffix), {
    method: "POST",
    body: { device_id: deviceId(), device_time: new Date().toISOString(), ...body },
    headers: { "Idempotency-Key": randomKey() },
  });
}

// Live occupancy

function renderTotals() {
  for (const name of TOTALS) {
    document.getElementById(`total-${name}`).textContent = state.snapshot ? String(state.snapshot[name]) : "–";
  }
  document.querySelector(".total.late").classList.toggle("alert", (state.snapshot?.waiting_after_batch ?? 0) > 0);
}

function renderTables() {
  const classes = document.querySelector("#classes tbody");
  const places = document.querySelector("#places tbody");
  const snapshot = state.snapshot ?? { classes: [], places: [] };
  classes.replaceChildren(
    ...snapshot.classes.map((c) =>
      el(
        "tr",
        { "data-class": c.temporary_class ?? "" },
        el("td", {}, placeLabel(state.card, c.temporary_class)),
        el("td", {}, String(c.expected)),
        el("td", {}, String(c.present)),
        el("td", { class: "in-care" }, String(c.in_care)),
      ),
    ),
  );
  places.replaceChildren(
    ...snapshot.places.map((p) =>
      el(
        "tr",
        { "data-place": p.place_code ?? "" },
        el("td", {}, placeLabel(state.card, p.place_code)),
        el("td", { class: "in-care" }, String(p.in_care)),
        el("td", {}, p.custodians.filter(Boolean).join(", ")),
      ),
    ),
  );
}

function renderAwaiting() {
  const list = document.getElementById("awaiting");
  if (!state.awaiting.length) {
    list.replaceChildren(el("li", { class: "hint" }, t("board.awaiting.none")));
    return;
  }
  list.replaceChildren(
    ...state.awaiting.map((c) =>
      el(
        "li",
        { class: c.late ? "late" : c.guardian_arrived ? "arrived" : "", "data-child": c.child_id },
        el("strong", {}, c.name || c.child_id),
        el("span", {}, [c.child_id, c.home_class, placeLabel(state.card, c.place_code), c.custodian_id].filter(Boolean).join(" · ")),
        el(
          "span",
          { class: "tags" },
          c.late ? el("span", { class: "tag late" }, t("awaiting.late")) : null,
          c.guardian_arrived ? el("span", { class: "tag arrived" }, t("awaiting.arrived")) : null,
          c.confirmed ? el("span", { class: "tag" }, t("awaiting.confirmed")) : null,
          c.batch_ends_at ? el("span", { class: "tag plain" }, t("awaiting.batch", { time: c.batch_ends_at.slice(0, 5) })) : null,
        ),
      ),
    ),
  );
}

function renderIncidents() {
  const list = document.getElementById("incidents");
  if (!state.incidents.length) {
    list.replaceChildren(el("li", { class: "hint" }, t("board.incidents.none")));
    return;
  }
  list.replaceChildren(
    ...state.incidents.map((incident) => {
      const outcome = el("input", { "aria-label": t("field.outcome"), placeholder: t("field.outcome"), maxlength: "1000" });
      const resolve = async () => {
        try {
          await command(`incidents/${encodeURIComponent(incident.incident_id)}/resolution`, { outcome: outcome.value.trim() || "-" });
          await refreshExtras();
        } catch (error) {
          failed(error);
        }
      };
      return el(
        "li",
        { class: `incident ${incident.kind}${incident.urgent ? " urgent" : ""}`, "data-incident": incident.incident_id },
        el("strong", {}, incident.urgent ? `⚠ ${t(`incident.${incident.kind}`)}` : t(`incident.${incident.kind}`)),
        el("span", {}, `${timeOf(incident.opened_at, state.card?.time_zone)} · ${incident.children.join(", ")}`),
        el("span", { class: "summary" }, summaryText(incident)),
        el("div", { class: "row" }, outcome, el("button", { type: "button", class: "small", onclick: resolve }, t("action.resolve"))),
      );
    }),
  );
}

/** What happened, in the page's language: a policy's incident from what opened it, staff's own words as written. */
function summaryText(incident) {
  if (incident.origin === "refusal") {
    const reasons = [...new Set(incident.attempts)].map((code) => t(`reason.${code}`));
    return t("incident.summary.refusal", { n: incident.attempts.length, reasons: reasons.join(t("list.separator")) });
  }
  if (incident.origin === "headcount") {
    return t("incident.summary.headcount", { n: incident.children.length });
  }
  if (["late_sweep", "gate_limit"].includes(incident.origin)) {
    return t(`incident.summary.${incident.origin}`);
  }
  return incident.summary;
}

function renderEmergency() {
  const banner = document.getElementById("emergency-banner");
  const on = Boolean(state.card?.emergency);
  banner.hidden = !on;
  document.body.classList.toggle("in-emergency", on);
  if (on) {
    banner.textContent = t("board.emergency", { point: placeLabel(state.card, state.card.reunification_point) });
  }
}

function renderChart() {
  if (state.series) {
    drawChart(document.getElementById("chart"), state.series, state.card?.time_zone);
  }
}

function renderLiveState() {
  const badge = document.getElementById("live-state");
  badge.textContent = t(state.liveState === "live" ? "board.live" : "board.reconnecting");
  badge.className = state.liveState === "live" ? "badge ok" : "badge warn";
}

function renderForms() {
  const places = state.card?.places ?? [];
  for (const id of ["headcount-place", "emergency-point"]) {
    const select = document.getElementById(id);
    const chosen = select.value;
    select.replaceChildren(...places.map((p) => el("option", { value: p.code, selected: p.code === chosen }, placeLabel(state.card, p.code))));
  }
  const kinds = document.getElementById("incident-kind");
  const kind = kinds.value;
  kinds.replaceChildren(...(state.card?.incident_kinds ?? []).map((k) => el("option", { value: k, selected: k === kind }, t(`incident.${k}`))));
}

function renderAll() {
  renderTotals();
  renderTables();
  renderAwaiting();
  renderIncidents();
  renderEmergency();
  renderChart();
  renderLiveState();
  renderForms();
  if (state.result) {
    showResult(state.result.kind, state.result.words);
  }
}

let extrasTimer = null;

function onSnapshot(snapshot) {
  state.snapshot = snapshot;
  renderTotals();
  renderTables();
  clearTimeout(extrasTimer);
  extrasTimer = setTimeout(refreshExtras, 50);
}

async function refreshExtras() {
  const [awaiting, series, incidents] = await Promise.allSettled([
    api(path("ui/awaiting-pickup")),
    api(path("ui/on-site")),
    api(path("ui/incidents")),
  ]);
  if (awaiting.status === "fulfilled") {
    state.awaiting = awaiting.value.items;
    renderAwaiting();
  }
  if (series.status === "fulfilled") {
    state.series = series.value;
    renderChart();
  }
  if (incidents.status === "fulfilled") {
    state.incidents = incidents.value.items;
    renderIncidents();
  }
}

async function refreshMode() {
  try {
    state.card = await loadSchoolCard(current);
    renderEmergency();
  } catch {
    // shown again at the next poll
  }
}

// Actions

document.getElementById("incident-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const children = document
    .getElementById("incident-children")
    .value.split(/[,，\s]+/)
    .filter(Boolean);
  try {
    await command("incidents", {
      kind: document.getElementById("incident-kind").value,
      children,
      summary: document.getElementById("incident-summary").value.trim(),
    });
    event.target.reset();
    showResult("ok", () => t("result.recorded", { kind: t("kind.incident"), child: children.join(", ") }));
    await refreshExtras();
  } catch (error) {
    failed(error);
  }
});

document.getElementById("headcount-load").addEventListener("click", async () => {
  const place = document.getElementById("headcount-place").value;
  try {
    const found = await api(path(`occupancy/children?status=in_care&limit=200&place=${encodeURIComponent(place)}`));
    document.getElementById("headcount-children").replaceChildren(
      ...found.items.map((c) =>
        el(
          "li",
          {},
          el("label", {}, el("input", { type: "checkbox", value: c.child_id, checked: true }), ` ${c.child_id} · ${c.home_class ?? ""}`),
        ),
      ),
    );
  } catch (error) {
    failed(error);
  }
});

document.getElementById("headcount-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const place = document.getElementById("headcount-place").value;
  const present = [...document.querySelectorAll("#headcount-children input:checked")].map((box) => box.value);
  try {
    const answer = await command(`places/${encodeURIComponent(place)}/headcounts`, { present });
    const missing = answer.missing.length ? answer.missing.join(", ") : "0";
    const words = () => t("board.headcount.result", { place: placeLabel(state.card, place), expected: answer.expected.length, missing });
    showResult(answer.missing.length ? "error" : "ok", words);
    await refreshExtras();
    if (answer.missing.length) {
      setTimeout(refreshExtras, POLICY_DELAY_MS); // the missing-child incident is opened by the policy process
    }
  } catch (error) {
    failed(error);
  }
});

document.getElementById("emergency-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!confirm(t("board.emergency.confirm_enter"))) {
    return;
  }
  try {
    await command("emergency", {
      reunification_point: document.getElementById("emergency-point").value,
      reason: document.getElementById("emergency-reason").value.trim(),
    });
    showResult("error", () => t("kind.emergency"));
    await refreshMode();
  } catch (error) {
    failed(error);
  }
});

document.getElementById("emergency-leave").addEventListener("click", async () => {
  if (!confirm(t("board.emergency.confirm_leave"))) {
    return;
  }
  try {
    await command("emergency/end", { reason: document.getElementById("emergency-reason").value.trim() || "-" });
    showResult("ok", () => t("kind.emergency_end"));
    await refreshMode();
  } catch (error) {
    failed(error);
  }
});

async function start() {
  setUpHeader(current, renderAll);
  keepPagesOffline();
  try {
    state.card = await loadSchoolCard(current);
  } catch (error) {
    failed(error);
  }
  renderAll();
  setInterval(refreshMode, EMERGENCY_POLL_MS);
  setInterval(refreshExtras, EXTRAS_POLL_MS);
  followLive(path("live"), current.token, onSnapshot, (liveState) => {
    state.liveState = liveState;
    renderLiveState();
  });
}

start();
