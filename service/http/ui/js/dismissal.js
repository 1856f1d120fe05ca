// The gate screen at dismissal (放学队列): a pickup code alone registers its guardian for all their children; the
// release screen shows the guardian and the children the signed-in adult has, asks the two confirmation questions
// for each child, then releases them together. Children with another adult wait until sent to the release point.
// Names stay in memory; only ids and the queued actions (with a pickup code until sent) are kept on the device.

import { ApiError, NetworkError, api, deviceId, photoUrl, randomKey, schoolPath } from "./api.js";
import { el, placeLabel } from "./format.js";
import { currentLanguage, refusalText, t } from "./i18n.js";
import { ActionQueue } from "./queue.js";
import { loadSchoolCard, requireSession, showEmergency, showPending, showResult, startQueuePage } from "./session.js";

const current = requireSession();
const state = { card: null, items: [], answers: new Map(), error: null };
const queue = new ActionQueue(current.school, current.staff_id, () => showPending(queue));

/** Children waiting, one group per guardian, in order of arrival. */
function groups(items) {
  const found = new Map();
  for (const item of items) {
    if (!found.has(item.guardian_id)) {
      found.set(item.guardian_id, { guardian_id: item.guardian_id, guardian_name: item.guardian_name, relation: item.relation, children: [] });
    }
    found.get(item.guardian_id).children.push(item);
  }
  return [...found.values()];
}

function mine(group) {
  return group.children.every((child) => child.custodian_id === current.staff_id);
}

async function refresh() {
  try {
    const answer = await api(schoolPath(current.school, "ui/dismissal"));
    state.items = answer.items;
    state.error = null;
  } catch (error) {
    state.error = error instanceof NetworkError ? t("error.network") : messageOf(error);
  }
  render();
}

function render() {
  renderWaiting();
  renderRelease();
  showEmergency(state.card);
}

function renderWaiting() {
  const list = document.getElementById("waiting");
  list.replaceChildren();
  const all = groups(state.items);
  if (!all.length) {
    list.append(el("li", { class: "hint" }, state.error ?? t("dismissal.none")));
    return;
  }
  for (const group of all) {
    const ready = mine(group);
    list.append(
      el(
        "li",
        { class: `queued ${ready ? "done" : "pending"}`, "data-guardian": group.guardian_id, tabindex: "0" },
        el("span", { class: "what" }, `${group.guardian_name || group.guardian_id} → ${group.children.map((c) => c.name || c.child_id).join("、")}`),
        el(
          "span",
          { class: "state" },
          ready
            ? t("dismissal.ready")
            : group.children
                .filter((c) => c.custodian_id !== current.staff_id)
                .map((c) => t("dismissal.with", { custodian: c.custodian_id, place: placeLabel(state.card, c.place_code) }))
                .join("；"),
        ),
      ),
    );
  }
}

function answerOf(childId, question) {
  return state.answers.get(`${childId}/${question}`) ?? null;
}

function yesNo(child, question) {
  const value = answerOf(child.child_id, question);
  const choose = (answer) => {
    state.answers.set(`${child.child_id}/${question}`, answer);
    renderRelease();
  };
  return el(
    "div",
    { class: "question big", role: "radiogroup", "aria-label": `${t(`confirm.${question}`)} ${child.name || child.child_id}`, "data-question": question },
    el("span", {}, t(`confirm.${question}`)),
    el("button", { type: "button", role: "radio", class: "choice yes", "aria-checked": String(value === true), onclick: () => choose(true) }, t("yes")),
    el("button", { type: "button", role: "radio", class: "choice no", "aria-checked": String(value === false), onclick: () => choose(false) }, t("no")),
  );
}

const photos = new Map(); // API path → blob: URL, in memory only (a photo is personal data)

/** The photo of a child (guardianId null) or guardian, shown once fetched with the staff token; null without one. */
function photo(childId, guardianId, alt) {
  const path = schoolPath(current.school, `children/${encodeURIComponent(childId)}/${guardianId ? `guardians/${encodeURIComponent(guardianId)}/` : ""}photo`);
  const img = el("img", { class: "photo", alt, "data-photo": guardianId ?? childId, hidden: true });
  const show = (url) => {
    if (url) {
      img.src = url;
      img.hidden = false;
    }
  };
  if (photos.has(path)) {
    show(photos.get(path));
  } else {
    photoUrl(path).then((url) => {
      photos.set(path, url);
      show(url);
    });
  }
  return img;
}

