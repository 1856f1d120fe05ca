// Building the pages' elements, and saying times and places in the page's language.

import { currentLanguage } from "./i18n.js";

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
