// What the reader configures on the options page: the backend, the API token, a switch per site.

import { SITES } from "./sites.js";

export const DEFAULT_BACKEND_URL = "http://127.0.0.1:8000";

export const DEFAULT_SETTINGS = Object.freeze({
  backendUrl: DEFAULT_BACKEND_URL,
  token: "",
  sites: Object.fromEntries(SITES.map((site) => [site.id, true])),
});

/** A backend URL as typed -> its canonical origin-and-path form, or null when unusable. */
export function normaliseBackendUrl(text) {
  let url;
  try {
    url = new URL(String(text).trim());
  } catch {
    return null;
  }
  if (!["http:", "https:"].includes(url.protocol) || url.username || url.password) return null;
  if (url.search || url.hash) return null;
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** The match pattern for a runtime host permission on the backend (Firefox needs one). */
export function backendPermissionPattern(backendUrl) {
  const url = new URL(backendUrl);
  return `${url.protocol}//${url.hostname}/*`;
}

/** Stored settings merged over the defaults, so new switches start enabled. */
export function withDefaults(stored) {
  return {
    backendUrl: stored?.backendUrl || DEFAULT_SETTINGS.backendUrl,
    token: typeof stored?.token === "string" ? stored.token.trim() : "",
    sites: { ...DEFAULT_SETTINGS.sites, ...(stored?.sites ?? {}) },
  };
}
