// The signed-in staff member's page: the session, the school card, the header, and the result and emergency lines.

import { NetworkError, api, forgetSession, schoolPath, session } from "./api.js";
import { el, placeLabel } from "./format.js";
import { currentLanguage, setLanguage, t, translatePage } from "./i18n.js";

const SCHOOL_CARD = "handoff.school-card";

/** Sign out; with actions of this person still waiting, ask first (they stay held on the tablet for them). */
export function signOut(waiting = 0) {
  if (waiting && !confirm(t("signout.pending", { n: waiting }))) {
    return;
  }
  forgetSession();
  localStorage.removeItem(SCHOOL_CARD);
  location.assign("/ui/");
}

/** The session, or back to the sign-in page. */
export function requireSession() {
  const found = session();
  if (!found || !found.token || !found.school) {
    location.replace("/ui/");
    throw new Error("not signed in");
  }
  return found;
}

/** The school card (places, time zone, mode), cached so that a page reloaded offline still has its places. */
export async function loadSchoolCard(current) {
  try {
    const card = await api(schoolPath(current.school, "ui/school"));
    localStorage.setItem(SCHOOL_CARD, JSON.stringify(card));
    return card;
  } catch (error) {
    const cached = localStorage.getItem(SCHOOL_CARD);
    if (error instanceof NetworkError && cached) {
      return JSON.parse(cached);
    }
    throw error;
  }
}

/** The header's common controls around the page's own title and links: who is signed in, the network state, the
 * actions waiting to be sent (on pages with a queue), the language switch and sign-out. */
function buildHeader(current, withPending) {
  const bar = document.querySelector("header.bar");
  const title = bar.querySelector("h1");
  const badges = [
    current.staff_id ? el("span", { id: "who", class: "who" }) : null,
    el("span", { id: "network", class: "badge ok" }),
    withPending ? el("span", { id: "pending-count", class: "badge warn", hidden: true }) : null,
  ].filter(Boolean);
  title.after(...badges);
  bar.append(el("button", { id: "lang", type: "button", class: "secondary", "data-i18n": "lang.switch" }, "English"));
  if (current.token) {
    bar.append(el("button", { id: "signout", type: "button", class: "secondary", "data-i18n": "signout" }, "退出"));
  }
}

/** The header: who is signed in, the network state, the language switch and sign-out; `waiting` counts this
 * person's queued actions (pages with a queue). */
export function setUpHeader(current, rerender, waiting = null) {
  buildHeader(current, waiting !== null);
  const who = document.getElementById("who");
  if (who) {
    who.textContent = `${current.school} · ${current.staff_id}`;
  }
  document.getElementById("lang").addEventListener("click", () => {
    setLanguage(currentLanguage() === "zh-CN" ? "en" : "zh-CN");
    translatePage();
    showNetwork();
    rerender();
  });
  document.getElementById("signout")?.addEventListener("click", () => signOut(waiting ? waiting() : 0));
  addEventListener("online", showNetwork);
  addEventListener("offline", showNetwork);
  translatePage();
  showNetwork();
}

export function showNetwork() {
  const badge = document.getElementById("network");
  if (badge) {
    badge.textContent = navigator.onLine ? t("online") : t("offline");
    badge.className = navigator.onLine ? "badge ok" : "badge warn";
  }
}

/** Keep the pages on the device, so that a page reloaded without network still opens with its queue. */
export function keepPagesOffline() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/ui/sw.js", { scope: "/ui/" }).catch(() => {});
  }
}

let lastResult = null;

/** The result line at the bottom of the screen; `words` is a function, so that it is said again in the other
 * language after a switch (`repeatResult`). */
export function showResult(kind, words) {
  lastResult = { kind, words };
  const banner = document.getElementById("result");
  banner.className = `message toast ${kind}`;
  banner.textContent = words();
  banner.setAttribute("role", kind === "error" ? "alert" : "status");
}

export function repeatResult() {
  if (lastResult) {
    showResult(lastResult.kind, lastResult.words);
  }
}

/** The red emergency banner of the gate pages, from the school card. */
export function showEmergency(card) {
  const banner = document.getElementById("emergency-banner");
  const on = Boolean(card?.emergency);
  banner.hidden = !on;
  document.body.classList.toggle("in-emergency", on);
  banner.textContent = on ? t("board.emergency", { point: placeLabel(card, card.reunification_point) }) : "";
}

/** The start of a page with a queue of actions: the header (whose language switch renders the page and its result
 * line again), the pages kept offline, the waiting count, sending when the network returns, and the school card. */
export async function startQueuePage(current, queue, render) {
  setUpHeader(
    current,
    () => {
      render();
      repeatResult();
    },
    () => queue.pending().length,
  );
  keepPagesOffline();
  showPending(queue);
  addEventListener("online", () => queue.flush());
  return loadSchoolCard(current);
}

/** The header's count of this person's actions waiting to be sent. */
export function showPending(queue) {
  const count = document.getElementById("pending-count");
  if (!count) {
    return; // the header is not built yet: each page shows the count again right after setUpHeader
  }
  const pending = queue.pending().length;
  count.hidden = pending === 0;
  count.textContent = t("pending.count", { n: pending });
}
