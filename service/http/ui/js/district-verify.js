// Checking a bundle in the page (在本机检查数据包): the inspector gives the fingerprint they got from elsewhere and
// the bureau witness's vkey (prefilled with the one this server pins, if any), and drops (or chooses) the bundle's
// zip; it is read and verified here, with no request at all, and the page shows every check made and the verdict,
// with the same reason codes as verify.py and `handoff verify`.

import { api } from "./api.js";
import { hasEd25519, pin } from "./bundle-crypto.js";
import { readZip } from "./bundle-zip.js";
import { t } from "./i18n.js";
import { verifyBundle } from "./verify-bundle.js";
import { witnessKey } from "./verify-witness.js";

const form = document.getElementById("verify-form");
const verdict = document.getElementById("verify-verdict");
const list = document.getElementById("verify-checks");
let last = null;

function render() {
  if (!last) {
    return;
  }
  const { ok, reasons, lines, kind } = last;
  verdict.className = `message ${ok ? "ok" : "error"}`;
  verdict.dataset.verdict = ok ? "verified" : "refused";
  verdict.dataset.reasons = reasons.join(" ");
  const why = reasons.map((code) => t(`verify.reason.${code}`)).join(t("verify.and"));
  verdict.textContent = kind ? t(kind) : ok ? t("verify.ok") : t("verify.refused", { why });
  list.replaceChildren(
    ...lines.map((line) => {
      const item = document.createElement("li");
      item.className = line.ok === null ? "said" : line.ok ? "ok" : "bad";
      item.textContent = line.ok === null ? line.what : `${line.ok ? "✓" : "✗"} ${line.what}: ${line.said}`;
      return item;
    }),
  );
}

/** The pinned witnesses of the field ([name, raw key] each; several vkeys may be given), or null if one is no vkey. */
async function pinnedWitnesses() {
  const found = await Promise.all(form.witness.value.split(/\s+/).filter(Boolean).map(witnessKey));
  return found.includes(null) ? null : found;
}

async function check(file) {
  const expected = form.key.value.trim() ? pin(form.key.value) : null;
  const witnesses = await pinnedWitnesses();
  if (form.key.value.trim() && expected === null) {
    last = { ok: false, reasons: ["key_malformed"], lines: [], kind: "verify.bad_key" };
  } else if (witnesses === null) {
    last = { ok: false, reasons: ["witness_key_malformed"], lines: [], kind: "verify.bad_witness_key" };
  } else if (!(await hasEd25519())) {
    last = { ok: false, reasons: ["ed25519_unavailable"], lines: [], kind: "verify.no_ed25519" };
  } else {
    verdict.textContent = t("verify.working");
    try {
      const files = await readZip(await file.arrayBuffer());
      last = await verifyBundle(files, expected === null ? [] : [expected], witnesses);
    } catch (error) {
      last = { ok: false, reasons: ["unreadable"], lines: [{ what: error.message, ok: false, said: "" }] };
    }
  }
  render();
}

form.file.addEventListener("change", async () => {
  const [file] = form.file.files;
  if (file) {
    await check(file);
    form.file.value = ""; // the same file chosen again is checked again
  }
});
const drop = document.getElementById("verify-drop");
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const file = event.dataTransfer.files[0];
  if (file) {
    check(file);
  }
});
form.addEventListener("submit", (event) => event.preventDefault());

let served;

/** Where the witness field's vkey comes from, and where else to confirm it, in the language shown. */
function renderWitnessNote() {
  const note = document.getElementById("verify-witness-where");
  const kind = served === undefined ? "" : served === null ? "none" : served.stand_in ? "stand_in" : "server";
  note.textContent = kind ? t(`verify.witness.${kind}`, { name: served?.name ?? "" }) : "";
  note.className = `note${kind === "stand_in" ? " warning" : ""}`;
}

/** Prefill the witness's vkey with the one this server pins (GET /api/v1/signing-keys, no token), if it has one. */
async function prefillWitness() {
  try {
    served = (await api("/api/v1/signing-keys", { token: "" })).witness;
  } catch {
    served = null;
  }
  if (served && !form.witness.value.trim()) {
    form.witness.value = served.vkey;
  }
  renderWitnessNote();
}

/** Say the verdict and the witness note again in the language just chosen. */
export function rerenderVerdict() {
  render();
  renderWitnessNote();
}

prefillWitness();
