// What the background answers a content script. Content scripts live in the pages of the
// supported sites, so the background treats what they send as the page's word, not the
// reader's: the page is named by the address the browser reports for the sender (never by the
// message), and only the paper that address (plus the page's citation_* tags) names may be
// looked up, read, saved or removed. The extension's own pages (popup, options) may ask anything.
//
// Listing pages need badges for the many papers they list, so a listing lookup is allowed from a
// page its site calls a listing (lib/sites.js), for links on that page's own host, and at most
// MAX_LISTING_LINKS of them. Its answer says whether each paper is saved; the content script
// shows that only inside closed shadow roots, in the same layout whether saved or not and as
// generated text that find-in-page cannot match (content/listing.js), so a page that injects
// links to papers it is curious about cannot tell which of them the reader saved.

import { resolveUrl } from "./identifiers.js";
import * as messages from "./messages.js";
import { isListingPage, siteForHost } from "./sites.js";

export const MAX_LISTING_LINKS = 2000;
const PAPER_MESSAGES = new Set([messages.LIBRARY_GET, messages.LIBRARY_SAVE, messages.LIBRARY_REMOVE]);

/** True for the extension's own pages (popup, options), false for content scripts. */
export function fromExtensionPage(sender, extensionBaseUrl) {
  return typeof sender?.url === "string" && sender.url.startsWith(extensionBaseUrl);
}

/**
 * The address of the page a content script runs in, as the browser (not the script) reports
 * it. `sender.url` keeps the address the document was loaded from, while the tab's URL follows
 * the history.pushState moves of single-page sites; content scripts run in top frames only.
 */
export function senderPageUrl(sender) {
  if (sender?.frameId === 0 && typeof sender.tab?.url === "string") return sender.tab.url;
  return typeof sender?.url === "string" ? sender.url : "";
}

function pageMeta(meta) {
  const kept = {};
  for (const name of messages.PAGE_META_NAMES) {
    if (typeof meta?.[name] === "string") kept[name] = meta[name].slice(0, 2048);
  }
  return kept;
}

function sameHostLinks(hrefs, pageUrl) {
  if (!Array.isArray(hrefs)) return [];
  return hrefs
    .filter((href) => {
      try {
        return typeof href === "string" && new URL(href).host === pageUrl.host;
      } catch {
        return false;
      }
    })
    .slice(0, MAX_LISTING_LINKS);
}

/**
 * The message as the background may act on it for a content script on `senderUrl`, or null
 * when a content script may not ask that.
 */
export function contentScriptMessage(message, senderUrl) {
  let pageUrl;
  try {
    pageUrl = new URL(senderUrl);
  } catch {
    return null;
  }
  const page = { url: pageUrl.href, meta: pageMeta(message?.page?.meta) };
  switch (message?.type) {
    case messages.RESOLVE_PAGE:
      return { type: message.type, page };
    case messages.LOOKUP_PAGE:
      return { type: message.type, page, fresh: message.fresh === true };
    case messages.OPTIONS_OPEN:
    case messages.ACCESS_ASK:
      return { type: message.type };
    case messages.LOOKUP_LISTING: {
      const site = siteForHost(pageUrl.host);
      if (!site || !isListingPage(site.id, pageUrl)) return null;
      return { type: message.type, hrefs: sameHostLinks(message.hrefs, pageUrl) };
    }
    default:
      break;
  }
  if (!PAPER_MESSAGES.has(message?.type)) return null;
  const own = resolveUrl(page.url, page.meta);
  if (own === null || message.paperId !== own.paper_id) return null;
  return { ...message, page };
}
