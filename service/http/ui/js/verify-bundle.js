// The third verifier of audit bundles, in the page: exactly the checks of the bundle's own verify.py (and of
// `handoff verify`), in the same order, with the same reason codes, so that all three give one verdict. The bundle
// never leaves the page. Trees are RFC 6962 over SHA-256; signatures are Ed25519 through WebCrypto.

import { Unreadable, equal, fingerprint, fromBase64, fromHex, openNote, sha256, splitLines, text, toHex } from "./bundle-crypto.js";
import { leafDisagrees } from "./verify-leaf.js";
import { checkProofs } from "./verify-proofs.js";
import { checkWitnessed } from "./verify-witness.js";

const SPKI_PREFIX = fromHex("302a300506032b6570032100");
const H0 = Uint8Array.of(0);
const H1 = Uint8Array.of(1);
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

class Check {
  constructor() {
    Object.assign(this, { lines: [], problems: [], reasons: [] });
  }

  say(what, ok, bad = "is WRONG", code = "bundle_wrong") {
    this.lines.push({ what, ok, said: ok ? "ok" : `${bad} (${code})`, code: ok ? null : code });
    if (!ok) {
      this.fail(`${what}: ${bad} (${code})`, code);
    }
    return ok;
  }

  fail(problem, code) {
    this.problems.push({ problem, code });
    if (!this.reasons.includes(code)) {
      this.reasons.push(code);
    }
  }
}

function read(files, name) {
  if (!files.has(name)) {
    throw new Unreadable(`No such file: ${name}`);
  }
  return strict.decode(files.get(name));
}

const json = (value) => JSON.parse(value);
const has = (keys, key) => keys.some((k) => equal(k, key));

async function acceptedKeys(files, pins, check) {
  const pem = read(files, "public_key.pem");
  if (/[^\x00-\x7f]/.test(pem)) {
    throw new Unreadable("public_key.pem is not ASCII");
  }
  const der = fromBase64(splitLines(pem).filter((ln) => ln && !ln.startsWith("-----")).join(""));
  if (der.length !== 44 || !equal(der.slice(0, 12), SPKI_PREFIX)) {
    check.say("public_key.pem", false, "is NOT an Ed25519 public key", "key_malformed");
    return [];
  }
  const own = der.slice(12);
  check.lines.push({ what: `the bundle's key has the fingerprint ${await fingerprint(own)}`, ok: null });
  const history = files.has("keys.json") ? json(read(files, "keys.json")) : { keys: [], rotations: [] };
  const candidates = [own, ...history.keys.map(fromBase64)];
  const keys = pins.length ? pins.filter((p) => p instanceof Uint8Array) : [own];
  for (const key of candidates) {
    if (pins.includes((await fingerprint(key)).replaceAll(" ", "")) && !has(keys, key)) {
      keys.push(key);
    }
  }
  for (const _ of history.rotations) {
    for (const note of history.rotations) {
      const opened = await openNote(note, keys);
      const fields = new Map(
        splitLines(opened ?? "").slice(1).map((line) => {
          const space = line.indexOf(" ");
          if (space < 0) {
            throw new Unreadable("a rotation note's line has no value");
          }
          return [line.slice(0, space), line.slice(space + 1)];
        }),
      );
      const added = fromBase64(fields.get("new") ?? "");
      if (opened && opened.startsWith("handoff-key-rotation v1\n") && added.length === 32 && !has(keys, added)) {
        keys.push(added);
        check.lines.push({ what: `key ${await fingerprint(added)} was announced by an accepted key (${fields.get("at")})`, ok: null });
      }
    }
  }
  check.say("the bundle's key is the key expected", has(keys, own), "is NOT the key expected (--key)", "key_unexpected");
  return keys;
}

async function readStatement(files, keys, check) {
  const opened = await openNote(read(files, "statement.txt"), keys);
  if (!check.say("statement.txt is signed by an accepted key", opened !== null, "is NOT", "statement_unsigned")) {
    return null;
  }
  const lines = splitLines(opened);
  check.say("statement.txt is a handoff-export v3 statement", lines[0] === "handoff-export v3", "is NOT", "statement_format");
  const heads = new Map();
  const listed = new Map();
  for (const line of lines) {
    const parts = line.split(" ");
    if (line.startsWith("head ")) {
      if (parts.length !== 4 || !/^\s*[+-]?\d+\s*$/.test(parts[2])) {
        throw new Unreadable("a head line of the statement is malformed");
      }
      heads.set(parts[1], [Number(parts[2]), fromBase64(parts[3])]);
    } else if (line.startsWith("file ")) {
      if (parts.length !== 3) {
        throw new Unreadable("a file line of the statement is malformed");
      }
      listed.set(parts[1], parts[2]);
    }
  }
  check.lines.push(...lines.filter((ln) => ["made", "days", "pseudonymised"].includes(ln.split(" ")[0])).map((what) => ({ what, ok: null })));
  return { heads, listed, named: lines.includes("pseudonymised no") };
}

async function checkFiles(files, listed, check) {
  const present = [...files.keys()].filter((name) => name !== "statement.txt").sort();
  const signed = [...listed.keys()].sort();
  check.say(`the statement lists every file (${present.length})`, signed.join("\n") === present.join("\n"), "does NOT", "file_list");
  for (const name of signed.filter((n) => present.includes(n))) {
    const got = toHex(await sha256(files.get(name)));
    check.say(`${name} is the file signed`, got === listed.get(name), "was CHANGED after the export", "file_changed");
  }
}

