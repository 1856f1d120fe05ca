// Sign-in: the staff token is checked against the school card before it is kept on the device.

import { refusalText, t } from "./i18n.js";
import { ApiError, api, keepPagesOffline, saveSession, schoolPath, session, setUpHeader } from "./session.js";

const form = document.getElementById("signin-form");
const message = document.getElementById("signin-message");
let page = "gate";

for (const button of form.querySelectorAll("button[data-page]")) {
  button.addEventListener("click", () => {
    page = button.dataset.page;
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const school = form.school.value.trim();
  const token = form.token.value.trim();
  message.className = "message";
  message.textContent = t("signin.checking");
  try {
    const card = await api(schoolPath(school, "ui/school"), { token });
    saveSession({ school, token, staff_id: card.staff_id, role: card.role });
    location.assign(`/ui/${page}.html`);
  } catch (error) {
    message.className = "message error";
    message.textContent =
      error instanceof ApiError ? t("signin.failed", { message: refusalText(error.code, error.message) }) : t("signin.offline");
  }
});

const previous = session();
if (previous?.school) {
  form.school.value = previous.school;
}
setUpHeader({ school: "", staff_id: "" }, () => {});
keepPagesOffline();
