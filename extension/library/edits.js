// The library page's pure parts: the list query its controls make, the tag changes of its bulk
// actions, what an undo re-saves and the import report's summary. No DOM, so node tests run them.

export const PAGE_SIZE = 50;

/** The API's list query from the page's controls; empty controls are left out. */
export function listQuery({ q, tag, status, year, venue, sort }, cursor = null) {
  const query = { sort: sort || "saved", limit: PAGE_SIZE };
  if (q?.trim()) query.q = q.trim();
  if (tag) query.tag = tag;
  if (status) query.status = status;
  if (/^\d{1,4}$/.test(String(year ?? "").trim())) query.year = String(year).trim();
  if (venue?.trim()) query.venue = venue.trim();
  if (cursor) query.cursor = cursor;
  return query;
}

/** The entry's tags with `tag` added (once, at the end). */
export function withTag(tags, tag) {
  return tags.includes(tag) ? [...tags] : [...tags, tag];
}

/** The entry's tags without `tag`. */
export function withoutTag(tags, tag) {
  return tags.filter((name) => name !== tag);
}

/** What re-saving a deleted entry sends back, so Undo restores its status, tags and note. */
export function restoreFields(item) {
  return { paperId: item.saved_as, status: item.status, tags: [...item.tags], note: item.note };
}

/** "Added 2, merged 1, refused 1." from the backend's report (saved / merged / skipped). */
export function reportSummary(report) {
  return `Added ${report.saved}, merged ${report.merged}, refused ${report.skipped}.`;
}

/** One line per refused item: what the file held and why it was not saved. */
export function refusedLines(report) {
  return (report.items ?? [])
    .filter((item) => item.outcome === "skipped")
    .map((item) => `${item.input}: ${item.reason ?? "refused"}`);
}

/** The import format a file's name suggests: BibTeX for .bib, else a list of ids. */
export function importFormat(fileName) {
  return /\.(bib|bibtex)$/i.test(fileName) ? "bibtex" : "ids";
}
