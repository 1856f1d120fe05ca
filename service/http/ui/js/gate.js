// The gate tablet: find a child, then check-in, transfer, guardian arrival, mutual confirmation and release.
// Every action goes through the queue, so it works the same with and without network.

import { ApiError, NetworkError, api, deviceId, randomKey, schoolPath } from "./api.js";
import { el, placeLabel, timeOf } from "./format.js";
import { currentLanguage, refusalText, t } from "./i18n.js";
import { DayList } from "./daylist.js";
import { ActionQueue } from "./queue.js";
import {
  keepPagesOffline,
  loadSchoolCard,
  requireSession,
  setUpHeader,
  showEmergency,
  showPending,
} from "./session.js";

const current = requireSession();
const state = {
  card: null,
  results: null,
  searchError: null,
  child: null,
  stale: false,
  arrivalGuardian: null,
  confirmGuardian: null,
  guardianRecognised: null,
  childRecognised: null,
  lastResult: null,
};
const cards = new Map(); // children seen this session, in memory only (with names): a child can still be chosen offline
const dayList = new DayList(current.school); // the day's children kept on the tablet, without names
const queue = new ActionQueue(current.school, current.staff_id, renderQueue);
queue.onAnswered = explainRejection;

const RELATIONS_ZH = {
  mother: "妈妈",
  father: "爸爸",
  parent: "家长",
  grandmother: "祖母/外祖母",
  grandfather: "祖父/外祖父",
  guardian: "监护人",
  relative: "亲属",
};

function relation(word) {
  return currentLanguage() === "zh-CN" ? (RELATIONS_ZH[word] ?? word) : word;
}

// Searching

let searchTimer = null;
const search = document.getElementById("search");
search.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, 250);
});
document.getElementById("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(searchTimer);
  runSearch();
});

async function runSearch() {
  const q = search.value.trim();
  if (!q) {
    state.results = null;
    renderResults();
    return;
  }
  try {
    // POST keeps a typed name out of URLs and access logs; the search records nothing.
    const found = await api(schoolPath(current.school, "ui/children/search"), { method: "POST", body: { q } });
    if (search.value.trim() === q) {
      state.results = found.items;
      state.more = found.more;
      state.searchError = null;
    }
  } catch (error) {
    state.searchError = error instanceof NetworkError ? t("gate.search.offline") : messageOf(error);
    state.results = error instanceof NetworkError ? offlineResults(q) : (state.results ?? []).filter((child) => cards.has(child.child_id));
    state.more = false;
  }
  renderResults();
}

/** Offline: the children kept for today (by number, home class or temporary class), with names still in memory. */
function offlineResults(q) {
  return dayList.find(q, state.card?.service_day).map((kept) => {
    const card = cards.get(kept.child_id) ?? kept;
    return {
      child_id: kept.child_id,
      name: card.name ?? null,
      home_class: kept.home_class,
      temporary_class: kept.temporary_class,
      status: card.custody.status,
    };
  });
}

function renderResults() {
  const list = document.getElementById("results");
  list.replaceChildren();
  if (state.searchError) {
    list.append(el("li", { class: "hint" }, state.searchError));
  }
  if (state.results === null) {
    return;
  }
  if (!state.results.length && !state.searchError) {
    list.append(el("li", { class: "hint" }, t("gate.search.none")));
  }
  if (state.more) {
    list.append(el("li", { class: "hint", id: "search-more" }, t("gate.search.more", { n: state.results.length })));
  }
  for (const child of state.results) {
    const home = child.home_class_name || child.home_class;
    const label = [child.child_id, home, child.temporary_class].filter(Boolean).join(" · ");
    list.append(
      el(
        "li",
        {},
        el(
          "button",
          { type: "button", class: "result", "data-child": child.child_id, onclick: () => choose(child.child_id) },
          el("strong", {}, child.name || child.child_id),
          el("span", {}, label),
          el("span", { class: `status ${child.status}` }, t(`status.${child.status}`)),
        ),
      ),
    );
  }
}