function renderRelease() {
  const body = document.getElementById("release-body");
  const group = groups(state.items).find(mine);
  if (!group) {
    body.replaceChildren(el("p", { class: "hint" }, t("dismissal.nothing_ready")));
    return;
  }
  const answered = group.children.flatMap((c) => [answerOf(c.child_id, "guardian"), answerOf(c.child_id, "child")]);
  const allYes = answered.every((a) => a === true);
  const someNo = answered.some((a) => a === false);
  body.replaceChildren(
    el(
      "header",
      { class: "child-head", "data-guardian": group.guardian_id },
      group.children.some((c) => c.guardian_photo)
        ? photo(group.children.find((c) => c.guardian_photo).child_id, group.guardian_id, group.guardian_name || group.guardian_id)
        : null,
      el("h3", { id: "release-guardian" }, group.guardian_name || group.guardian_id),
      el("span", { class: "child-id" }, [relation(group.relation), group.guardian_id].filter(Boolean).join(" · ")),
    ),
    ...group.children.map((child) =>
      el(
        "section",
        { class: "step release-child", "data-child": child.child_id },
        child.child_photo ? photo(child.child_id, null, child.name || child.child_id) : null,
        el(
          "div",
          { class: "release-questions" },
          el("h4", {}, `${child.name || child.child_id} · ${child.child_id}`),
          yesNo(child, "guardian"),
          yesNo(child, "child"),
        ),
      ),
    ),
    el(
      "div",
      { class: "row" },
      someNo
        ? el("button", { type: "button", id: "do-mismatch", class: "danger", onclick: () => mismatch(group) }, t("dismissal.mismatch"))
        : el(
            "button",
            { type: "button", id: "do-release-group", disabled: !allYes, onclick: () => releaseGroup(group) },
            t("dismissal.release_to", { guardian: group.guardian_name || group.guardian_id, n: group.children.length }),
          ),
    ),
  );
}

const RELATIONS_ZH = { mother: "妈妈", father: "爸爸", parent: "家长", grandmother: "祖母/外祖母", grandfather: "祖父/外祖父", guardian: "监护人", relative: "亲属" };

function relation(word) {
  return currentLanguage() === "zh-CN" ? (RELATIONS_ZH[word] ?? word) : word;
}

// Actions: every one its own event with its own Idempotency-Key, sent in order through the tablet's queue.

function command(kind, childId, path, body) {
  return queue.add({
    key: randomKey(),
    kind,
    child_id: childId,
    path: schoolPath(current.school, childId ? `children/${encodeURIComponent(childId)}/${path}` : path),
    body: { device_id: deviceId(), device_time: new Date().toISOString(), ...body },
  });
}

async function releaseGroup(group) {
  const outcomes = [];
  for (const child of group.children) {
    const confirmation = { guardian_id: group.guardian_id, guardian_recognised_child: true, child_recognised_guardian: true };
    if (!child.confirmed) {
      outcomes.push(await command("confirm", child.child_id, "confirmation", confirmation));
    }
    outcomes.push(await command("release", child.child_id, "release", { guardian_id: group.guardian_id }));
  }
  settle(group, outcomes, "dismissal.released");
}

async function mismatch(group) {
  const outcomes = [];
  for (const child of group.children) {
    const body = {
      guardian_id: group.guardian_id,
      guardian_recognised_child: answerOf(child.child_id, "guardian") !== false,
      child_recognised_guardian: answerOf(child.child_id, "child") !== false,
    };
    outcomes.push(await command("confirm", child.child_id, "confirmation", body));
  }
  settle(group, outcomes, "dismissal.mismatch_recorded");
}

function settle(group, outcomes, done) {
  for (const child of group.children) {
    state.answers.delete(`${child.child_id}/guardian`);
    state.answers.delete(`${child.child_id}/child`);
  }
  const wrong = outcomes.find((item) => item.state === "rejected" || item.state === "refused");
  if (wrong) {
    const refusal = wrong.state === "refused" ? wrong.answer.refusal : wrong.error;
    showResult("error", () => refusalText(refusal.code, refusal.message));
  } else if (outcomes.some((item) => item.state === "pending")) {
    showResult("warn", () => t("dismissal.queued"));
  } else {
    showResult("ok", () => t(done, { guardian: group.guardian_name || group.guardian_id }));
  }
  const released = new Set(group.children.map((c) => c.child_id));
  state.items = state.items.filter((item) => !(released.has(item.child_id) && item.guardian_id === group.guardian_id));
  render();
  refresh();
}

async function registerCode(event) {
  event.preventDefault();
  const input = document.getElementById("code");
  const code = input.value.trim();
  input.value = "";
  if (!code) {
    return;
  }
  const item = await command("pickup", null, "pickups", { pickup_code: code });
  if (item.state === "done") {
    const names = item.answer.children.map((c) => c.child_id);
    const locked = item.answer.children.filter((c) => c.result === "pickup_code_locked").map((c) => c.child_id);
    showResult(locked.length ? "warn" : "ok", () => locked.length ? t("dismissal.locked", { children: locked.join("、") }) : t("dismissal.arrived", { children: names.join("、") }));
  } else if (item.state === "pending") {
    showResult("warn", () => t("dismissal.queued"));
  } else {
    const refusal = item.state === "refused" ? item.answer.refusal : item.error;
    showResult("error", () => refusalText(refusal.code, refusal.message));
  }
  input.focus();
  await refresh();
}

function messageOf(error) {
  return error instanceof ApiError ? refusalText(error.code, error.message) : t("error.network");
}




const REFRESH_MS = 2000;

async function start() {
  document.getElementById("code-form").addEventListener("submit", registerCode);
  try {
    state.card = await startQueuePage(current, queue, render);
  } catch (error) {
    showResult("error", () => messageOf(error));
  }
  await refresh();
  document.getElementById("code").focus();
  setInterval(async () => {
    if (queue.pending().length) {
      await queue.flush();
    }
    state.card = await loadSchoolCard(current).catch(() => state.card);
    await refresh();
  }, REFRESH_MS);
}

start();
