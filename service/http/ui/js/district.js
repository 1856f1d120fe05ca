// The district page for the education bureau (督导): counts per school and day from the district summary, a chart,
// and the weekdays on which a school recorded no service. Counts only; the device keeps the district code and the
// inspector's token, nothing else.

import { ApiError, api } from "./api.js";
import { openExport, rerenderExport } from "./district-export.js";
import { isoDay, mountFigures, renderFigures } from "./district-figures.js";
import { rerenderVerdict } from "./district-verify.js";
import { renderWitnessed } from "./district-witnessed.js";
import { DISTRICT_WORDS } from "./district-words.js";
import { addWords, currentLanguage, refusalText, setLanguage, t, translatePage } from "./i18n.js";
import { showNetwork } from "./session.js";

addWords(DISTRICT_WORDS);

const KEPT = "handoff.district";
const message = document.getElementById("district-message");
const signin = document.getElementById("district-signin");
const view = document.getElementById("district-view");
mountFigures(view);
const range = document.getElementById("range");
let shown = null;

function kept() {
  try {
    return JSON.parse(localStorage.getItem(KEPT));
  } catch {
    return null;
  }
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

function render() {
  if (shown) {
    renderFigures(shown);
    renderWitnessed(shown);
    rerenderExport(shown);
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
  openExport(found, shown);
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
  rerenderVerdict();
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
