// Sending papers to the reader's Zotero library. Zotero desktop, when it runs, listens on a
// local connector server that takes items in its translator JSON; otherwise the Zotero Web API
// takes them with the reader's user id and key. Both are asked by the background only, and the
// key never goes to the PaperLens backend. `fetchImpl` is injected so this stays testable in Node.

import { codeLinks, paperUrl, safeHttpUrl } from "./links.js";
import { batches } from "./listing.js";

export const DEFAULT_CONNECTOR_URL = "http://127.0.0.1:23119";
export const DEFAULT_API_URL = "https://api.zotero.org";
// The Web API takes at most this many objects in one write request.
export const WEB_API_BATCH = 50;
// The connector answers at once when Zotero runs; waiting longer only delays the Web API route.
export const PING_TIMEOUT_MS = 1500;
export const SEND_TIMEOUT_MS = 15000;
// The connector protocol version these requests follow.
const CONNECTOR_API_VERSION = "3";
const CLIENT_VERSION = "PaperLens";
const CODE_TITLE = "Code";

/** What the stored values mean for Zotero: trimmed credentials and the two base URLs. */
export function zoteroSettings(stored) {
  const text = (value) => (typeof value === "string" ? value.trim() : "");
  const base = (value, fallback) => text(value).replace(/\/+$/, "") || fallback;
  return {
    userId: text(stored?.zoteroUserId),
    apiKey: text(stored?.zoteroKey),
    connectorUrl: base(stored?.zoteroConnectorUrl, DEFAULT_CONNECTOR_URL),
    apiUrl: base(stored?.zoteroApiUrl, DEFAULT_API_URL),
  };
}

/**
 * The host permissions both routes need, optional in the manifest and asked for on first use:
 * Zotero's connector server grants no CORS to extensions, so a host permission reaches it.
 */
