// The only part of the extension that talks to the backend. Content scripts and the popup
// message it (lib/messages.js). It keeps no state in globals, since the browser may stop it
// at any time: the backend URL and token live in the extension origin's IndexedDB
// (lib/connection_store.js), site switches in storage.local, short-lived answers in
// storage.session (which content scripts cannot read). What a content script may ask is
// decided by lib/sender_policy.js.

import { hasBackendAccess } from "./lib/access.js";
import * as backend from "./lib/backend.js";
import { readPasted } from "./lib/ask.js";
import { badgeAllowed, needsAddressLookup, paperMarks, tabBadge } from "./lib/badge.js";
import { entryFor, isFresh, libraryKey, paperKey } from "./lib/cache.js";
import { withDefaults } from "./lib/config.js";
import {
  BADGE_COLOR,
  badgeText,
  badgeTitle,
  COUNT_MAX,
  feedQuery,
  later,
  micros,
  POLL_MINUTES,
  SEEN_KEY,
} from "./lib/feed.js";
import { migrateFromStorageLocal } from "./lib/connection_store.js";
import { resolveUrl } from "./lib/identifiers.js";
import { badgesFor, batches, entryPaperId, groupLinks } from "./lib/listing.js";
import * as messages from "./lib/messages.js";
import { contentScriptMessage, fromExtensionPage, senderPageUrl } from "./lib/sender_policy.js";
import { describeSend, sendToZotero, ZoteroError, zoteroSettings } from "./lib/zotero.js";

const ext = globalThis.browser ?? globalThis.chrome;
// Never storage.local: the saved-ids cache must stay out of content scripts' reach.
const sessionStore = ext.storage.session;

async function settings() {
  const connection = await migrateFromStorageLocal(ext.storage.local);
  const { sites } = await ext.storage.local.get(["sites"]);
  return withDefaults({ ...connection, sites });
}

/** Settings for a backend call; refuses early, with its own kind, without access to the backend. */
async function backendSettings() {
  const config = await settings();
  if (!(await hasBackendAccess(ext, config.backendUrl))) {
    throw new backend.BackendError("no_access", "No permission to reach the backend.");
  }
  return config;
}

async function cached(key, compute) {
  const now = Date.now();
  const stored = (await sessionStore.get(key))[key];
  if (isFresh(stored, now)) return stored.value;
  const value = await compute();
  const entry = entryFor(value, now);
  if (entry) await sessionStore.set({ [key]: entry });
  return value;
}

async function forget(key) {
  await sessionStore.remove(key);
}

// ------------------------------------------------------------------ handlers

/** The backend's answer about one paper, kept briefly; `fresh` asks again. */
async function paperAnswer(config, paperId, fresh = false) {
  const key = paperKey(config.backendUrl, paperId);
  if (fresh) await forget(key);
  return cached(key, () => backend.fetchPaper(fetch, config, paperId));
}

/** The paper a page shows, resolved locally; only its id is sent to the backend. */
async function lookupPage({ page, fresh = false }, sender) {
  const found = resolveUrl(page?.url ?? "", page?.meta ?? null);
  if (found === null) return { status: "none" };
  const config = await backendSettings();
  const result = await paperAnswer(config, found.paper_id, fresh);
  // A content script's page may name its paper in meta tags only, which the tab's address
  // does not show: its lookup marks the tab too.
  if (Number.isInteger(sender?.tab?.id)) markTab(sender.tab.id, found.paper_id, config, result);
  return { ...result, paper_id: found.paper_id, version: found.version, hasToken: Boolean(config.token) };
}

/**
 * The paper an id or address the reader pasted names: resolved locally when the shared resolver
 * knows it, else by the backend, which the reader asked by pasting it.
 */
async function askPaper({ text }) {
  const pasted = readPasted(text);
  if (pasted.error) throw new backend.BackendError("not_a_paper", pasted.error);
  const config = await backendSettings();
  const found = pasted.found ?? (await backend.resolveAddress(fetch, config, pasted.address));
  const result = await paperAnswer(config, found.paper_id);
  return { ...result, paper_id: found.paper_id, version: found.version, hasToken: Boolean(config.token) };
}

/** Whether a page shows a paper at all: local parsing only, nothing leaves the browser. */
async function resolvePage({ page }) {
  return { found: resolveUrl(page?.url ?? "", page?.meta ?? null) };
}