async function rootOf(stack) {
  let root = stack.length ? stack.at(-1)[1] : await sha256();
  for (const [, hash] of stack.slice(0, -1).reverse()) {
    root = await sha256(H1, hash, root);
  }
  return root;
}

async function checkTrees(files, heads, checkpoints, check, named) {
  const wanted = new Set([...checkpoints.map((c) => `${c.school_id}\0${c.tree_size}`), ...[...heads].map(([s, [n]]) => `${s}\0${n}`)]);
  const stacks = new Map();
  const sizes = new Map();
  const roots = new Map();
  let disagreeing = 0;
  for (const line of read(files, "events.jsonl").split(/\r\n|\n|\r/).filter((ln) => ln.trim())) {
    const event = json(line);
    const school = event.school_id;
    if (school === undefined) {
      throw new Unreadable("an event has no school_id");
    }
    if (!stacks.has(school)) {
      stacks.set(school, []);
    }
    const stack = stacks.get(school);
    const size = sizes.get(school) ?? 0;
    let height;
    let hash;
    if ("leaf" in event) {
      [height, hash] = [0, await sha256(H0, text(event.leaf))];
      const wrong = await leafDisagrees(event, named);
      if (wrong && disagreeing < 5) {
        check.say(`school ${school}: the readable copy of event ${event.index}`, false, wrong, "copy_disagrees");
      }
      disagreeing += wrong ? 1 : 0;
    } else {
      [height, hash] = [event.subtree[0], fromHex(event.subtree[1])];
    }
    if (event.index !== size || size % 2 ** height || (stack.length && stack.at(-1)[0] < height)) {
      check.say(`school ${school}: event ${event.index}`, false, `is out of place (expected ${size})`, "event_out_of_place");
      return null;
    }
    sizes.set(school, size + 2 ** height);
    while (stack.length && stack.at(-1)[0] === height) {
      [hash, height] = [await sha256(H1, stack.pop()[1], hash), height + 1];
    }
    stack.push([height, hash]);
    if (wanted.has(`${school}\0${sizes.get(school)}`)) {
      roots.set(`${school}\0${sizes.get(school)}`, await rootOf(stack));
    }
  }
  check.say(`every readable copy agrees with its leaf (${disagreeing} do not)`, !disagreeing, "does NOT", "copy_disagrees");
  const sameSchools = sizes.size === heads.size && [...sizes.keys()].every((s) => heads.has(s));
  check.say("the bundle holds the schools of the statement", sameSchools, "does NOT", "schools_differ");
  for (const [school, [n, root]] of [...heads].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const reached = roots.get(`${school}\0${n}`);
    const ok = sizes.get(school) === n && reached !== undefined && equal(reached, root);
    check.say(`school ${school}: ${sizes.get(school) ?? 0} events reach the head of ${n} signed at export`, ok, "do NOT", "head_not_reached");
  }
  return roots;
}

async function checkCheckpoints(checkpoints, keys, roots, heads, check) {
  for (const c of checkpoints) {
    const opened = await openNote(c.note, keys);
    const fields = (opened ?? "").split("\n");
    const root = btoa(String.fromCharCode(...fromHex(c.root_hex)));
    let ok = opened !== null && fields[0] === `handoff/${c.school_id}` && fields[1] === String(c.tree_size) && fields[2] === root;
    const reached = roots.get(`${c.school_id}\0${c.tree_size}`);
    ok = ok && reached !== undefined && equal(reached, fromHex(c.root_hex));
    ok = ok && c.tree_size <= (heads.get(c.school_id) ?? [-1])[0];
    check.say(`school ${c.school_id}: checkpoint of ${c.tree_size} events (${c.made_at})`, ok, "does NOT verify", "checkpoint_invalid");
  }
}

/** Every check of verify.py over the bundle's files (a Map of name to bytes), against the expected keys and the
 * pinned witnesses ([name, raw key] each). */
export async function verifyBundle(files, pins, witnesses) {
  const check = new Check();
  try {
    const keys = await acceptedKeys(files, pins, check);
    const statement = await readStatement(files, keys, check);
    if (statement) {
      await checkFiles(files, statement.listed, check);
      const checkpoints = json(read(files, "checkpoints.json"));
      const roots = await checkTrees(files, statement.heads, checkpoints, check, statement.named);
      if (roots !== null) {
        await checkCheckpoints(checkpoints, keys, roots, statement.heads, check);
      }
      await checkProofs(json(read(files, "proofs.json")), checkpoints, statement.heads, check);
      await checkWitnessed(checkpoints, statement.heads, witnesses, check);
    }
  } catch (error) {
    check.fail(`the bundle cannot be read: ${error.name}: ${error.message}`, "unreadable");
  }
  if (!pins.length) {
    check.fail("no expected key was given: the bundle's own key proves nothing", "no_expected_key");
  }
  if (!witnesses.length) {
    check.fail("no witness key was given: nobody independent vouches", "witness_key_missing");
  }
  return { ok: !check.problems.length, lines: check.lines, problems: check.problems, reasons: check.reasons };
}
