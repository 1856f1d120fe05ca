// The witness's part of the page's bundle verifier, as verify.py's witness_key, cosigned and check_witnessed: each
// school's head checkpoint must carry a cosignature (c2sp.org/tlog-cosignature, Ed25519, "cosignature/v1") from a
// pinned witness key, given as its vkey (c2sp.org/signed-note: name+key id hex+base64(0x04 || key)).

import { ed25519Ok, equal, fromBase64, sha256, splitLines, text, toHex } from "./bundle-crypto.js";

const KEY_NAME = "handoff";
const COSIGNATURE_V1 = Uint8Array.of(4);
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

async function cosignerKeyId(name, publicKey) {
  return (await sha256(text(`${name}\n`), COSIGNATURE_V1, publicKey)).slice(0, 4);
}

/** A pinned witness as the inspector gives it, its vkey: [name, raw key], or null when it is not a vkey. */
export async function witnessKey(vkey) {
  const trimmed = vkey.trim();
  const [name, rest] = [trimmed.slice(0, trimmed.indexOf("+")), trimmed.slice(trimmed.indexOf("+") + 1)];
  const [keyId, blob] = [rest.slice(0, rest.indexOf("+")), rest.slice(rest.indexOf("+") + 1)];
  if (!trimmed.includes("+") || !rest.includes("+") || !STRICT_BASE64.test(blob)) {
    return null;
  }
  const raw = fromBase64(blob);
  if (raw.length !== 33 || raw[0] !== 4 || toHex(await cosignerKeyId(name, raw.slice(1))) !== keyId.toLowerCase()) {
    return null;
  }
  return [name, raw.slice(1)];
}

/** null when a pinned witness cosigned the checkpoint `note`; otherwise why not, as a reason code. */
export async function cosigned(note, witnesses) {
  const split = note.lastIndexOf("\n\n");
  const body = split < 0 ? "" : note.slice(0, split);
  let [found, invalid] = [false, false];
  for (const line of split < 0 ? [] : splitLines(note.slice(split + 2))) {
    const bare = line.startsWith("\u2014 ") ? line.slice(2) : line;
    const space = bare.indexOf(" ");
    const [name, blob] = space < 0 ? [bare, ""] : [bare.slice(0, space), bare.slice(space + 1)];
    const raw = fromBase64(blob);
    found = found || name !== KEY_NAME;
    for (const [witness, publicKey] of witnesses) {
      if (name === witness && equal(raw.slice(0, 4), await cosignerKeyId(witness, publicKey))) {
        const time = raw.slice(4, 12).reduce((n, byte) => n * 256n + BigInt(byte), 0n);
        const message = text(`cosignature/v1\ntime ${time}\n${body}\n`);
        if (raw.length === 76 && (await ed25519Ok(publicKey, message, raw.slice(12)))) {
          return null;
        }
        invalid = true;
      }
    }
  }
  return invalid ? "cosignature_invalid" : found ? "cosignature_unpinned" : "cosignature_missing";
}

/** Each school's head must be a checkpoint a pinned witness cosigned: it saw no other history of that log. */
export async function checkWitnessed(checkpoints, heads, witnesses, check) {
  for (const [school, [n, root]] of [...heads].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const head = checkpoints.find((c) => c.school_id === school && c.tree_size === n && c.root_hex === toHex(root));
    const reason = head ? await cosigned(head.note, witnesses) : "cosignature_missing";
    check.say(`school ${school}: the checkpoint of ${n} events is cosigned by a pinned witness`, reason === null, "is NOT", reason ?? "");
  }
}
