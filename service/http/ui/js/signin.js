// Sign-in. On a tablet an admin enrolled, staff type their staff number and a six-digit PIN; elsewhere (or to enrol
// this tablet, as an admin) a staff token. The tablet keeps only its own id and secret, never a PIN or a name.

import { ApiError, api, deviceId, randomKey, saveSession, schoolPath, session } from "./api.js";
import { refusalText, t } from "./i18n.js";
import { keepPagesOffline, setUpHeader } from "./session.js";

const DEVICE_CARD = "handoff.device-card"; // {school, device_id, secret}: the tablet's enrolment, no personal data
const message = document.getElementById("signin-message");
let page = "gate";

for (const button of document.querySelectorAll("button[data-page]")) {
  button.addEventListener("click", () => {
    page = button.dataset.page;
  });
}

function enrolment() {
  try {
    return JSON.parse(localStorage.getItem(DEVICE_CARD));
  } catch {
    return null;
  }
}

function say(kind, words) {
  message.className = `message ${kind}`;
  message.textContent = words;
}

function failed(error) {
  say("error", error instanceof ApiError ? t("signin.failed", { message: refusalText(error.code, error.message, error.body) }) : t("signin.offline"));
}

async function open(school, token, fallbackStaff) {
  const card = await api(schoolPath(school, "ui/school"), { token });
  saveSession({ school, token, staff_id: card.staff_id ?? fallbackStaff, role: card.role });
  location.assign(`/ui/${page}.html`);
}

function showForms() {
  const enrolled = enrolment();
  document.getElementById("pin-form").hidden = !enrolled;
  document.getElementById("token-box").open = !enrolled;
  if (enrolled) {
    document.getElementById("enrolled-as").textContent = t("signin.enrolled", { school: enrolled.school, device: enrolled.device_id });
  }
}

document.getElementById("pin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const card = enrolment();
  say("", t("signin.checking"));
  try {
    const body = {
      device_id: card.device_id,
      device_secret: card.secret,
      device_time: new Date().toISOString(),
      staff_id: form.staff.value.trim(),
      pin: form.pin.value.trim(),
    };
    form.pin.value = "";
    const started = await api(schoolPath(card.school, "sign-in"), { method: "POST", body });
    await open(card.school, started.token, started.staff_id);
  } catch (error) {
    failed(error);
  }
});

const tokenForm = document.getElementById("signin-form");
tokenForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  say("", t("signin.checking"));
  try {
    await open(tokenForm.school.value.trim(), tokenForm.token.value.trim());
  } catch (error) {
    failed(error);
  }
});

document.getElementById("enrol-device").addEventListener("click", async () => {
  const school = tokenForm.school.value.trim();
  const token = tokenForm.token.value.trim();
  say("", t("signin.checking"));
  try {
    const body = { device_id: deviceId(), device_time: new Date().toISOString() };
    const headers = { "Idempotency-Key": randomKey() };
    const enrolled = await api(schoolPath(school, "devices"), { method: "POST", body, token, headers });
    localStorage.setItem(DEVICE_CARD, JSON.stringify({ school, device_id: enrolled.device_id, secret: enrolled.device_secret }));
    tokenForm.token.value = "";
    showForms();
    say("ok", t("signin.enrolled.now"));
  } catch (error) {
    failed(error);
  }
});

const previous = session();
if (previous?.school) {
  tokenForm.school.value = previous.school;
}
setUpHeader({ school: "", staff_id: "" }, showForms);
showForms();
keepPagesOffline();