/** Saved paper ids, cached briefly, so listing badges cost no extra request per page. */
async function savedIds(config) {
  if (!config.token) return new Set();
  const key = await libraryKey(config.backendUrl, config.token);
  const result = await cached(key, async () => {
    const items = await backend.listLibrary(fetch, config);
    return { status: "library", ids: items.map(entryPaperId).filter(Boolean) };
  });
  return new Set(result.ids);
}

async function lookupListing({ hrefs }) {
  const { ids, idsByHref } = groupLinks(hrefs ?? []);
  if (ids.length === 0) return { items: {} };
  const config = await backendSettings();
  const batch = [];
  for (const chunk of batches(ids)) batch.push(...(await backend.fetchBatch(fetch, config, chunk)));
  let saved = new Set();
  try {
    saved = await savedIds(config);
  } catch {
    // Badges for code still help when the reading list is unavailable.
  }
  const badges = Object.fromEntries(batch.map((item) => [item.input, badgesFor(item, saved)]));
  const items = {};
  for (const [href, paperId] of Object.entries(idsByHref)) items[href] = badges[paperId];
  return { items };
}

async function libraryGet({ paperId }) {
  const config = await backendSettings();
  return { entry: await backend.fetchEntry(fetch, config, paperId) };
}

async function librarySave({ paperId, status, tags, note }, sender) {
  const config = await backendSettings();
  const fields = { status, tags };
  if (note !== undefined) fields.note = note;
  const entry = await backend.saveEntry(fetch, config, paperId, fields);
  await forgetSavedIds(config);
  await remarkTabs(config, paperId, sender);
  return { entry };
}

async function libraryRemove({ paperId }, sender) {
  const config = await backendSettings();
  await backend.removeEntry(fetch, config, paperId);
  await forgetSavedIds(config);
  await remarkTabs(config, paperId, sender);
  return {};
}

async function libraryList({ q, tag, status }) {
  const config = await backendSettings();
  const [items, tags] = await Promise.all([
    backend.listLibrary(fetch, config, { q, tag, status }),
    backend.listTags(fetch, config),
  ]);
  return { items, tags };
}

/** The list a reader picked changed: the listing badges' cached saved ids are stale. */
async function forgetSavedIds(config) {
  await forget(await libraryKey(config.backendUrl, config.token));
}

async function libraryPage({ query }) {
  return backend.listPage(fetch, await backendSettings(), query ?? {});
}

async function libraryTags() {
  return { tags: await backend.listTags(fetch, await backendSettings()) };
}

async function libraryExport({ format, tag, ids }) {
  return backend.exportLibrary(fetch, await backendSettings(), { format, tag, ids });
}

async function libraryImport({ format, text }) {
  const config = await backendSettings();
  const report = await backend.importLibrary(fetch, config, { format, text });
  await forgetSavedIds(config);
  return { report };
}

async function libraryOpen() {
  await ext.tabs.create({ url: ext.runtime.getURL("library/library.html") });
  return {};
}

async function suggestionsList() {
  return backend.listSuggestions(fetch, await backendSettings());
}

async function feedbackSend({ paperId, signal }) {
  await backend.sendFeedback(fetch, await backendSettings(), paperId, signal);
  return {};
}

async function feedbackWithdraw({ paperId }) {
  await backend.withdrawFeedback(fetch, await backendSettings(), paperId);
  return {};
}

// ------------------------------------------------------------------ the research feed

async function seenUntil() {
  return (await ext.storage.local.get(SEEN_KEY))[SEEN_KEY] ?? null;
}

/** One page of the feed, with the newest time the reader saw before this visit. */
async function feedPage({ cursor }) {
  const config = await backendSettings();
  const page = await backend.feedPage(fetch, config, feedQuery(typeof cursor === "string" ? cursor : null));
  return { ...page, seenUntil: await seenUntil() };
}

/** The reader saw the feed up to `until` (an item's time): remember it and count again. */
async function feedSeen({ until }) {
  const previous = await seenUntil();
  if (!Number.isNaN(micros(until)) && (!previous || later(until, previous))) {
    await ext.storage.local.set({ [SEEN_KEY]: until });
  }
  await countNewFeedItems();
  return {};
}

