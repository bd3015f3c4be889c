// The message protocol between the extension's pages and its background worker.
// Content scripts and the popup send {type, ...}; the background answers with one object.
// Only the background talks to the backend (see background.js).

export const LOOKUP_PAGE = "paper/lookup"; // {page: {url, meta}} -> lookup result
export const LOOKUP_LISTING = "listing/lookup"; // {hrefs: [...]} -> {items: {href: badge}}
export const LIBRARY_GET = "library/get"; // {paperId} -> {entry|null}
export const LIBRARY_SAVE = "library/save"; // {paperId, status, tags, note} -> {entry}
export const LIBRARY_REMOVE = "library/remove"; // {paperId} -> {}
export const LIBRARY_LIST = "library/list"; // {q, tag, status} -> {items, tags}
export const LIBRARY_PAGE = "library/page"; // {query: {q, tag, status, year, venue, sort, cursor}} -> {items, next_cursor}
export const LIBRARY_TAGS = "library/tags"; // {} -> {tags}
export const LIBRARY_EXPORT = "library/export"; // {format, tag?, ids?} -> {text, filename}
export const LIBRARY_IMPORT = "library/import"; // {format, text} -> {report}
export const LIBRARY_OPEN = "library/open"; // {} -> {}: opens the library page in a tab
export const SUGGESTIONS_LIST = "suggestions/list"; // {} -> {items} | {pending}
export const FEEDBACK_SEND = "feedback/send"; // {paperId, signal} -> {}
export const FEEDBACK_WITHDRAW = "feedback/withdraw"; // {paperId} -> {}
export const FEED_PAGE = "feed/page"; // {cursor} -> {items, next_cursor, computed_at, last_refresh, seenUntil}
export const FEED_SEEN = "feed/seen"; // {until}: the newest item the reader saw -> {}; clears the icon's count
export const FEED_OPEN = "feed/open"; // {} -> {}: opens the feed page in a tab
export const CONNECTION_TEST = "options/test"; // {backendUrl, token} -> {ok, lines}
export const OPTIONS_OPEN = "options/open"; // {} -> {}
export const RESOLVE_PAGE = "paper/resolve"; // {page: {url, meta}} -> {found: {paper_id, version}|null}
export const ASK_PAPER = "paper/ask"; // {text}: an id or address the reader pasted -> lookup result
export const ACCESS_ASK = "access/ask"; // {} -> {}: opens the page that asks for backend access
export const ZOTERO_SEND = "zotero/send"; // {paperIds: [...]} -> {route, results: [{paper_id, ok, message?}], line}
export const ACCESS_GRANTED = "access/granted"; // background -> content scripts, no answer
export const OVERLAY_TOGGLE = "overlay/toggle"; // background -> the tab's content script (the shortcut), no answer

// The manifest's keyboard command that expands or folds the overlay on the current tab.
export const TOGGLE_OVERLAY_COMMAND = "toggle-overlay";

// The <meta name> tags a page message's `meta` may carry: what names a paper besides the URL.
export const PAGE_META_NAMES = Object.freeze(["citation_doi", "citation_arxiv_id", "citation_title"]);

/**
 * Send a message to the background. Every answer is {ok: true, ...} or {ok: false, error:
 * {kind, line}}, and so is a message the background could not answer (it was stopped, or the
 * extension was reloaded under the page): callers handle one shape of failure.
 */
export function askBackground(ext, message) {
  return ext.runtime.sendMessage(message).catch((error) => ({
    ok: false,
    error: { kind: "extension", line: `✗ PaperLens could not answer: ${error.message}` },
  }));
}
