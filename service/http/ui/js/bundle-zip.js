// A bundle's zip read in the page, with the browser's own DecompressionStream: no library, nothing sent anywhere.
// Stored and deflated entries (what `handoff export` and the export routes write); no ZIP64, no encryption.

import { Unreadable } from "./bundle-crypto.js";

const END = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

async function inflate(data) {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function endRecord(view) {
  for (let at = view.byteLength - 22; at >= Math.max(0, view.byteLength - 22 - 65535); at -= 1) {
    if (view.getUint32(at, true) === END) {
      return at;
    }
  }
  throw new Unreadable("this file is not a zip archive");
}

/** The files of a zipped bundle by name (one folder around them all is taken off, as unzipping would leave it). */
export async function readZip(buffer) {
  const view = new DataView(buffer);
  const end = endRecord(view);
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const entries = [];
  for (let i = 0; i < count; i += 1) {
    if (view.getUint32(at, true) !== CENTRAL) {
      throw new Unreadable("the zip's directory is damaged");
    }
    const method = view.getUint16(at + 10, true);
    const size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const skip = nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(new Uint8Array(buffer, at + 46, nameLength));
    entries.push({ name, method, size, local });
    at += 46 + skip;
  }
  const files = new Map();
  for (const entry of entries.filter((e) => !e.name.endsWith("/"))) {
    if (view.getUint32(entry.local, true) !== LOCAL || ![0, 8].includes(entry.method)) {
      throw new Unreadable(`the zip entry ${entry.name} cannot be read here`);
    }
    const start = entry.local + 30 + view.getUint16(entry.local + 26, true) + view.getUint16(entry.local + 28, true);
    const data = new Uint8Array(buffer, start, entry.size);
    files.set(entry.name.replace(/^\.\//, ""), entry.method === 8 ? await inflate(data) : data.slice());
  }
  return withoutFolder(files);
}

function withoutFolder(files) {
  const folders = new Set([...files.keys()].map((name) => (name.includes("/") ? name.split("/")[0] : "")));
  if (folders.size !== 1 || folders.has("")) {
    return files;
  }
  const [folder] = folders;
  return new Map([...files].map(([name, data]) => [name.slice(folder.length + 1), data]));
}