// The chosen child

async function choose(childId) {
  state.arrivalGuardian = null;
  state.confirmGuardian = null;
  state.guardianRecognised = null;
  state.childRecognised = null;
  await loadChild(childId);
}

async function loadChild(childId) {
  try {
    state.child = await api(schoolPath(current.school, `ui/children/${encodeURIComponent(childId)}`));
    cards.set(childId, state.child);
    dayList.keep(state.child);
    state.stale = false;
  } catch (error) {
    state.child = cards.get(childId) ?? dayList.card(childId, state.card?.service_day);
    if (state.child) {
      cards.set(childId, state.child);
    }
    state.stale = true;
    if (!(error instanceof NetworkError && state.child)) {
      showResult("error", messageOf(error));
    }
  }
  renderChild();
}

function renderChild() {
  const panel = document.getElementById("child");
  const child = state.child;
  if (!child) {
    panel.replaceChildren(el("p", { class: "hint" }, t("gate.pick")));
    return;
  }
  const custody = child.custody;
  const facts = [el("span", {}, t("child.home_class", { home_class: child.home_class }))];
  if (custody.place_code && custody.status === "in_care") {
    facts.push(
      el("span", {}, t("child.with", { custodian: custody.custodian_id, place: placeLabel(state.card, custody.place_code) })),
    );
  }
  if (custody.arrived_guardians.length) {
    facts.push(el("span", {}, t("child.arrived", { guardians: custody.arrived_guardians.join(", ") })));
  }
  if (custody.confirmed_guardian_id) {
    facts.push(el("span", {}, t("child.confirmed", { guardian: custody.confirmed_guardian_id })));
  }
  if (custody.status === "released") {
    facts.push(
      el("span", {}, custody.self_released ? t("child.released_alone") : t("child.released_to", { guardian: custody.released_to })),
    );
  }
  if (child.self_release_not_before) {
    facts.push(el("span", {}, t("child.alone_from", { time: child.self_release_not_before })));
  }
  panel.replaceChildren(
    el(
      "header",
      { class: "child-head" },
      el("h2", { id: "child-name" }, child.name || child.child_id),
      el("span", { class: "child-id" }, child.child_id),
      el("span", { id: "child-status", class: `status ${custody.status}` }, t(`status.${custody.status}`)),
    ),
    el("p", { class: "facts" }, facts),
    ...(state.stale ? [el("p", { class: "message warn" }, t("child.stale"))] : []),
    el("div", { class: "steps" }, ...stepsFor(child)),
  );
}

/** Only the steps this person may still take: a released or absent child's card is finished, and a child now with
 * another adult is theirs to confirm and release (a duty leader may still act). */
function stepsFor(child) {
  const custody = child.custody;
  if (custody.status === "released") {
    return [el("p", { class: "finished", id: "finished" }, t("child.finished"))];
  }
  if (custody.status !== "in_care") {
    return [checkInStep()];
  }
  const mine = custody.custodian_id === current.staff_id || current.role === "duty_leader";
  if (!mine) {
    return [arrivalStep(), el("p", { class: "hint", id: "not-mine" }, t("child.not_mine", { custodian: custody.custodian_id }))];
  }
  return [transferStep(), arrivalStep(), confirmStep(), releaseStep()];
}

function placeSelect(id, chosen) {
  const places = (state.card?.places ?? []).filter((p) => p.kind !== "gate");
  return el(
    "select",
    { id, name: id },
    places.map((p) => el("option", { value: p.code, selected: p.code === chosen }, `${placeLabel(state.card, p.code)} (${p.code})`)),
  );
}

function step(id, title, ...content) {
  return el("section", { class: "step", id }, el("h3", {}, t(title)), ...content);
}

function checkInStep() {
  return step(
    "step-check-in",
    "step.check_in",
    el("label", { for: "check-in-place" }, t("field.place")),
    el(
      "div",
      { class: "row" },
      placeSelect("check-in-place", state.child.temporary_class ?? state.child.custody.place_code),
      el("button", { type: "button", id: "do-check-in", onclick: checkIn }, t("action.check_in")),
    ),
  );
}

