// What the page's bundle verifier needs of cryptography, all from the browser itself: SHA-256 and SHA-512
// (SubtleCrypto), Ed25519 (WebCrypto's own, where the browser has it), signed notes (c2sp.org/signed-note) and the
// key fingerprint read out over the phone. The same rules as verify.py; bytes are Uint8Arrays throughout.

const utf8 = new TextEncoder();
const KEY_NAME = "handoff";
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export class Unreadable extends Error {}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export const text = (value) => utf8.encode(value);
export const equal = (a, b) => a.length === b.length && a.every((byte, i) => byte === b[i]);
export const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

export function fromHex(hex) {
  if (typeof hex !== "string" || hex.length % 2 || /[^0-9a-fA-F]/.test(hex)) {
    throw new Unreadable(`not hexadecimal: ${String(hex).slice(0, 20)}`);
  }
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** Base64 as Python's b64decode reads it by default: characters outside the alphabet are skipped. */
export function fromBase64(value) {
  const clean = [...String(value).split("=")[0]].filter((ch) => ALPHABET.includes(ch)).join("");
  if (clean.length % 4 === 1) {
    throw new Unreadable("base64 of a wrong length");
  }
  return Uint8Array.from(atob(clean.padEnd(Math.ceil(clean.length / 4) * 4, "=")), (ch) => ch.charCodeAt(0));
}

export function toBase64(bytes) {
  return btoa(String.fromCharCode(...bytes));
}

export async function sha256(...parts) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

/** 40 digits in eight groups of five, from SHA-512 of the raw key (as verify.py's fingerprint). */
export async function fingerprint(publicKey) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", concat(text("handoff signing key\n"), publicKey)));
  const groups = [];
  for (let i = 0; i < 40; i += 5) {
    const n = digest.slice(i, i + 5).reduce((acc, byte) => acc * 256 + byte, 0);
    groups.push(String(n % 100000).padStart(5, "0"));
  }
  return groups.join(" ");
}

/** Whether this browser's WebCrypto verifies Ed25519 (current Chromium, Firefox and Safari do). */
export async function hasEd25519() {
  try {
    const key = new Uint8Array(32);
    key[0] = 1; // the curve's neutral point, a valid encoding
    await crypto.subtle.importKey("raw", key, { name: "Ed25519" }, false, ["verify"]);
    return true;
  } catch {
    return false;
  }
}

/** RFC 8032 verification by WebCrypto; false for a key or signature of the wrong size, or one it cannot read. */
export async function ed25519Ok(publicKey, message, signature) {
  if (publicKey.length !== 32 || signature.length !== 64) {
    return false;
  }
  try {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch {
    return false;
  }
}

async function noteKeyId(publicKey) {
  return (await sha256(text(`${KEY_NAME}\n`), Uint8Array.of(1), publicKey)).slice(0, 4);
}

/** Python's str.splitlines: every line break it knows, no empty last line. */
export function splitLines(value) {
  const lines = value.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  return lines.at(-1) === "" ? lines.slice(0, -1) : lines;
}

/** The text of a signed note if a signature by one of `keys` verifies, else null. */
export async function openNote(note, keys) {
  const split = note.lastIndexOf("\n\n");
  if (split < 0) {
    return null;
  }
  const body = note.slice(0, split);
  const message = text(`${body}\n`);
  for (const line of splitLines(note.slice(split + 2))) {
    const bare = line.startsWith("\u2014 ") ? line.slice(2) : line;
    const space = bare.indexOf(" ");
    const [name, blob] = space < 0 ? [bare, ""] : [bare.slice(0, space), bare.slice(space + 1)];
    const raw = fromBase64(blob);
    for (const publicKey of keys) {
      if (name === KEY_NAME && equal(raw.slice(0, 4), await noteKeyId(publicKey)) && (await ed25519Ok(publicKey, message, raw.slice(4)))) {
        return `${body}\n`;
      }
    }
  }
  return null;
}

/** An expected key as the inspector types it: 40 fingerprint digits, or the raw key in base64; null if neither. */
export function pin(value) {
  const digits = value.replaceAll(" ", "").replaceAll("-", "");
  if (/^[0-9]{40}$/.test(digits)) {
    return digits;
  }
  try {
    const raw = /^[A-Za-z0-9+/]+={0,2}$/.test(value.trim()) ? fromBase64(value.trim()) : null;
    return raw?.length === 32 ? raw : null;
  } catch {
    return null;
  }
}
