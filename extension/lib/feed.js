// The research feed's pure parts, shared by the feed page and the background: what counts as
// new since the reader's last visit, the icon's count of it, and an item's byline.

// storage.local key: the newest `added_at` the reader has seen on the feed page (an ISO time
// the backend handed out, so that the browser's clock never enters the comparison).
export const SEEN_KEY = "feedSeenUntil";
export const PAGE_SIZE = 25;
// The icon counts up to this many new items; beyond, it shows the number and a "+".
export const COUNT_MAX = 99;
// How often the background asks the backend for the feed's new items.
export const POLL_MINUTES = 30;
export const BADGE_COLOR = "#0b57d0";
export const AUTHORS_SHOWN = 3;

export const EMPTY_LINE = "Your feed fills after the next ingest; save a few papers and mark which tags feed it.";
// Shown instead once the feed has been computed and holds nothing to show.
export const EMPTY_AFTER_REFRESH =
  "Nothing in your feed for now: it takes in new papers that stand out from your reading list.";

/**
 * An ISO time in microseconds since 1970, as precise as the backend writes it (Date keeps
 * milliseconds only: two refreshes within one millisecond would look alike); NaN if unreadable.
 */
export function micros(text) {
  const ms = typeof text === "string" ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) return Number.NaN;
  const fraction = /T[\d:]+\.(\d+)/.exec(text)?.[1] ?? "";
  return ms * 1000 + Number(fraction.slice(3, 6).padEnd(3, "0"));
}

/** Whether ISO time `a` comes after `b`. */
export function later(a, b) {
  return micros(a) > micros(b);
}

/** Whether the feed took `item` in after the reader last looked (everything is new at first). */
export function isNew(item, seenUntil) {
  if (!seenUntil) return true;
  return later(item.added_at, seenUntil);
}

/** The newest time among `items` and `previous`: what the reader has now seen. */
export function seenAfter(items, previous) {
  let newest = previous ?? null;
  for (const item of items) {
    if (!newest || later(item.added_at, newest)) newest = item.added_at;
  }
  return newest;
}

/** The icon's text for `count` new items ("" for none); `more` when the backend has more. */
export function badgeText(count, more = false) {
  if (count <= 0) return "";
  return count > COUNT_MAX || more ? `${Math.min(count, COUNT_MAX)}+` : String(count);
}

/** The icon's title for `count` new items. */
export function badgeTitle(count, more = false) {
  if (count <= 0) return "PaperLens";
  const number = badgeText(count, more);
  return `PaperLens: ${number} new ${count === 1 && !more ? "paper" : "papers"} in your research feed`;
}

/** "Ada Router, Ben Gate, Cy Dee et al. · 2 Jan 2026", leaving out what the item lacks. */
export function byline(item) {
  const authors = Array.isArray(item.authors) ? item.authors.filter((name) => typeof name === "string" && name) : [];
  const named =
    authors.length > AUTHORS_SHOWN ? `${authors.slice(0, AUTHORS_SHOWN).join(", ")} et al.` : authors.join(", ");
  return [named, publishedDate(item.published)].filter(Boolean).join(" · ");
}

function publishedDate(text) {
  if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return "";
  const date = new Date(`${text}T00:00:00Z`);
  return date.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
}

/** The feed's query string for one page: the cursor when there is one. */
export function feedQuery(cursor, since = null) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (cursor) params.set("cursor", cursor);
  if (since) params.set("since", since);
  return params;
}

/** "3 new since your last visit · 25 shown (more to load)" for the page's status line. */
export function countLine(shown, fresh, more) {
  const parts = [];
  if (fresh > 0) parts.push(`${fresh} new since your last visit`);
  parts.push(`${shown} shown${more ? " (more to load)" : ""}`);
  return parts.join(" · ");
}

/**
 * "Updated 6 Dec 2026, 05:20: 3 of 1,200 papers ranked stood out from your reading list." for the
 * feed's latest computation (`computedAt`, `lastRefresh` as the backend answers them), so
 * that a refresh which took nothing in still tells the reader it ran; "" before the first.
 * `timeZone` is the reader's own unless given.
 */
export function refreshLine(computedAt, lastRefresh, timeZone = undefined) {
  const ms = typeof computedAt === "string" ? Date.parse(computedAt) : Number.NaN;
  if (Number.isNaN(ms)) return "";
  const when = new Date(ms).toLocaleString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZone,
  });
  const ranked = lastRefresh?.papers_ranked;
  const taken = lastRefresh?.papers_taken;
  if (!isCount(ranked) || !isCount(taken)) return `Updated ${when}.`;
  if (ranked === 0) return `Updated ${when}: no new papers to rank.`;
  if (ranked === 1) {
    const verdict = taken > 0 ? "stood out" : "did not stand out";
    return `Updated ${when}: the one paper ranked ${verdict} from your reading list.`;
  }
  const share = taken === 0 ? "none" : number(Math.min(taken, ranked));
  return `Updated ${when}: ${share} of ${number(ranked)} papers ranked stood out from your reading list.`;
}

const isCount = (value) => Number.isInteger(value) && value >= 0;
const number = (value) => value.toLocaleString("en-GB");