function transferStep() {
  const adults = state.card?.adults ?? [];
  return step(
    "step-transfer",
    "step.transfer",
    el(
      "div",
      { class: "row fields" },
      el("div", { class: "field" }, el("label", { for: "transfer-place" }, t("field.place")), placeSelect("transfer-place", state.child.custody.place_code)),
      el(
        "div",
        { class: "field" },
        el("label", { for: "transfer-adult" }, t("field.adult")),
        el(
          "select",
          { id: "transfer-adult" },
          adults.map((a) => el("option", { value: a, selected: a === state.child.custody.custodian_id }, a)),
        ),
      ),
      el("button", { type: "button", id: "do-transfer", onclick: transfer }, t("action.transfer")),
    ),
  );
}

function guardianChoices(name, guardians, chosen, onChoose) {
  return el(
    "div",
    { class: "choices", role: "radiogroup", "aria-label": t("field.guardian") },
    guardians.map((g) =>
      el(
        "button",
        {
          type: "button",
          role: "radio",
          class: "choice",
          "aria-checked": String(chosen === g.guardian_id),
          "data-guardian": g.guardian_id,
          disabled: g.authorised_today === false,
          onclick: () => onChoose(g.guardian_id),
        },
        el("strong", {}, g.name || g.guardian_id),
        el("span", {}, [relation(g.relation), g.guardian_id].filter(Boolean).join(" · ")),
        g.authorised_today === false ? el("span", { class: "warn-text" }, t("guardian.not_today")) : null,
      ),
    ),
  );
}

function lockNotice() {
  const custody = state.child.custody;
  if (!custody.code_entry_locked) {
    return el("p", { class: "hint", id: "attempts-left" }, t("lock.attempts_left", { n: state.child.pickup_code_attempts_left ?? 3 }));
  }
  const notice = [el("strong", {}, t("lock.on"))];
  if (current.role === "duty_leader") {
    notice.push(
      el("label", { for: "unlock-reason" }, t("lock.reason")),
      el("div", { class: "row" }, el("input", { id: "unlock-reason", autocomplete: "off" }), el("button", { type: "button", id: "do-unlock", onclick: unlock }, t("lock.lift"))),
    );
  } else {
    notice.push(el("span", {}, t("lock.ask")));
  }
  return el("div", { class: "message error lock", id: "code-lock", role: "alert" }, notice);
}

function arrivalStep() {
  return step(
    "step-arrival",
    "step.arrival",
    lockNotice(),
    el("p", { class: "label" }, t("field.guardian")),
    guardianChoices("arrival", state.child.guardians, state.arrivalGuardian, (id) => {
      state.arrivalGuardian = id;
      renderChild();
    }),
    el("label", { for: "pickup-code" }, t("field.pickup_code")),
    el(
      "div",
      { class: "row" },
      el("input", {
        id: "pickup-code",
        inputmode: "numeric",
        autocomplete: "off",
        pattern: "[0-9]*",
        maxlength: "8",
        class: "code",
      }),
      el("button", { type: "button", id: "do-arrival", onclick: () => arrival("pickup_code") }, t("action.arrival")),
      el(
        "button",
        { type: "button", id: "do-arrival-id", class: "secondary", onclick: () => arrival("id_document") },
        t("action.arrival_id"),
      ),
    ),
  );
}

function yesNo(id, question, value, onChoose) {
  return el(
    "div",
    { class: "question", role: "radiogroup", "aria-label": t(question), id },
    el("span", {}, t(question)),
    el("button", { type: "button", role: "radio", class: "choice yes", "aria-checked": String(value === true), onclick: () => onChoose(true) }, t("yes")),
    el("button", { type: "button", role: "radio", class: "choice no", "aria-checked": String(value === false), onclick: () => onChoose(false) }, t("no")),
  );
}

