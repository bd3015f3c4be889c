// The backend's HTTP API as the background worker uses it. `fetchImpl` is injected so this
// module stays free of browser globals; it sends paper ids only, never the addresses of the
// pages a reader visits (an address goes out only when the reader pastes it to ask by hand).

import { parsePaperId } from "./identifiers.js";

export const REQUEST_TIMEOUT_MS = 8000;

/** A failure the reader can act on; `kind` picks the one-line explanation. */
export class BackendError extends Error {
  constructor(kind, message, status = null) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

function apiUrl(backendUrl, path) {
  return `${backendUrl}/api/v1${path}`;
}

/** One request; answers {status, body, retryAfter} or throws a BackendError. */
export async function request(fetchImpl, settings, path, { method = "GET", body, text, auth = false } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (text !== undefined) headers["Content-Type"] = "text/plain; charset=utf-8";
  if (auth) {
    if (!settings.token) throw new BackendError("no_token", "No API token is set.");
    headers.Authorization = `Bearer ${settings.token}`;
  }
  let response;
  try {
    response = await fetchImpl(apiUrl(settings.backendUrl, path), {
      method,
      headers,
      body: body === undefined ? text : JSON.stringify(body),
      credentials: "omit",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new BackendError("unreachable", String(error?.message ?? error));
  }
  const raw = await response.text();
  const parsed = parseJson(raw);
  const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  const result = { status: response.status, body: parsed, text: raw, retryAfter: retryAfter || null };
  if (response.status === 401 || response.status === 403) {
    throw new BackendError("unauthorized", errorMessage(parsed, "Token rejected."), response.status);
  }
  if (response.status === 503 && parsed?.error?.code === "source_unreachable") {
    // The backend is fine; the source that holds this paper is not (its message names it).
    throw new BackendError("source", errorMessage(parsed, "A source is unreachable."), response.status);
  }
  if (response.status >= 500) {
    throw new BackendError("server", errorMessage(parsed, "Server error."), response.status);
  }
  return result;
}

/** The answer's JSON body, or null when it has none (or something else came back). */
function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

function errorMessage(body, fallback) {
  return typeof body?.error?.message === "string" ? body.error.message : fallback;
}

/** GET /papers/<id> -> ready | pending | unknown (or throws). */
export async function fetchPaper(fetchImpl, settings, paperId) {
  const { status, body, retryAfter } = await request(fetchImpl, settings, `/papers/${encodeURIComponent(paperId)}`);
  if (status === 200) return { status: "ready", paper: body };
  if (status === 202) return { status: "pending", retryAfter: retryAfter ?? body?.retry_after ?? null };
  if (status === 404) return { status: "unknown" };
  throw new BackendError("http", errorMessage(body, `HTTP ${status}`), status);
}

/**
 * GET /resolve?url=... for an address the reader pasted and the extension's resolver does not
 * know -> {paper_id, version}. The answer's id is checked like any id the extension reads.
 */
export async function resolveAddress(fetchImpl, settings, address) {
  const query = new URLSearchParams({ url: address });
  const { status, body } = await request(fetchImpl, settings, `/resolve?${query}`);
  if (status === 422) {
    throw new BackendError("not_a_paper", "PaperLens knows no paper at this address.", status);
  }
  const found = status === 200 && typeof body?.paper_id === "string" ? parsePaperId(body.paper_id) : null;
  if (found === null) throw new BackendError("http", errorMessage(body, `HTTP ${status}`), status);
  return { paper_id: found.paper_id, version: Number.isInteger(body.version) ? body.version : null };
}

/** POST /papers/batch with every id of a listing page at once; only the listing marks. */
export async function fetchBatch(fetchImpl, settings, ids) {
  const { status, body } = await request(fetchImpl, settings, "/papers/batch", {
    method: "POST",
    body: { ids, view: "badges" },
  });
  if (status !== 200) throw new BackendError("http", errorMessage(body, `HTTP ${status}`), status);
  return body.items;
}

/** One library entry, or null when the paper is not saved. */
export async function fetchEntry(fetchImpl, settings, paperId) {
  const { status, body } = await request(fetchImpl, settings, `/me/library/${encodeURIComponent(paperId)}`, {
    auth: true,
  });
  if (status === 200) return body;
  if (status === 404) return null;
  throw new BackendError("http", errorMessage(body, `HTTP ${status}`), status);
}

export async function saveEntry(fetchImpl, settings, paperId, fields) {
  const { status, body } = await request(fetchImpl, settings, `/me/library/${encodeURIComponent(paperId)}`, {
    method: "PUT",
    body: fields,
    auth: true,
  });
  if (status === 200 || status === 201) return body;
  throw new BackendError("http", errorMessage(body, `HTTP ${status}`), status);
}

export async function removeEntry(fetchImpl, settings, paperId) {
  const { status, body } = await request(fetchImpl, settings, `/me/library/${encodeURIComponent(paperId)}`, {
    method: "DELETE",
    auth: true,
  });
  if (status === 200 || status === 204 || status === 404) return;
  throw new BackendError("http", errorMessage(body, `HTTP ${status}`), status);
}

const MAX_LIBRARY_PAGES = 20;

/** The reader's list (filtered), following cursors up to a sane bound. */
export async function listLibrary(fetchImpl, settings, filters = {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < MAX_LIBRARY_PAGES; page += 1) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
    if (cursor) query.set("cursor", cursor);
    const suffix = query.size ? `?${query}` : "";
    const { status, body } = await request(fetchImpl, settings, `/me/library${suffix}`, { auth: true });
    if (status !== 200) throw new BackendError("http", errorMessage(body, `HTTP ${status}`), status);
    items.push(...(body.items ?? []));
    cursor = body.next_cursor ?? null;
    if (!cursor) break;
  }
  return items;
}

/** One page of the reader's list: {items, next_cursor}; `query` holds the API's list filters. */
export async function listPage(fetchImpl, settings, query = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) params.set(name, String(value));
  const suffix = params.size ? `?${params}` : "";
  const { status, body } = await request(fetchImpl, settings, `/me/library${suffix}`, { auth: true });
  if (status !== 200) throw new BackendError("http", errorMessage(body, `HTTP ${status}`), status);
  return { items: body.items ?? [], next_cursor: body.next_cursor ?? null };
}

/** The list (or one tag, or the given ids) in one export format: {text, filename}. */
export async function exportLibrary(fetchImpl, settings, { format, tag, ids }) {
  const params = new URLSearchParams({ format });
  if (tag) params.set("tag", tag);
  const path = `/me/library/export?${params}`;
  const options = ids ? { method: "POST", body: { ids }, auth: true } : { auth: true };
  const { status, body, text } = await request(fetchImpl, settings, path, options);
  if (status !== 200) throw new BackendError("http", errorMessage(body, `HTTP ${status}`), status);
  return { text, filename: `paperlens-${tag || (ids ? "selection" : "library")}.${EXPORT_SUFFIXES[format]}` };
}

const EXPORT_SUFFIXES = { bibtex: "bib", csljson: "json", ris: "ris", csv: "csv" };

/** Send a BibTeX file or an id list; answers the backend's report (saved, merged, skipped). */
export async function importLibrary(fetchImpl, settings, { format, text }) {
  const path = `/me/library/import?${new URLSearchParams({ format })}`;
  const answer = await request(fetchImpl, settings, path, { method: "POST", text, auth: true });
  if (answer.status !== 200) {
    throw new BackendError("http", errorMessage(answer.body, `HTTP ${answer.status}`), answer.status);
  }
  return answer.body;
}

export async function listTags(fetchImpl, settings) {
  const { status, body } = await request(fetchImpl, settings, "/me/tags", { auth: true });
  if (status !== 200) return [];
  const items = Array.isArray(body) ? body : (body?.items ?? body?.tags ?? []);
  return items.map((item) => (typeof item === "string" ? item : (item.tag ?? item.name))).filter(Boolean);
}

export async function listSuggestions(fetchImpl, settings) {
  const { status, body, retryAfter } = await request(fetchImpl, settings, "/me/suggestions", {
    auth: true,
  });
  if (status === 202) return { pending: true, retryAfter, items: [] };
  if (status !== 200) throw new BackendError("http", errorMessage(body, `HTTP ${status}`), status);
  return { pending: false, items: body.items ?? [] };
}

export async function sendFeedback(fetchImpl, settings, paperId, signal) {
  const { status, body } = await request(fetchImpl, settings, "/me/feedback", {
    method: "POST",
    body: { paper_id: paperId, signal },
    auth: true,
  });
  if (status >= 300) throw new BackendError("http", errorMessage(body, `HTTP ${status}`), status);
}

/** Withdraw a signal (a dismissal undone); a signal already gone is no failure. */
export async function withdrawFeedback(fetchImpl, settings, paperId) {
  const path = `/me/feedback/${encodeURIComponent(paperId)}`;
  const { status, body } = await request(fetchImpl, settings, path, { method: "DELETE", auth: true });
  if (status >= 300 && status !== 404) throw new BackendError("http", errorMessage(body, `HTTP ${status}`), status);
}

/**
 * One page of the reader's research feed: {items, next_cursor, computed_at, last_refresh};
 * `params` from lib/feed.js.
 */
export async function feedPage(fetchImpl, settings, params) {
  const { status, body } = await request(fetchImpl, settings, `/me/feed?${params}`, { auth: true });
  if (status !== 200) throw new BackendError("http", errorMessage(body, `HTTP ${status}`), status);
  return {
    items: body.items ?? [],
    next_cursor: body.next_cursor ?? null,
    computed_at: body.computed_at ?? null,
    last_refresh: body.last_refresh ?? null,
  };
}

/** Everything 'Test connection' checks, each as one line a reader can act on. */
export async function testConnection(fetchImpl, settings) {
  const lines = [];
  try {
    const { status } = await request(fetchImpl, settings, "/openapi.json");
    if (status !== 200) {
      lines.push(`✗ ${settings.backendUrl} answered HTTP ${status}: is this a PaperLens backend?`);
      return { ok: false, lines };
    }
    lines.push(`✓ Reached the PaperLens API at ${settings.backendUrl}.`);
  } catch (error) {
    lines.push(describeError(error, settings.backendUrl));
    return { ok: false, lines };
  }
  if (!settings.token) {
    lines.push("✗ No API token: papers can be looked up, but not saved. Paste the token `make run` printed.");
    return { ok: false, lines };
  }
  try {
    const { status } = await request(fetchImpl, settings, "/me/library", { auth: true });
    if (status === 404) {
      lines.push("✗ This backend has no reading-list API (/api/v1/me/library); update it.");
      return { ok: false, lines };
    }
    lines.push("✓ The API token was accepted.");
    return { ok: status === 200, lines };
  } catch (error) {
    lines.push(describeError(error, settings.backendUrl));
    return { ok: false, lines };
  }
}

/** One clear line per failure kind; the overlay and popup add a link to the options. */
export function describeError(error, backendUrl) {
  switch (error?.kind) {
    case "unreachable":
      return `✗ Cannot reach PaperLens at ${backendUrl}: is it running, and is the address right?`;
    case "no_access":
      return `✗ PaperLens needs your permission to reach its backend at ${backendUrl}.`;
    case "unauthorized":
      return "✗ The API token was rejected: paste a valid token in the options.";
    case "no_token":
      return "✗ No API token is set: add one in the options to save papers.";
    case "source":
      return `✗ ${error.message}`;
    case "not_a_paper":
      return `✗ ${error.message}`;
    case "server":
      return `✗ PaperLens at ${backendUrl} had a problem (HTTP ${error.status}); try again shortly.`;
    default:
      return `✗ PaperLens answered unexpectedly: ${error?.message ?? error}`;
  }
}
