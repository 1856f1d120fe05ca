// An event's readable copy checked against its leaf, as verify.py's leaf_disagrees does: every readable field must
// equal the leaf's plain value (a stored {"_type_", "_data_"} read as its data) or its opened value, and in a named
// bundle every opening must open its commitment, SHA-256(salt || value as JSON, sorted keys, no spaces).

import { Unreadable, fromHex, sha256, text, toHex } from "./bundle-crypto.js";

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** Python's == over JSON values: True == 1, 1 == 1.0, dicts by their items. */
export function same(a, b) {
  const scalar = (v) => (typeof v === "boolean" ? Number(v) : v);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => same(v, b[i]));
  }
  if (isObject(a) || isObject(b)) {
    const keys = isObject(a) && isObject(b) ? Object.keys(a) : null;
    return keys !== null && keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && same(a[k], b[k]));
  }
  return scalar(a) === scalar(b);
}

/** A stored value as the readable copy shows it. */
function unwrap(value) {
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 2 && keys.includes("_type_") && keys.includes("_data_")) {
      return value._data_;
    }
    return Object.fromEntries(keys.map((k) => [k, unwrap(value[k])]));
  }
  return Array.isArray(value) ? value.map(unwrap) : value;
}

/** json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False). */
function pythonJson(value) {
  if (Array.isArray(value)) {
    return `[${value.map(pythonJson).join(",")}]`;
  }
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${pythonJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

async function opens(salt, value, commitment) {
  return toHex(await sha256(fromHex(salt), text(pythonJson(value)))) === commitment;
}

function need(object, key) {
  if (!isObject(object) || !Object.hasOwn(object, key)) {
    throw new Unreadable(`KeyError: '${key}'`);
  }
  return object[key];
}

/** Where a line's readable copy and openings disagree with its leaf (null when they agree). */
export async function leafDisagrees(line, named) {
  const leaf = JSON.parse(need(line, "leaf"));
  const copy = need(line, "event");
  const openings = line.openings ?? null;
  const [plain, committed] = [need(leaf, "plain"), need(leaf, "committed")];
  const expected = [...Object.keys(committed), "stream"];
  if (named && (openings === null || Object.keys(openings).length !== new Set(expected).size || !expected.every((k) => Object.hasOwn(openings, k)))) {
    return "does not open every commitment of its leaf in this named bundle";
  }
  if (openings !== null) {
    for (const [name, c] of [...Object.entries(committed), ["stream", need(leaf, "stream")]]) {
      const [salt, value] = need(openings, name);
      if (!(await opens(salt, value, c))) {
        return "has an opening that does NOT open its commitment";
      }
    }
  }
  const topic = String(need(leaf, "topic"));
  if (!same(copy.type ?? null, topic.split(":").at(-1).split(".").at(-1))) {
    return "is not of the type its leaf holds";
  }
  if (!same(copy.server_time ?? null, unwrap(plain.timestamp ?? null))) {
    return "does not have its leaf's server time";
  }
  for (const [name, shown] of Object.entries(copy)) {
    const isPlain = Object.hasOwn(plain, name);
    if (isPlain && same(plain[name], shown)) {
      continue;
    }
    let ok;
    if (isPlain) {
      ok = same(unwrap(plain[name]), shown);
    } else if (Object.hasOwn(committed, name)) {
      ok = openings === null || name === "sealed" || same(shown, unwrap(need(openings, name)[1]));
    } else {
      ok = name === "type" || name === "server_time" || shown === null;
    }
    if (!ok) {
      return `shows ${name} NOT as its leaf holds it`;
    }
  }
  const missing = Object.keys(plain).filter((name) => !["timestamp", "class_version"].includes(name) && !Object.hasOwn(copy, name));
  return missing.length ? `leaves out ${missing.sort()[0]} of its leaf` : null;
}
