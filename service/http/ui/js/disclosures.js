// The disclosure log (披露记录) as a table: who exported what, when and why. Shared by the district page and the
// school admin's page; staff references only, never a child.

import { renderHead } from "./district-figures.js";
import { currentLanguage, t } from "./i18n.js";

const BEIJING = "Asia/Shanghai";
const HEADINGS = ["made_at", "actor", "requested_by", "schools", "days", "names", "reason"];

/** A moment as Beijing time (北京时间), the way the bureau reads times. */
export function madeAt(iso) {
  const format = new Intl.DateTimeFormat(currentLanguage() === "zh-CN" ? "zh-CN" : "en-GB", {
    timeZone: BEIJING,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  return format.format(new Date(iso));
}

function cell(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}

/** Fill `table` (an empty <table> the page places) with its head and the disclosures, newest first; a line saying
 * there are none otherwise. */
export function renderDisclosures(table, items) {
  renderHead(table, HEADINGS.map((name) => `disclosures.col.${name}`));
  const rows = items.map((item) => {
    const row = document.createElement("tr");
    row.dataset.disclosure = item.disclosure_id;
    row.append(
      cell("td", madeAt(item.made_at)),
      cell("td", `${item.actor_id} (${t(`role.${item.actor_role}`)})`),
      cell("td", item.requested_by),
      cell("td", item.schools.join(currentLanguage() === "zh-CN" ? "、" : ", ")),
      cell("td", item.day_from === item.day_to ? item.day_from : `${item.day_from} – ${item.day_to}`),
      cell("td", item.pseudonymised ? t("disclosures.pseudonymised") : t("disclosures.named")),
      cell("td", item.reason),
    );
    return row;
  });
  if (!rows.length) {
    const row = document.createElement("tr");
    const none = cell("td", t("disclosures.none"));
    none.colSpan = 7;
    row.append(none);
    rows.push(row);
  }
  (table.tBodies[0] ?? table.createTBody()).replaceChildren(...rows);
}
