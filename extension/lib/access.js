// The backend host permission. Chrome reaches the backend through CORS, which the backend
// grants to the extension's fixed id. Firefox gives every installation its own origin,
// which no backend can list, so there the reader grants a host permission on the backend.

import { backendPermissionPattern } from "./config.js";

/** Whether this browser needs a host permission to read the backend's answers. */
export function needsHostPermission(ext) {
  return ext.runtime.getURL("").startsWith("moz-extension:");
}

function origins(backendUrl) {
  return { origins: [backendPermissionPattern(backendUrl)] };
}

/** True when the extension may read the backend's answers (always, where CORS does it). */
export async function hasBackendAccess(ext, backendUrl) {
  if (!needsHostPermission(ext)) return true;
  return ext.permissions.contains(origins(backendUrl));
}

/**
 * Ask the reader for access to the backend. Browsers only ask inside a user gesture, so call
 * this synchronously from a click handler on an extension page, before any await.
 */
export function requestBackendAccess(ext, backendUrl) {
  if (!needsHostPermission(ext)) return Promise.resolve(true);
  return ext.permissions.request(origins(backendUrl));
}
