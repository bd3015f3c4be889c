// Which backend answers the background keeps in session storage, and for how long.
// Short lifetimes: enough that switching tabs does not refetch, never enough to go stale.

export const TTL_MS = Object.freeze({
  ready: 5 * 60 * 1000,
  unknown: 60 * 1000,
  library: 60 * 1000,
});

export function paperKey(backendUrl, paperId) {
  return `paper|${backendUrl}|${paperId}`;
}

export function libraryKey(backendUrl, token) {
  // The token is part of the key so a new token never sees the old reader's list; it is
  // never stored outside chrome.storage, and session storage is cleared on browser exit.
  return `library|${backendUrl}|${token.length}:${token.slice(-6)}`;
}

/** A cache entry for a result, or null when the result must not be cached (pending, errors). */
export function entryFor(result, now) {
  const ttl = TTL_MS[result.status];
  return ttl ? { at: now, ttl, value: result } : null;
}

export function isFresh(entry, now) {
  return Boolean(entry) && now - entry.at >= 0 && now - entry.at < entry.ttl;
}
