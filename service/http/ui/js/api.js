// The API as the staff pages call it: the session's token, this tablet's id, idempotency keys, and errors the pages
// can tell apart (a refusal, or no network).

const SESSION = "handoff.session";
const DEVICE = "handoff.device";

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || "error";
    this.body = body;
  }
}

export class NetworkError extends Error {}

export function session() {
  try {
    return JSON.parse(localStorage.getItem(SESSION));
  } catch {
    return null;
  }
}

export function saveSession(value) {
  localStorage.setItem(SESSION, JSON.stringify(value));
}

export function forgetSession() {
  localStorage.removeItem(SESSION);
}

export function randomKey() {
  if (crypto.randomUUID) {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A stable id of this tablet, made once. */
export function deviceId() {
  let found = localStorage.getItem(DEVICE);
  if (!found) {
    found = `tablet-${randomKey().replaceAll("-", "").slice(0, 8)}`;
    localStorage.setItem(DEVICE, found);
  }
  return found;
}

export function schoolPath(school, path) {
  return `/api/v1/schools/${encodeURIComponent(school)}/${path}`;
}

/** A photo (an image answer of the API), fetched with the staff token and kept in memory as a blob: URL; null when
 * there is none or the network is down. Never cached on the device (the answer says no-store). */
export async function photoUrl(path) {
  try {
    const response = await fetch(path, { headers: { Accept: "image/*", Authorization: `Bearer ${session()?.token}` } });
    return response.ok ? URL.createObjectURL(await response.blob()) : null;
  } catch {
    return null;
  }
}

/** One API call; throws NetworkError when the network is down, ApiError on any refusal. */
export async function api(path, { method = "GET", body, token, headers = {} } = {}) {
  const who = token ?? session()?.token;
  const options = { method, headers: { Accept: "application/json", ...headers } };
  if (who) {
    options.headers.Authorization = `Bearer ${who}`;
  }
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new NetworkError(error.message);
  }
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : {};
  if (!response.ok) {
    throw new ApiError(response.status, parsed);
  }
  return parsed;
}
