// When the bureau's witness last cosigned each school's log (日志最近见证), from the district summary's `witnessed`:
// every school of the district, with service rows in the range or not, so that a school that stops submitting its
// checkpoints, or whose checkpoints the witness refuses, stands out (⚠) once a day has passed without a cosignature.

import { madeAt } from "./disclosures.js";
import { renderHead } from "./district-figures.js";
import { t } from "./i18n.js";

const A_DAY_MS = 24 * 60 * 60 * 1000;
const HEADINGS = ["school", "at", "size", "outcome"];

function cell(tag, text, className = "") {
  const node = document.createElement(tag);
  node.textContent = text;
  node.className = className;
  return node;
}

function outcome(found) {
  if (!found.outcome) {
    return t("witnessed.outcome.none");
  }
  return found.outcome === "cosigned" ? t("witnessed.outcome.cosigned") : t("witnessed.outcome.refused", { code: found.outcome });
}

/** One row per school of `summary`: the newest cosigned checkpoint's time (Beijing) and size, the newest answer. */
export function renderWitnessed(summary) {
  const table = document.getElementById("witnessed");
  renderHead(table, HEADINGS.map((name) => `witnessed.col.${name}`));
  const rows = summary.schools.map((school) => {
    const found = summary.witnessed?.[school] ?? { at: null, tree_size: null, outcome: null };
    const stale = !found.at || Date.now() - new Date(found.at).getTime() > A_DAY_MS;
    const when = !found.at ? t("witnessed.never") : stale ? t("witnessed.stale", { at: madeAt(found.at) }) : madeAt(found.at);
    const row = document.createElement("tr");
    row.dataset.school = school;
    const head = cell("th", school);
    head.scope = "row";
    row.append(head, cell("td", when, stale ? "witnessed stale" : "witnessed"));
    row.append(cell("td", found.tree_size === null ? "–" : String(found.tree_size), "n size"), cell("td", outcome(found), "outcome"));
    return row;
  });
  table.tBodies[0].replaceChildren(...rows);
}