function confirmStep() {
  const arrived = state.child.guardians.filter((g) => state.child.custody.arrived_guardians.includes(g.guardian_id));
  if (!arrived.length) {
    return step("step-confirm", "step.confirm", el("p", { class: "hint" }, t("guardian.none_arrived")));
  }
  if (!arrived.some((g) => g.guardian_id === state.confirmGuardian)) {
    state.confirmGuardian = arrived[0].guardian_id;
  }
  const ready = state.guardianRecognised !== null && state.childRecognised !== null;
  return step(
    "step-confirm",
    "step.confirm",
    guardianChoices("confirm", arrived, state.confirmGuardian, (id) => {
      state.confirmGuardian = id;
      renderChild();
    }),
    yesNo("guardian-recognised", "confirm.guardian", state.guardianRecognised, (v) => {
      state.guardianRecognised = v;
      renderChild();
    }),
    yesNo("child-recognised", "confirm.child", state.childRecognised, (v) => {
      state.childRecognised = v;
      renderChild();
    }),
    el("button", { type: "button", id: "do-confirm", disabled: !ready, onclick: confirmBoth }, t("action.confirm")),
  );
}

function releaseStep() {
  const custody = state.child.custody;
  const guardian = custody.confirmed_guardian_id;
  const buttons = [];
  if (guardian) {
    const found = state.child.guardians.find((g) => g.guardian_id === guardian);
    buttons.push(
      el("button", { type: "button", id: "do-release", onclick: () => release(guardian) }, t("action.release", { guardian: found?.name || guardian })),
    );
  } else {
    buttons.push(el("p", { class: "hint" }, t("release.none")));
  }
  if (state.child.self_release_not_before) {
    buttons.push(
      el("button", { type: "button", id: "do-release-alone", class: "secondary", onclick: () => release(null) }, t("action.release_alone")),
    );
  }
  return step("step-release", "step.release", el("div", { class: "row" }, buttons));
}

// Actions

function value(id) {
  return document.getElementById(id)?.value.trim() ?? "";
}

async function act(kind, path, body, optimistic) {
  const child = state.child;
  const item = await queue.add({
    key: randomKey(),
    kind,
    child_id: child.child_id,
    path: schoolPath(current.school, `children/${encodeURIComponent(child.child_id)}/${path}`),
    body: { device_id: deviceId(), device_time: new Date().toISOString(), ...body },
  });
  if (item.state === "pending") {
    optimistic(child.custody);
    dayList.keep(child); // a reload offline shows the card as this action left it
    state.stale = true;
    renderChild();
  }
  showOutcome(item);
  if (item.state !== "pending") {
    runSearch(); // the statuses in the list follow what was just recorded
  }
  return item;
}

function checkIn() {
  const place = value("check-in-place");
  return act("check_in", "check-in", { place_code: place }, (c) => {
    Object.assign(c, { status: "in_care", place_code: place, custodian_id: current.staff_id });
  });
}

function unlock() {
  const reason = value("unlock-reason");
  if (!reason) {
    showResult("error", t("lock.reason"));
    return null;
  }
  return act("unlock", "pickup-code-unlock", { reason }, (c) => {
    c.code_entry_locked = false;
  });
}

function transfer() {
  const place = value("transfer-place");
  const adult = value("transfer-adult");
  return act("transfer", "transfer", { to_custodian_id: adult, to_place_code: place }, (c) => {
    Object.assign(c, { place_code: place, custodian_id: adult });
  });
}

function arrival(verification) {
  const guardian = state.arrivalGuardian;
  if (!guardian) {
    showResult("error", t("field.guardian"));
    return null;
  }
  const body = { guardian_id: guardian, verification };
  if (verification === "pickup_code") {
    body.pickup_code = value("pickup-code");
  }
  document.getElementById("pickup-code").value = "";
  return act("arrival", "guardian-arrival", body, (c) => {
    c.arrived_guardians = [...new Set([...c.arrived_guardians, guardian])];
  });
}