async function feedOpen() {
  await ext.tabs.create({ url: ext.runtime.getURL("feed/feed.html") });
  return {};
}

/** The icon's global badge: the feed's items newer than the reader's last visit. */
async function paintFeedBadge(count, more) {
  await Promise.all([
    ext.action.setBadgeText({ text: badgeText(count, more) }),
    ext.action.setBadgeBackgroundColor({ color: BADGE_COLOR }),
    ext.action.setTitle({ title: badgeTitle(count, more) }),
  ]);
}

/**
 * Ask the backend how many feed items are new and show it on the icon; without a token or
 * access, or when the backend cannot answer, the count is cleared rather than left stale.
 * Tabs whose paper earns a badge of its own (lib/badge.js) show theirs instead.
 */
async function countNewFeedItems() {
  const config = await settings();
  if (!config.token || !(await hasBackendAccess(ext, config.backendUrl))) return paintFeedBadge(0, false);
  try {
    const params = feedQuery(null, await seenUntil());
    params.set("limit", String(COUNT_MAX + 1));
    const page = await backend.feedPage(fetch, config, params);
    await paintFeedBadge(page.items.length, page.next_cursor !== null || page.items.length > COUNT_MAX);
  } catch {
    await paintFeedBadge(0, false);
  }
}

// At most this many papers in one send: a large library selection still goes in one click.
const ZOTERO_MAX_PAPERS = 500;

/** A paper's document for Zotero, or why there is none: one paper's failure stops no other. */
async function zoteroPaper(config, paperId) {
  try {
    const found = await cached(paperKey(config.backendUrl, paperId), () => backend.fetchPaper(fetch, config, paperId));
    if (found.status === "ready") return { paper: found.paper };
    if (found.status === "pending") return { message: "PaperLens is still preparing it; try again shortly." };
    return { message: "PaperLens does not know this paper." };
  } catch (error) {
    return { message: backend.describeError(error, config.backendUrl) };
  }
}

/**
 * Send papers to Zotero (lib/zotero.js): their documents come from the backend, which learns
 * only the paper ids; the Zotero key and user id never leave for anywhere but Zotero.
 */
async function zoteroSend({ paperIds }) {
  const ids = Array.isArray(paperIds) ? [...new Set(paperIds.filter((id) => typeof id === "string"))] : [];
  if (ids.length === 0 || ids.length > ZOTERO_MAX_PAPERS) {
    throw new ZoteroError("zotero_input", `✗ Send between 1 and ${ZOTERO_MAX_PAPERS} papers to Zotero.`);
  }
  const config = await backendSettings();
  const papers = [];
  const missing = [];
  for (const paperId of ids) {
    const found = await zoteroPaper(config, paperId);
    if (found.paper) papers.push(found.paper);
    else missing.push({ paper_id: paperId, ok: false, message: found.message });
  }
  const zotero = zoteroSettings(await migrateFromStorageLocal(ext.storage.local));
  const sent = papers.length ? await sendToZotero(fetch, zotero, papers) : { route: null, results: [] };
  const outcome = { route: sent.route, results: [...sent.results, ...missing] };
  return { ...outcome, line: describeSend(outcome) };
}

async function connectionTest({ backendUrl, token }) {
  const config = withDefaults({ backendUrl, token });
  if (!(await hasBackendAccess(ext, config.backendUrl))) {
    const error = new backend.BackendError("no_access", "No permission to reach the backend.");
    return { ok: false, lines: [backend.describeError(error, config.backendUrl)] };
  }
  return backend.testConnection(fetch, config);
}

async function optionsOpen() {
  await ext.runtime.openOptionsPage();
  return {};
}

/**
 * A content script cannot ask for a permission: open the extension's page that asks, next to
 * the reader's tab, which it returns to once access is granted.
 */
async function accessAsk(_message, sender) {
  const tabId = sender.tab?.id;
  const query = Number.isInteger(tabId) ? `?tab=${tabId}` : "";
  await ext.tabs.create({
    url: ext.runtime.getURL(`permission/permission.html${query}`),
    index: Number.isInteger(sender.tab?.index) ? sender.tab.index + 1 : undefined,
  });
  return {};
}

// ------------------------------------------------------------------ the icon badge

