// The class roll call (点名): the temporary class's children expected today with tick boxes; one submit checks the
// ticked children in and marks the others absent, each as its own command with its own Idempotency-Key, through
// the tablet's queue (so it works offline too). Names stay in memory.

import { ApiError, api, deviceId, randomKey, schoolPath } from "./api.js";
import { el, placeLabel } from "./format.js";
import { refusalText, t } from "./i18n.js";
import { ActionQueue } from "./queue.js";
import { requireSession, showEmergency, showPending, showResult, startQueuePage } from "./session.js";

const current = requireSession();
const state = { card: null, roll: [], ticked: new Set() };
const queue = new ActionQueue(current.school, current.staff_id, () => showPending(queue));
const CLASS = "handoff.roll-class"; // a class code, not personal data

function classCode() {
  return document.getElementById("roll-class").value;
}

async function loadRoll() {
  const code = classCode();
  try {
    const answer = await api(schoolPath(current.school, `ui/classes/${encodeURIComponent(code)}/roll`));
    if (code !== classCode()) {
      return; // another class was chosen meanwhile: its own answer counts
    }
    state.roll = answer.items;
  } catch (error) {
    showResult("error", () => error instanceof ApiError ? refusalText(error.code, error.message) : t("error.network"));
  }
  render();
}

function open(child) {
  return child.status === "expected" || child.status === "absent";
}

function render() {
  const list = document.getElementById("roll");
  list.replaceChildren(
    ...state.roll.map((child) => {
      const id = `roll-${child.child_id}`;
      return el(
        "li",
        { "data-child": child.child_id, class: `roll-child ${child.status}` },
        el("input", {
          type: "checkbox",
          id,
          value: child.child_id,
          checked: state.ticked.has(child.child_id) || !open(child),
          disabled: !open(child),
          onchange: (event) => {
            if (event.target.checked) {
              state.ticked.add(child.child_id);
            } else {
              state.ticked.delete(child.child_id);
            }
            renderSubmit();
          },
        }),
        el("label", { for: id }, el("strong", {}, child.name || child.child_id), el("span", {}, child.child_id)),
        el("span", { class: `status ${child.status}` }, t(`status.${child.status}`)),
      );
    }),
  );
  if (!state.roll.length) {
    list.append(el("li", { class: "hint" }, t("roll.none")));
  }
  renderSubmit();
}

function plan() {
  const checkIns = state.roll.filter((c) => open(c) && state.ticked.has(c.child_id));
  const absences = state.roll.filter((c) => c.status === "expected" && !state.ticked.has(c.child_id));
  return { checkIns, absences };
}

function renderSubmit() {
  const { checkIns, absences } = plan();
  const button = document.getElementById("roll-submit");
  button.textContent = t("roll.submit", { in: checkIns.length, absent: absences.length });
  button.disabled = checkIns.length + absences.length === 0;
}

function command(kind, childId, path, body) {
  return queue.add({
    key: randomKey(),
    kind,
    child_id: childId,
    path: schoolPath(current.school, `children/${encodeURIComponent(childId)}/${path}`),
    body: { device_id: deviceId(), device_time: new Date().toISOString(), ...body },
  });
}

async function submit(event) {
  event.preventDefault();
  const { checkIns, absences } = plan();
  const place = classCode();
  const sent = [];
  for (const child of checkIns) {
    sent.push(await command("check_in", child.child_id, "check-in", { place_code: place }));
  }
  for (const child of absences) {
    sent.push(await command("absence", child.child_id, "absence", { reason: t("roll.absent_reason") }));
  }
  const wrong = sent.filter((item) => item.state === "rejected");
  const waiting = sent.filter((item) => item.state === "pending");
  if (wrong.length) {
    showResult("error", () => t("roll.some_rejected", { n: wrong.length, message: refusalText(wrong[0].error.code, wrong[0].error.message) }));
  } else if (waiting.length) {
    showResult("warn", () => t("roll.queued", { n: waiting.length }));
  } else {
    showResult("ok", () => t("roll.done", { in: checkIns.length, absent: absences.length, place: placeLabel(state.card, place) }));
  }
  state.ticked.clear();
  await loadRoll();
}



function renderClasses() {
  const select = document.getElementById("roll-class");
  const classes = (state.card?.places ?? []).filter((p) => p.kind === "temporary_class");
  const chosen = localStorage.getItem(CLASS) ?? classes[0]?.code;
  select.replaceChildren(...classes.map((p) => el("option", { value: p.code, selected: p.code === chosen }, `${placeLabel(state.card, p.code)} (${p.code})`)));
}

async function start() {
  const rerender = () => {
    renderClasses();
    render();
  };
  state.card = await startQueuePage(current, queue, rerender).catch(() => null);
  showEmergency(state.card);
  renderClasses();
  document.getElementById("roll-class").addEventListener("change", () => {
    localStorage.setItem(CLASS, classCode());
    state.ticked.clear();
    loadRoll();
  });
  document.getElementById("roll-form").addEventListener("submit", submit);
  setInterval(() => queue.pending().length && queue.flush(), 3000);
  await loadRoll();
  await queue.flush();
}

start();
