// The school admin's page: the school's own figures, the same counts the district page shows the bureau (only this
// school), and the school's disclosure log: who exported its records, when, why and which days. Admins only; the
// API refuses anyone else, and the page says so in plain words.

import { ApiError, api, schoolPath } from "./api.js";
import { renderDisclosures } from "./disclosures.js";
import { isoDay, mountFigures, renderFigures } from "./district-figures.js";
import { DISTRICT_WORDS } from "./district-words.js";
import { addWords, refusalText, t } from "./i18n.js";
import { requireSession, setUpHeader } from "./session.js";

addWords(DISTRICT_WORDS);

const current = requireSession();
const message = document.getElementById("district-message");
mountFigures(document.getElementById("district-view"));
const range = document.getElementById("range");
let shown = null;

function say(text, kind = "") {
  message.className = `message ${kind}`.trim();
  message.textContent = text;
}

function render() {
  if (shown) {
    renderFigures(shown.summary);
    renderDisclosures(document.getElementById("disclosures"), shown.log.items);
  }
}

async function show() {
  say(t("district.checking"));
  const query = new URLSearchParams({ from: range.from.value, to: range.to.value });
  try {
    const [summary, log] = await Promise.all([
      api(schoolPath(current.school, `summary?${query}`)),
      api(schoolPath(current.school, "disclosures")),
    ]);
    shown = { summary, log };
    say("");
    render();
    document.getElementById("district-view").hidden = false;
    document.getElementById("disclosure-panel").hidden = false;
  } catch (error) {
    const words = error instanceof ApiError ? t("district.refused", { message: refusalText(error.code, error.message) }) : t("district.offline");
    say(words, "error");
  }
}

range.addEventListener("submit", (event) => {
  event.preventDefault();
  show();
});

const today = new Date();
const weekAgo = new Date(today);
weekAgo.setDate(today.getDate() - 6);
range.from.value = isoDay(weekAgo);
range.to.value = isoDay(today);
setUpHeader(current, render);
await show();
