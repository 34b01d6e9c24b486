// The REST API as the pages use it: the user's tokens (refreshed once on a 401), a 5 s
// limit after which a request counts as offline, errors as the contract shapes them, and
// the money and id helpers both pages need. No framework: the pages are small.

const STORE = "tillstream.auth";

/** The signed-in user's tokens and who they are, kept across reloads of the page. */
export const auth = {
  get() {
    try {
      return JSON.parse(localStorage.getItem(STORE) || "null");
    } catch {
      return null;
    }
  },
  set(value) {
    localStorage.setItem(STORE, JSON.stringify(value));
  },
  clear() {
    localStorage.removeItem(STORE);
  },
};

/** A request the gateway did not answer in time, or could not be sent at all. */
export class Offline extends Error {
  constructor(reason) {
    super(`offline: ${reason}`);
    this.name = "Offline";
  }
}

/** An answer with an error status: the contract's `{error: {code, message, details}}`. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = error.code || "error";
    this.details = error.details || [];
    this.traceId = error.trace_id || null;
  }
  /** The field the server named, if any. */
  get field() {
    return this.details.length ? this.details[0].field : null;
  }
  /** A line a cashier can read: the message and the field it is about. */
  describe() {
    const detail = this.details.length ? ` (${this.details[0].field}: ${this.details[0].message})` : "";
    return `${this.message}${detail}`;
  }
}

export const TIMEOUT_MS = 5000;

/**
 * Calls `path` (under /api/v1 unless it starts with "/"). `body` is sent as JSON unless it
 * is a string (sent as `contentType`). Resolves to the parsed body (or text), throws
 * `ApiError` on an error status and `Offline` when nothing answered within `timeout` ms.
 */
export async function call(method, path, { body, headers = {}, timeout = TIMEOUT_MS, contentType, retried } = {}) {
  const url = path.startsWith("/") ? path : `/api/v1/${path}`;
  const session = auth.get();
  const sent = { ...headers };
  if (session && session.access_token) sent.Authorization = `Bearer ${session.access_token}`;
  let payload;
  if (body !== undefined) {
    payload = typeof body === "string" ? body : JSON.stringify(body);
    sent["Content-Type"] = contentType || "application/json";
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeout);
  let response;
  try {
    response = await fetch(url, { method, headers: sent, body: payload, signal: abort.signal, cache: "no-store" });
  } catch (error) {
    throw new Offline(error.name === "AbortError" ? "no answer within 5 s" : error.message);
  } finally {
    clearTimeout(timer);
  }
  if (response.status === 401 && !retried && session && session.refresh_token && !path.startsWith("auth/")) {
    if (await refresh(session)) return call(method, path, { body, headers, timeout, contentType, retried: true });
  }
  // The gateway is there but what it fronts is not: as good as offline for a till.
  if (response.status === 502 || response.status === 503 || response.status === 504) {
    throw new Offline(`HTTP ${response.status}`);
  }
  const type = response.headers.get("content-type") || "";
  const parsed = type.includes("json") ? await response.json().catch(() => ({})) : await response.text();
  if (!response.ok) {
    throw new ApiError(response.status, (parsed && parsed.error) || { message: `HTTP ${response.status}` });
  }
  return parsed;
}

async function refresh(session) {
  try {
    const pair = await call("POST", "auth/refresh", { body: { refresh_token: session.refresh_token }, retried: true });
    auth.set({ ...session, access_token: pair.access_token, refresh_token: pair.refresh_token });
    return true;
  } catch {
    auth.clear();
    return false;
  }
}

export const get = (path, options) => call("GET", path, options);
export const post = (path, body, options = {}) => call("POST", path, { ...options, body });

/** Logs in with a password or a PIN and keeps the tokens; answers `{id, username, role}`. */
export async function logIn(username, secret, withPin) {
  const pair = withPin
    ? await post("auth/pin-login", { username, pin: secret })
    : await post("auth/login", { username, password: secret });
  auth.set({ access_token: pair.access_token, refresh_token: pair.refresh_token });
  const me = await get("auth/me");
  auth.set({ ...auth.get(), user: me });
  return me;
}

export async function logOut() {
  const session = auth.get();
  auth.clear();
  if (session && session.refresh_token) {
    try {
      await call("POST", "auth/logout", {
        body: { refresh_token: session.refresh_token },
        headers: { Authorization: `Bearer ${session.access_token}` },
      });
    } catch {
      // Logged out here either way; the refresh token expires on its own.
    }
  }
}

/** Every page of a list, up to `max` rows. */
export async function all(path, max = 1000) {
  const rows = [];
  const join = path.includes("?") ? "&" : "?";
  for (let page = 1; rows.length < max; page += 1) {
    const answer = await get(`${path}${join}page=${page}&limit=200`);
    rows.push(...answer.data);
    if (page >= answer.meta.pages) break;
  }
  return rows;
}

// Money travels as decimal strings; the pages count in whole cents so that sums are exact.

/** "12.5" → 1250. */
export function cents(text) {
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(text).trim());
  if (!match) return NaN;
  const value = Number(match[2]) * 100 + Number((match[3] || "").padEnd(2, "0"));
  return match[1] ? -value : value;
}

/** 1250 → "12.50". */
export function money(value) {
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** Half away from zero, as the pricing rules round. */
export function roundHalfAway(value) {
  return Math.sign(value) * Math.round(Math.abs(value));
}

/** A ULID: 48 bits of milliseconds and 80 random bits in Crockford's base 32. */
export function ulid(now = Date.now()) {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  let time = "";
  let ms = now;
  for (let i = 0; i < 10; i += 1) {
    time = alphabet[ms % 32] + time;
    ms = Math.floor(ms / 32);
  }
  const random = crypto.getRandomValues(new Uint8Array(16));
  let tail = "";
  for (let i = 0; i < 16; i += 1) tail += alphabet[random[i] % 32];
  return time + tail;
}

/** `el("button", {class: "x", onclick}, "text", child)`: a small DOM builder. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Local time of an RFC 3339 stamp, short. */
export function when(stamp) {
  if (!stamp) return "";
  const date = new Date(stamp);
  return Number.isNaN(date.getTime()) ? stamp : date.toLocaleString();
}
