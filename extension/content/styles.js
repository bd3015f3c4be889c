// The packaged stylesheets, as the content script's closed shadow roots adopt them: each file is
// fetched once per page, parsed into one constructed stylesheet and shared by every root, so the
// overlay and the badges are styled from the same files as the extension's own pages. A page's
// Content-Security-Policy governs <style> and <link> elements, not adopted stylesheets.

const ext = globalThis.browser ?? globalThis.chrome;
const sheets = new Map();

function sheet(path) {
  if (!sheets.has(path)) {
    const loading = fetch(ext.runtime.getURL(path))
      .then((response) => response.text())
      .then((text) => {
        const parsed = new CSSStyleSheet();
        parsed.replaceSync(text);
        return parsed;
      });
    sheets.set(path, loading);
  }
  return sheets.get(path);
}

/** The stylesheets of the packaged files at `paths` (from the extension's root), in order. */
export function stylesheets(paths) {
  return Promise.all(paths.map(sheet));
}
