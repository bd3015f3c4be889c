// How long to wait before asking again about a paper the backend is still computing.

export const FIRST_DELAY_MS = 1000;
export const MAX_DELAY_MS = 15000;
export const MAX_ATTEMPTS = 12;

/**
 * The delay before poll number `attempt` (0-based), honouring the server's Retry-After
 * as a floor and doubling from there, or null once it is time to give up.
 */
export function pollDelay(attempt, retryAfterSeconds = null) {
  if (attempt >= MAX_ATTEMPTS) return null;
  const floor = Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : FIRST_DELAY_MS;
  return Math.min(MAX_DELAY_MS, floor * 2 ** attempt);
}
