// The signed-in staff member on this device, the API calls, times in the school's time zone, and the page header.

import { currentLanguage, setLanguage, t, translatePage } from "./i18n.js";

const SESSION = "handoff.session";
const DEVICE = "handoff.device";
const SCHOOL_CARD = "handoff.school-card";

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || "error";
    this.body = body;
  }
}

export class NetworkError extends Error {}

export function session() {
  try {
    return JSON.parse(localStorage.getItem(SESSION));
  } catch {
    return null;
  }
}

export function saveSession(value) {
  localStorage.setItem(SESSION, JSON.stringify(value));
}

/** Sign out; with actions of this person still waiting, ask first (they stay held on the tablet for them). */
export function signOut(waiting = 0) {
  if (waiting && !confirm(t("signout.pending", { n: waiting }))) {
    return;
  }
  localStorage.removeItem(SESSION);
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

export function randomKey() {
  if (crypto.randomUUID) {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A stable id of this tablet, made once. */
export function deviceId() {
  let found = localStorage.getItem(DEVICE);
  if (!found) {
    found = `tablet-${randomKey().replaceAll("-", "").slice(0, 8)}`;
    localStorage.setItem(DEVICE, found);
  }
  return found;
}

export function schoolPath(school, path) {
  return `/api/v1/schools/${encodeURIComponent(school)}/${path}`;
}

/** One API call; throws NetworkError when the network is down, ApiError on any refusal. */
export async function api(path, { method = "GET", body, token, headers = {} } = {}) {
  const who = token ?? session()?.token;
  const options = { method, headers: { Accept: "application/json", ...headers } };
  if (who) {
    options.headers.Authorization = `Bearer ${who}`;
  }
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new NetworkError(error.message);
  }
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : {};
  if (!response.ok) {
    throw new ApiError(response.status, parsed);
  }
  return parsed;
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

export function timeOf(iso, timeZone) {
  if (!iso) {
    return "";
  }
  const format = new Intl.DateTimeFormat(currentLanguage() === "zh-CN" ? "zh-CN" : "en-GB", {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  return format.format(new Date(iso));
}

export function placeLabel(card, code) {
  const place = card?.places.find((p) => p.code === code);
  if (!place) {
    return code ?? "";
  }
  return currentLanguage() === "zh-CN" ? place.label_zh : place.label_en;
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (name === "class") {
      node.className = value;
    } else if (name.startsWith("on")) {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? "" : value);
    }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

/** The header: who is signed in, the network state, the language switch and sign-out. */
export function setUpHeader(current, rerender, waiting = () => 0) {
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
  document.getElementById("signout")?.addEventListener("click", () => signOut(waiting()));
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

/** The header's count of this person's actions waiting to be sent. */
export function showPending(queue) {
  const count = document.getElementById("pending-count");
  const pending = queue.pending().length;
  count.hidden = pending === 0;
  count.textContent = t("pending.count", { n: pending });
}
