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

/** The saved-ids key is per reader (a digest of the token, never the token itself). */
export async function libraryKey(backendUrl, token) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `library|${backendUrl}|${hex.slice(0, 16)}`;
}

/** A cache entry for a result, or null when the result must not be cached (pending, errors). */
export function entryFor(result, now) {
  const ttl = TTL_MS[result.status];
  return ttl ? { at: now, ttl, value: result } : null;
}

export function isFresh(entry, now) {
  return Boolean(entry) && now - entry.at >= 0 && now - entry.at < entry.ttl;
}