/** Show a tab's badge; null marks clear it, and the icon shows the feed's count again. */
async function paintBadge(tabId, marks) {
  const badge = tabBadge(marks);
  try {
    await Promise.all([
      // null, not "": a tab without marks falls back to the global badge (new feed items).
      ext.action.setBadgeText({ tabId, text: badge.text || null }),
      badge.text ? ext.action.setBadgeBackgroundColor({ tabId, color: badge.color }) : null,
      ext.action.setTitle({ tabId, title: badge.title }),
    ]);
  } catch {
    // The tab closed meanwhile.
  }
}

/** Mark a tab with what its paper earns; when the backend cannot say, the badge stays empty. */
async function markTab(tabId, paperId, config, lookup = null) {
  let answer = lookup;
  try {
    answer ??= await paperAnswer(config, paperId);
  } catch {
    await paintBadge(tabId, null);
    return;
  }
  let saved = new Set();
  try {
    saved = await savedIds(config);
  } catch {
    // The code mark still helps when the reading list is unavailable.
  }
  await paintBadge(tabId, paperMarks({ ...answer, paper_id: paperId }, saved));
}

/**
 * A tab's badge from its address alone, which is all a PDF viewer lets the extension see. Pages
 * the content script runs on are left to its lookup, so that one page costs one request.
 */
async function badgeFromUrl(tabId, url) {
  const found = resolveUrl(url ?? "");
  if (found === null || !needsAddressLookup(url)) return;
  const config = await settings();
  if (!badgeAllowed(url, config.sites) || !(await hasBackendAccess(ext, config.backendUrl))) {
    await paintBadge(tabId, null);
    return;
  }
  await markTab(tabId, found.paper_id, config);
}

/** After the reading list changed: the tab that saved, and every tab whose address shows the paper. */
async function remarkTabs(config, paperId, sender) {
  // The library page is a tab too, but shows no one paper: its edits mark only the tabs showing it.
  const ownTab = fromExtensionPage(sender, ext.runtime.getURL("")) ? undefined : sender?.tab?.id;
  for (const tab of await ext.tabs.query({})) {
    if (tab.id === ownTab || resolveUrl(tab.url ?? "")?.paper_id === paperId) {
      await markTab(tab.id, paperId, config);
    }
  }
}

const HANDLERS = {
  [messages.RESOLVE_PAGE]: resolvePage,
  [messages.LOOKUP_PAGE]: lookupPage,
  [messages.ASK_PAPER]: askPaper,
  [messages.LOOKUP_LISTING]: lookupListing,
  [messages.LIBRARY_GET]: libraryGet,
  [messages.LIBRARY_SAVE]: librarySave,
  [messages.LIBRARY_REMOVE]: libraryRemove,
  [messages.LIBRARY_LIST]: libraryList,
  [messages.LIBRARY_PAGE]: libraryPage,
  [messages.LIBRARY_TAGS]: libraryTags,
  [messages.LIBRARY_EXPORT]: libraryExport,
  [messages.LIBRARY_IMPORT]: libraryImport,
  [messages.LIBRARY_OPEN]: libraryOpen,
  [messages.SUGGESTIONS_LIST]: suggestionsList,
  [messages.FEEDBACK_SEND]: feedbackSend,
  [messages.FEEDBACK_WITHDRAW]: feedbackWithdraw,
  [messages.FEED_PAGE]: feedPage,
  [messages.FEED_SEEN]: feedSeen,
  [messages.FEED_OPEN]: feedOpen,
  [messages.CONNECTION_TEST]: connectionTest,
  [messages.OPTIONS_OPEN]: optionsOpen,
  [messages.ACCESS_ASK]: accessAsk,
  [messages.ZOTERO_SEND]: zoteroSend,
};

const FORBIDDEN = { ok: false, error: { kind: "forbidden", line: "" } };

/** The message as sent by an extension page, or as sender_policy.js narrows a content script's. */
function permitted(message, sender) {
  if (sender.id !== ext.runtime.id) return null;
  if (fromExtensionPage(sender, ext.runtime.getURL(""))) return message;
  return contentScriptMessage(message, senderPageUrl(sender));
}

