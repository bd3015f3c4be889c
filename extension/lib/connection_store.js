// Where the backend URL and the API token live: IndexedDB in the extension's own origin.
//
// Why not storage.local: every storage.* area except `session` is readable and writable by
// content scripts, which run inside the pages of the supported sites. A page that compromises
// its renderer could read the token there, or point backendUrl at its own server so that the
// background sends the token to it. `StorageArea.setAccessLevel` would close that, but Firefox
// supports it only on storage.session (which does not survive a restart), while Chromium also
// accepts it on storage.local: that would mean one store per browser. IndexedDB belongs to the
// origin that opens it: the background and the extension's pages share chrome-extension://<id>
// (or moz-extension://<uuid>), while a content script's indexedDB is the page's. It persists
// across restarts in both browsers. Only the site switches and the collapsed state, which content
// scripts need and which hold nothing private, stay in storage.local.

const DB_NAME = "paperlens";
const DB_VERSION = 1;
const STORE = "connection";
// The Zotero user id and key sit beside the backend token for the same reason, and so do the
// Zotero base URLs (the real ones unless a test points them at stand-ins): whoever could change
// them could have the key sent elsewhere.
export const CONNECTION_KEYS = Object.freeze([
  "backendUrl",
  "token",
  "zoteroUserId",
  "zoteroKey",
  "zoteroConnectorUrl",
  "zoteroApiUrl",
]);
const MIGRATED = "migratedFromStorageLocal";

function requestDone(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function open(indexedDb) {
  const request = indexedDb.open(DB_NAME, DB_VERSION);
  request.onupgradeneeded = () => request.result.createObjectStore(STORE);
  return requestDone(request);
}

async function withStore(indexedDb, mode, work) {
  const db = await open(indexedDb);
  try {
    const transaction = db.transaction(STORE, mode);
    const done = new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
    const result = await work(transaction.objectStore(STORE));
    await done;
    return result;
  } finally {
    db.close();
  }
}

/** {backendUrl, token, zoteroUserId, ...} as stored (missing keys are absent). */
export function readConnection(indexedDb = globalThis.indexedDB) {
  const keys = [...CONNECTION_KEYS, MIGRATED];
  return withStore(indexedDb, "readonly", async (store) => {
    const found = await Promise.all(keys.map((key) => requestDone(store.get(key))));
    return Object.fromEntries(keys.map((key, index) => [key, found[index]]).filter(([, value]) => value !== undefined));
  });
}

/** Store the given connection settings (only CONNECTION_KEYS are kept). */
export function writeConnection(values, indexedDb = globalThis.indexedDB) {
  const kept = CONNECTION_KEYS.filter((key) => typeof values[key] === "string");
  return withStore(indexedDb, "readwrite", (store) =>
    Promise.all(kept.map((key) => requestDone(store.put(values[key], key)))),
  );
}

/**
 * Move a backend URL and token that older versions kept in storage.local into this store, once,
 * and delete them there. Once done (marked in this store), storage.local is never read for them
 * again, so a content script writing a backendUrl there later changes nothing.
 */
export async function migrateFromStorageLocal(storageLocal, indexedDb = globalThis.indexedDB) {
  const current = await readConnection(indexedDb);
  if (current[MIGRATED]) return current;
  const legacy = await storageLocal.get([...CONNECTION_KEYS]);
  const moved = {};
  for (const key of CONNECTION_KEYS) {
    if (current[key] === undefined && typeof legacy[key] === "string") moved[key] = legacy[key];
  }
  const writes = { ...moved, [MIGRATED]: true };
  await withStore(indexedDb, "readwrite", (store) =>
    Promise.all(Object.entries(writes).map(([key, value]) => requestDone(store.put(value, key)))),
  );
  await storageLocal.remove([...CONNECTION_KEYS]);
  return { ...current, ...moved, [MIGRATED]: true };
}