export function permissionOrigins(settings) {
  return [settings.connectorUrl, settings.apiUrl].map((url) => {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}/*`;
  });
}

/**
 * Ask for access to both Zotero routes. Browsers ask only inside a user gesture, so call this
 * synchronously from a click on an extension page; a granted permission is not asked again.
 */
export function requestZoteroAccess(ext, settings) {
  return ext.permissions.request({ origins: permissionOrigins(settings) });
}

/** The arXiv id of a paper document ("2205.13147"), or null. */
export function arxivId(paper) {
  const ids = [paper?.paper_id, ...(Array.isArray(paper?.ids) ? paper.ids : [])];
  const found = ids.find((id) => typeof id === "string" && id.startsWith("arxiv:"));
  return found ? found.slice("arxiv:".length) : null;
}

/** "Ada B. Lovelace" -> Zotero's two-field author; a one-word name stays whole. */
function creator(name) {
  const text = String(name).trim();
  const at = text.lastIndexOf(" ");
  if (at < 0) return { creatorType: "author", name: text };
  return { creatorType: "author", firstName: text.slice(0, at), lastName: text.slice(at + 1) };
}

function text(value) {
  return typeof value === "string" ? value.trim() : "";
}

/** The item type and the fields only that type has, from the published version when known. */
function typedFields(paper, arxiv) {
  const version = paper?.published_version;
  const venue = text(version?.venue);
  if (venue && (version.entry_type === "inproceedings" || version.entry_type === "article")) {
    const fields = {
      DOI: text(version.doi),
      pages: text(version.pages),
      date: Number.isInteger(version.year) ? String(version.year) : text(paper.published),
    };
    if (version.entry_type === "inproceedings") {
      return { itemType: "conferencePaper", proceedingsTitle: venue, ...fields };
    }
    return { itemType: "journalArticle", publicationTitle: venue, ...fields };
  }
  return {
    itemType: "preprint",
    repository: arxiv ? "arXiv" : text(paper?.venue),
    archiveID: arxiv ? `arXiv:${arxiv}` : "",
    date: text(paper?.published),
  };
}

/**
 * One paper document (GET /papers/<id>) as a Zotero item: the published version's type and
 * fields where known, else a preprint; the arXiv id in archiveID (preprints) and in `extra`
 * as "arXiv: <id>", which Zotero reads for every type. Empty fields are left out.
 */
export function zoteroItem(paper) {
  const arxiv = arxivId(paper);
  const item = {
    ...typedFields(paper, arxiv),
    title: text(paper?.title) || String(paper?.paper_id ?? ""),
    creators: (Array.isArray(paper?.authors) ? paper.authors : []).filter((a) => text(a)).map(creator),
    abstractNote: text(paper?.abstract),
    url: paperUrl(paper?.paper_id ?? "") ?? "",
    extra: arxiv ? `arXiv: ${arxiv}` : "",
  };
  return Object.fromEntries(Object.entries(item).filter(([, value]) => value !== ""));
}

/** The official code link of a paper, or null: what becomes the linked-URL attachment. */
export function officialCodeUrl(paper) {
  const official = codeLinks(paper).find((link) => link.official);
  return official ? safeHttpUrl(official.url) : null;
}

/** The item as the connector takes it: the code link as an attachment saved as a link. */
export function connectorItem(paper, id) {
  const code = officialCodeUrl(paper);
  return {
    ...zoteroItem(paper),
    id,
    attachments: code ? [{ title: CODE_TITLE, url: code, mimeType: "text/html", snapshot: false }] : [],
  };
}

/** The Web API's child item for a code link: a linked-URL attachment under `parentKey`. */
export function linkAttachment(url, parentKey) {
  return { itemType: "attachment", parentItem: parentKey, linkMode: "linked_url", title: CODE_TITLE, url };
}

async function post(fetchImpl, url, headers, body, timeoutMs) {
  return fetchImpl(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
    credentials: "omit",
    signal: AbortSignal.timeout(timeoutMs),
  });
}

const CONNECTOR_HEADERS = {
  "X-Zotero-Version": CLIENT_VERSION,
  "X-Zotero-Connector-API-Version": CONNECTOR_API_VERSION,
};

/** Whether Zotero desktop answers its connector's ping, within a short wait. */
export async function connectorRunning(fetchImpl, connectorUrl) {
  try {
    const response = await fetchImpl(`${connectorUrl}/connector/ping`, {
      headers: CONNECTOR_HEADERS,
      credentials: "omit",
      signal: AbortSignal.timeout(PING_TIMEOUT_MS),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/** Every paper in one saveItems request; Zotero saves them all or answers an error. */
export async function sendToConnector(fetchImpl, connectorUrl, papers) {
  const items = papers.map((paper, index) => connectorItem(paper, `paperlens-${index}`));
  const body = { sessionID: `paperlens-${Date.now()}`, uri: items[0]?.url ?? "", items };
  let failure;
  try {
    const response = await post(
      fetchImpl,
      `${connectorUrl}/connector/saveItems`,
      CONNECTOR_HEADERS,
      body,
      SEND_TIMEOUT_MS,
    );
    failure = response.ok ? null : `Zotero answered HTTP ${response.status}.`; // 201 Created when saved
  } catch (error) {
    failure = `Zotero could not be reached: ${error?.message ?? error}`;
  }
  return papers.map((paper) => ({
    paper_id: paper.paper_id,
    ok: failure === null,
    ...(failure ? { message: failure } : {}),
  }));
}

function webApiHeaders(apiKey) {
  return { "Zotero-API-Key": apiKey, "Zotero-API-Version": "3" };
}

/** One write request of up to WEB_API_BATCH objects -> {index: key} and {index: message}. */
async function writeObjects(fetchImpl, settings, objects) {
  const url = `${settings.apiUrl}/users/${encodeURIComponent(settings.userId)}/items`;
  let response;
  try {
    response = await post(fetchImpl, url, webApiHeaders(settings.apiKey), objects, SEND_TIMEOUT_MS);
  } catch (error) {
    return failAll(objects, `Zotero could not be reached: ${error?.message ?? error}`);
  }
  if (response.status === 403) return failAll(objects, "Zotero refused the API key (it needs write access).");
  if (response.status !== 200) return failAll(objects, `Zotero answered HTTP ${response.status}.`);
  let answer;
  try {
    answer = await response.json();
  } catch {
    return failAll(objects, "Zotero's answer was not JSON.");
  }
  const keys = {};
  const failed = {};
  for (const [index, value] of Object.entries(answer?.successful ?? {})) keys[index] = value?.key ?? value?.data?.key;
  for (const [index, value] of Object.entries(answer?.success ?? {})) keys[index] ??= value;
  for (const [index, value] of Object.entries(answer?.failed ?? {})) failed[index] = String(value?.message ?? "failed");
  for (const index of objects.keys()) {
    if (keys[index] === undefined && failed[index] === undefined) failed[index] = "Zotero did not report this item.";
  }
  return { keys, failed };
}

function failAll(objects, message) {
  return { keys: {}, failed: Object.fromEntries(objects.map((_, index) => [String(index), message])) };
}

/**
 * The papers as Web API items in batches of WEB_API_BATCH, then each saved item's code link as
 * a child attachment (children need their parent's key, which only the first answer gives).
 * A paper whose attachment failed still counts as sent, with the attachment's failure noted.
 */
export async function sendToWebApi(fetchImpl, settings, papers) {
  const results = papers.map((paper) => ({ paper_id: paper.paper_id, ok: false }));
  const children = [];
  let offset = 0;
  for (const chunk of batches(papers, WEB_API_BATCH)) {
    const { keys, failed } = await writeObjects(fetchImpl, settings, chunk.map(zoteroItem));
    chunk.forEach((paper, index) => {
      const result = results[offset + index];
      if (keys[index] !== undefined) {
        result.ok = true;
        result.key = keys[index];
        const code = officialCodeUrl(paper);
        if (code) children.push({ result, attachment: linkAttachment(code, keys[index]) });
      } else {
        result.message = failed[index];
      }
    });
    offset += chunk.length;
  }
  for (const chunk of batches(children, WEB_API_BATCH)) {
    const { failed } = await writeObjects(
      fetchImpl,
      settings,
      chunk.map((child) => child.attachment),
    );
    chunk.forEach((child, index) => {
      if (failed[index] !== undefined) child.result.message = `The code link was not attached: ${failed[index]}`;
    });
  }
  return results;
}

/** A failure of a whole send, told apart from per-item failures; `line` is what the reader reads. */
export class ZoteroError extends Error {
  constructor(kind, line) {
    super(line);
    this.kind = kind;
    this.line = line;
  }
}

/**
 * Send papers to Zotero desktop when its connector answers the ping, else to the Web API with
 * the stored credentials: {route: "connector" | "web_api", results: [{paper_id, ok, ...}]}.
 */
export async function sendToZotero(fetchImpl, settings, papers) {
  if (await connectorRunning(fetchImpl, settings.connectorUrl)) {
    return { route: "connector", results: await sendToConnector(fetchImpl, settings.connectorUrl, papers) };
  }
  if (!settings.userId || !settings.apiKey) {
    throw new ZoteroError(
      "zotero_setup",
      "✗ Zotero desktop is not running, and no Zotero user id and API key are set in the options.",
    );
  }
  return { route: "web_api", results: await sendToWebApi(fetchImpl, settings, papers) };
}

/** One line for the reader about a send: how many went where, and the first failure's reason. */
export function describeSend({ route, results }) {
  const sent = results.filter((result) => result.ok).length;
  const failures = results.filter((result) => !result.ok || result.message);
  const first = failures.length ? `; ${failures[0].paper_id}: ${failures[0].message}` : ".";
  if (sent === 0) return `✗ Nothing was sent to Zotero${first}`;
  const where = route === "connector" ? "Zotero desktop" : "zotero.org";
  return `✓ Sent ${sent} of ${results.length} to ${where}${first}`;
}

/** One line per paper Zotero did not take, with why; named by its title where `titleOf` knows it. */
export function unsentLines(results, titleOf = () => null) {
  return (results ?? [])
    .filter((result) => !result.ok)
    .map((result) => `${titleOf(result.paper_id) || result.paper_id}: ${result.message ?? "not sent"}`);
}
