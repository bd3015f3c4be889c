// Asking by hand: what the reader pasted into the popup, read as a paper id, an address the
// extension's own resolver knows, or an address only the backend may know. Pure.

import { parsePaperId, resolveUrl } from "./identifiers.js";

// The resolvers' own bound on ids and addresses.
const MAX_PASTED_LENGTH = 2048;
const HTTP_URL = /^https?:\/\//i;
// "arxiv.org/abs/2205.13147", as copied from an address bar that hides the scheme.
const BARE_ADDRESS = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+\/\S*$/i;
const SHOWN_LENGTH = 60;

export const EMPTY_LINE = "Paste an arXiv id, DOI or address first.";

/** The pasted text shortened for an error line, so a pasted page of text stays one line. */
function shown(text) {
  return text.length > SHOWN_LENGTH ? `${text.slice(0, SHOWN_LENGTH - 1)}…` : text;
}

/**
 * The pasted text -> {found: {paper_id, version}} when it names a paper locally, {address} when
 * only the backend can tell, or {error: message} when it is no paper id or address at all.
 */
export function readPasted(text) {
  const trimmed = String(text ?? "").trim();
  if (trimmed === "") return { error: EMPTY_LINE };
  if (trimmed.length > MAX_PASTED_LENGTH) return { error: "That is too long to be a paper id or address." };
  const found = parsePaperId(trimmed);
  if (found !== null) return { found };
  let address = null;
  if (HTTP_URL.test(trimmed)) address = trimmed;
  else if (BARE_ADDRESS.test(trimmed)) address = `https://${trimmed}`;
  if (address === null) {
    return { error: `“${shown(trimmed)}” is not an arXiv id (2205.13147), a DOI (10.…) or an address.` };
  }
  const atAddress = resolveUrl(address);
  return atAddress === null ? { address } : { found: atAddress };
}