function confirmBoth() {
  const guardian = state.confirmGuardian;
  const both = state.guardianRecognised && state.childRecognised;
  const body = {
    guardian_id: guardian,
    guardian_recognised_child: state.guardianRecognised,
    child_recognised_guardian: state.childRecognised,
  };
  state.guardianRecognised = null;
  state.childRecognised = null;
  return act("confirm", "confirmation", body, (c) => {
    if (both) {
      c.confirmed_guardian_id = guardian;
    }
  });
}

function release(guardian) {
  const body = guardian ? { guardian_id: guardian } : { self_release: true };
  return act("release", "release", body, (c) => {
    Object.assign(c, { status: "released", released_to: guardian, self_released: !guardian, custodian_id: null });
  });
}

// The adult's own dismissal queue: children they have whose guardian is at the gate, sent on with one tap

const RELEASE_ADULT = "handoff.release-adult"; // a staff id, not personal data
let dismissal = { items: [], release_points: [], release_adults: [] };

async function refreshDismissal() {
  try {
    dismissal = await api(schoolPath(current.school, "ui/dismissal"));
  } catch {
    return; // offline: the list stays as it was
  }
  renderMyQueue();
}

function myGroups() {
  const found = new Map();
  for (const item of dismissal.items) {
    if (item.custodian_id !== current.staff_id || dismissal.release_points.includes(item.place_code)) {
      continue;
    }
    if (!found.has(item.guardian_id)) {
      found.set(item.guardian_id, { guardian_id: item.guardian_id, guardian_name: item.guardian_name, children: [] });
    }
    found.get(item.guardian_id).children.push(item);
  }
  return [...found.values()];
}

function renderMyQueue() {
  const box = document.getElementById("my-queue-box");
  const groups = myGroups();
  box.hidden = groups.length === 0;
  const select = document.getElementById("release-adult");
  const adults = [...new Set([...dismissal.release_adults, ...(state.card?.adults ?? [])])].filter((a) => a !== current.staff_id);
  const chosen = localStorage.getItem(RELEASE_ADULT) ?? dismissal.release_adults[0] ?? adults[0] ?? "";
  select.replaceChildren(...adults.map((a) => el("option", { value: a, selected: a === chosen }, a)));
  select.onchange = () => localStorage.setItem(RELEASE_ADULT, select.value);
  const list = document.getElementById("my-queue");
  list.replaceChildren(
    ...groups.map((group) =>
      el(
        "li",
        { class: "queued pending", "data-guardian": group.guardian_id },
        el("span", { class: "what" }, `${group.children.map((c) => c.name || c.child_id).join("、")} ← ${group.guardian_name || group.guardian_id}`),
        el("button", { type: "button", class: "send", onclick: () => sendToRelease(group) }, t("dismissal.send")),
      ),
    ),
  );
}

async function sendToRelease(group) {
  const adult = document.getElementById("release-adult").value;
  const place = dismissal.release_points[0];
  for (const child of group.children) {
    const item = await queue.add({
      key: randomKey(),
      kind: "transfer",
      child_id: child.child_id,
      path: schoolPath(current.school, `children/${encodeURIComponent(child.child_id)}/transfer`),
      body: { device_id: deviceId(), device_time: new Date().toISOString(), to_custodian_id: adult, to_place_code: place },
    });
    showOutcome(item);
  }
  await refreshDismissal();
}

// Outcomes

function messageOf(error) {
  if (error instanceof ApiError) {
    return refusalText(error.code, error.message);
  }
  return t("error.network");
}

function showResult(kind, text) {
  const banner = document.getElementById("result");
  banner.className = `message toast ${kind}`;
  banner.textContent = text;
  banner.setAttribute("role", kind === "error" ? "alert" : "status");
}

function describe(item) {
  return { kind: t(`kind.${item.kind}`), child: item.child_id };
}

function rejectionText(item) {
  let text = refusalText(item.error.code, item.error.message);
  if (item.later) {
    text += (currentLanguage() === "zh-CN" ? "" : " ") + t("rejected.later", {
      what: t(`event.${item.later.type}`),
      time: timeOf(item.later.server_time, state.card?.time_zone),
      device: item.later.device_id,
      actor: item.later.actor_id,
    });
  }
  return text;
}