/** Every answer is {ok: true, ...} or {ok: false, error: {kind, line}}. */
async function answer(message, sender) {
  const request = permitted(message, sender);
  if (request === null) return FORBIDDEN;
  const handler = Object.hasOwn(HANDLERS, request?.type) ? HANDLERS[request.type] : null;
  if (!handler) return { ok: false, error: { kind: "unknown_message", line: String(request?.type) } };
  try {
    return { ok: true, ...(await handler(request, sender)) };
  } catch (error) {
    if (error instanceof ZoteroError) return { ok: false, error: { kind: error.kind, line: error.line } };
    const config = await settings();
    return {
      ok: false,
      error: { kind: error.kind ?? "internal", line: backend.describeError(error, config.backendUrl) },
    };
  }
}

// A token older versions kept in storage.local moves out of content scripts' reach at once.
ext.runtime.onInstalled.addListener(() => migrateFromStorageLocal(ext.storage.local));
ext.runtime.onStartup.addListener(() => migrateFromStorageLocal(ext.storage.local));

// Registered at top level so a restarted worker hears the message that woke it.
ext.runtime.onMessage.addListener((message, sender, sendResponse) => {
  answer(message, sender).then(sendResponse);
  return true;
});

/** Tell every tab's content script that access arrived, so a waiting overlay loads now. */
async function announceAccess() {
  for (const tab of await ext.tabs.query({})) {
    ext.tabs.sendMessage(tab.id, { type: messages.ACCESS_GRANTED }).catch(() => {
      // Tabs without our content script have nobody listening.
    });
  }
}

// The action's right-click menu opens the library and feed pages, as the popup's links do.
const LIBRARY_MENU_ID = "paperlens-library";
const FEED_MENU_ID = "paperlens-feed";
ext.runtime.onInstalled.addListener(() => {
  ext.contextMenus.create({ id: LIBRARY_MENU_ID, title: "Open the library", contexts: ["action"] });
  ext.contextMenus.create({ id: FEED_MENU_ID, title: "Open the research feed", contexts: ["action"] });
});
ext.contextMenus.onClicked.addListener((info) => {
  if (info.menuItemId === LIBRARY_MENU_ID) libraryOpen();
  if (info.menuItemId === FEED_MENU_ID) feedOpen();
});

// The feed's new items are counted on the icon every POLL_MINUTES, and at once when the
// browser starts; an alarm outlives the stopped worker, which it wakes.
const FEED_ALARM = "paperlens-feed";
function startFeedPolling() {
  ext.alarms.create(FEED_ALARM, { delayInMinutes: 0.1, periodInMinutes: POLL_MINUTES });
}
ext.runtime.onInstalled.addListener(startFeedPolling);
ext.runtime.onStartup.addListener(startFeedPolling);
ext.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === FEED_ALARM) countNewFeedItems();
});

ext.permissions.onAdded.addListener(() => {
  announceAccess();
});

/**
 * The keyboard shortcut, forwarded to the content script of the tab it was pressed in (the
 * active tab of the focused window when the browser names none): only the page's own script
 * can reach the overlay's closed root.
 */
async function overlayCommand(command, tab) {
  if (command !== messages.TOGGLE_OVERLAY_COMMAND) return;
  const [target] = tab?.id !== undefined ? [tab] : await ext.tabs.query({ active: true, lastFocusedWindow: true });
  if (target?.id === undefined) return;
  await ext.tabs.sendMessage(target.id, { type: messages.OVERLAY_TOGGLE }).catch(() => {
    // A tab without a paper (or without our content script) has nobody listening.
  });
}
ext.commands.onCommand.addListener((command, tab) => {
  overlayCommand(command, tab);
});

/**
 * A new address clears the badge and earns its own at once (a long PDF may take a while to load,
 * or never finish where the browser's viewer cannot read it), and again once the page has loaded,
 * since the browser may reset a tab's badge as it commits a page.
 */
async function tabUpdated(tabId, change, tab) {
  if (change.url !== undefined) await paintBadge(tabId, null);
  if (change.url !== undefined || change.status === "complete") await badgeFromUrl(tabId, change.url ?? tab.url);
}

// Registered at top level, like every listener here. The badge is looked at again when the reader
// comes back to a tab: a paper that was still being prepared may have code by now.
ext.tabs.onUpdated.addListener((tabId, change, tab) => {
  tabUpdated(tabId, change, tab);
});
ext.tabs.onActivated.addListener(({ tabId }) => {
  ext.tabs.get(tabId).then(
    (tab) => badgeFromUrl(tabId, tab.url),
    () => {
      // Closed before we looked.
    },
  );
});
