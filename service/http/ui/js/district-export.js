// Exports from the district page (督导检查): the inspector chooses the district or one school, a range and a reason,
// and the bundle is fetched with their token (in a header, never in a URL) and saved as a file from a Blob. The
// export is made by the same route as over the API, so it is recorded as a disclosure the same way; the page then
// shows the disclosure log and the key fingerprint the bundle must carry.

import { ApiError, api, deviceId, randomKey } from "./api.js";
import { renderDisclosures } from "./disclosures.js";
import { refusalText, t } from "./i18n.js";

const form = document.getElementById("export-form");
const message = document.getElementById("export-message");
let current = null;
let shownLog = [];

function say(text, kind = "") {
  message.className = `message ${kind}`.trim();
  message.textContent = text;
}

function exportPath(scope) {
  const district = encodeURIComponent(current.district);
  return scope ? `/api/v1/schools/${encodeURIComponent(scope)}/exports` : `/api/v1/districts/${district}/exports`;
}

function fileName(response, fallback) {
  const found = /filename="?([^";]+)"?/.exec(response.headers.get("Content-Disposition") || "");
  return found ? found[1] : fallback;
}

/** Save `blob` as a file: a link to an object URL (blob:…, no token, no name), clicked once, then let go. */
function save(blob, name) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

async function download(scope, from, to, reason) {
  const body = { device_id: deviceId(), device_time: new Date().toISOString(), day_from: from, day_to: to, reason };
  const response = await fetch(exportPath(scope), {
    method: "POST",
    headers: {
      Authorization: `Bearer ${current.token}`,
      "Idempotency-Key": randomKey(),
      "Content-Type": "application/json",
      Accept: "application/zip, application/json",
    },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const text = await response.text();
    throw new ApiError(response.status, text ? JSON.parse(text) : {});
  }
  const name = fileName(response, `handoff-export-${scope || current.district}-${from}-${to}.zip`);
  save(await response.blob(), name);
  return name;
}

async function showLog() {
  const found = await api(`/api/v1/districts/${encodeURIComponent(current.district)}/disclosures`, {
    token: current.token,
  });
  shownLog = found.items;
  renderDisclosures(document.getElementById("disclosures"), shownLog);
}

/** The log once the views hold the export just made (they follow the log within moments). */
async function showLogAfter(newest) {
  for (let tries = 0; tries < 20; tries += 1) {
    await showLog();
    if (shownLog[0]?.disclosure_id !== newest) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function showKey() {
  const keys = await api("/api/v1/signing-keys");
  document.getElementById("key-fingerprint").textContent = keys.current.fingerprint;
}

function fillScopes(schools) {
  const select = form.scope;
  const chosen = select.value;
  const whole = new Option(t("export.scope.district", { district: current.district }), "");
  select.replaceChildren(whole, ...schools.map((school) => new Option(t("export.scope.school", { school }), school)));
  select.value = schools.includes(chosen) ? chosen : "";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("export-download");
  button.disabled = true;
  say(t("export.working"));
  try {
    const newest = shownLog[0]?.disclosure_id;
    const name = await download(form.scope.value, form.from.value, form.to.value, form.reason.value.trim());
    say(t("export.done", { name }), "ok");
    form.reason.value = "";
    await showLogAfter(newest);
  } catch (error) {
    say(error instanceof ApiError ? t("export.refused", { message: refusalText(error.code, error.message) }) : t("district.offline"), "error");
  } finally {
    button.disabled = false;
  }
});

/** Show the export panel for the signed-in inspector, with the schools of the summary shown. */
export async function openExport(found, summary) {
  current = found;
  document.getElementById("export-panel").hidden = false;
  if (!form.from.value) {
    form.from.value = summary.day_from;
    form.to.value = summary.day_to;
  }
  fillScopes(summary.schools);
  await Promise.all([showLog(), showKey()]).catch(() => say(t("district.offline"), "error"));
}

/** Say it all again in the language just chosen. */
export function rerenderExport(summary) {
  if (current) {
    fillScopes(summary.schools);
    renderDisclosures(document.getElementById("disclosures"), shownLog);
  }
}