function showOutcome(item) {
  state.lastResult = item.key;
  if (item.state === "pending") {
    showResult("warn", t("result.queued", describe(item)));
  } else if (item.state === "done") {
    showResult("ok", t("result.recorded", describe(item)));
  } else if (item.state === "refused") {
    const refusal = item.answer.refusal;
    showResult("error", t("result.refused", { message: refusalText(refusal.code, refusal.message) }));
  } else {
    showResult("error", t("result.rejected", { message: rejectionText(item) }));
  }
}

/** A refused action: say what happened instead, when another device recorded it, by whom. */
async function explainRejection(item) {
  if (item.state === "rejected" && item.error.status === 409 && item.child_id && state.card) {
    try {
      const day = await api(
        schoolPath(current.school, `children/${encodeURIComponent(item.child_id)}/days/${state.card.service_day}`),
      );
      const latest = day.history.at(-1);
      if (latest && latest.device_id !== deviceId()) {
        item.later = {
          type: latest.type,
          server_time: latest.server_time,
          actor_id: latest.actor_id,
          device_id: latest.device_id,
        };
      }
    } catch {
      // the refusal itself is still shown
    }
  }
  delete item.body;
  queue.save();
  if (state.lastResult === item.key || item.state === "rejected") {
    showOutcome(item);
  }
  if (state.child?.child_id === item.child_id && !queue.pending().length) {
    await loadChild(item.child_id);
  }
}

function renderQueue(items) {
  const list = document.getElementById("queue");
  list.replaceChildren();
  showPending(queue);
  if (!items.length) {
    list.append(el("li", { class: "hint" }, t("gate.queue.empty")));
    return;
  }
  for (const item of [...items].reverse()) {
    const when = timeOf(item.queued_at, state.card?.time_zone);
    const shown = item.state === "pending" && !queue.mine(item) ? "held" : item.state;
    const stateWords = shown === "held" ? t("queue.held", { staff: item.staff_id ?? "?" }) : t(`queue.${item.state}`);
    let detail = null;
    if (item.state === "rejected") {
      detail = el("span", { class: "detail" }, rejectionText(item));
    } else if (item.state === "refused") {
      detail = el("span", { class: "detail" }, refusalText(item.answer.refusal.code, item.answer.refusal.message));
    }
    list.append(
      el(
        "li",
        { class: `queued ${shown}`, "data-key": item.key, "data-state": shown },
        el("span", { class: "what" }, `${t(`kind.${item.kind}`)} · ${item.child_id} · ${when}`),
        el("span", { class: "state" }, stateWords),
        detail,
        item.state === "rejected"
          ? el("button", { type: "button", class: "secondary small", onclick: () => queue.dismiss(item.key) }, t("gate.queue.dismiss"))
          : null,
      ),
    );
  }
}


function rerender() {
  showEmergency(state.card);
  renderMyQueue();
  renderResults();
  renderChild();
  renderQueue(queue.items);
  const last = queue.items.find((item) => item.key === state.lastResult);
  if (last) {
    showOutcome(last);
  }
}

// The online event is not always fired (e.g. after a reload without network), so waiting actions are also retried.
const RETRY_MS = 3000;
addEventListener("online", () => queue.flush());
setInterval(() => {
  if (queue.pending().length) {
    queue.flush();
  }
  refreshDismissal();
  dayList.refresh();
  loadSchoolCard(current)
    .then((card) => {
      state.card = card;
      showEmergency(state.card);
    })
    .catch(() => {});
}, RETRY_MS);

async function start() {
  setUpHeader(current, rerender, () => queue.pending().length);
  keepPagesOffline();
  renderQueue(queue.items);
  try {
    state.card = await loadSchoolCard(current);
  } catch (error) {
    showResult("error", messageOf(error));
  }
  rerender();
  await queue.flush();
  await refreshDismissal();
  await dayList.refresh(true);
}

start();
