// The overlay's styles, applied inside its shadow root so neither side leaks.
export const OVERLAY_CSS = `
:host {
  /* !important inside a shadow root beats the page's !important rules on the host. */
  all: initial !important; position: fixed !important; right: 16px !important;
  bottom: 16px !important; z-index: 2147483647 !important; display: block !important;
}
.panel {
  --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --border: #d1d9e0; --accent: #0b57d0;
  --accent-fg: #ffffff; --chip: #eef1f4; --official: #1a7f37; --error: #b3261e;
  width: 360px;
  max-height: min(70vh, 640px); display: flex; flex-direction: column;
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); border: 1px solid var(--border);
  border-radius: 10px; box-shadow: 0 6px 24px rgba(0, 0, 0, .18); overflow: hidden;
}
@media (prefers-color-scheme: dark) {
  .panel {
    --bg: #1d2125; --fg: #e6e8eb; --muted: #9aa4ae; --border: #3a4047; --accent: #8ab4f8;
    --accent-fg: #0b1a33; --chip: #2b3137; --official: #57c26c; --error: #f2b8b5;
  }
}
.panel.collapsed { width: auto; }
.header { display: flex; align-items: center; gap: 8px; padding: 8px 10px; border-bottom: 1px solid var(--border); }
.panel.collapsed .header { border-bottom: 0; }
.brand { font-weight: 600; }
.toggle { margin-left: auto; }
.body { padding: 8px 12px 12px; overflow: auto; }
.panel.collapsed .body { display: none; }
h2 { font-size: 14px; margin: 4px 0 8px; }
h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 12px 0 4px; }
ul, ol { margin: 0; padding-left: 18px; }
li { margin: 3px 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; margin-left: 4px; border-radius: 8px; background: var(--chip); }
.tag.official { color: var(--official); font-weight: 600; }
.source, .muted, .reason { color: var(--muted); }
.source { font-size: 11px; margin-left: 6px; }
.reason { font-size: 12px; }
/* Server text may carry bidi overrides (U+202E): keep each inside its own element. */
a, .title, .reason, .source, .muted { unicode-bidi: isolate; }
.line { margin: 4px 0; }
.error { color: var(--error); }
.save { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-top: 10px; }
/* Reading-list words are generated text (find-in-page cannot match it), in boxes that do not
   change size with the saved state (see lib/paper_view.js). */
[data-label]::before { content: attr(data-label); }
.saved-mark { flex: 1; color: var(--official); font-weight: 600; }
.row-break { flex-basis: 100%; height: 0; }
.saved-mark.muted { color: var(--muted); font-weight: normal; }
.save-button { min-width: 5.5em; }
.remove-button.absent { visibility: hidden; }
.tags-box { position: relative; display: flex; flex: 1; min-width: 120px; }
.tags-box .tags { flex: 1; min-width: 0; }
.tags-preview {
  position: absolute; left: 9px; right: 9px; top: 50%; transform: translateY(-50%);
  pointer-events: none; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; color: var(--fg);
}
.tags-preview.hint { color: var(--muted); }
.tags:focus + .tags-preview, .tags.filled + .tags-preview { visibility: hidden; }
.save-message { flex-basis: 100%; color: var(--error); }
.tags { flex: 1; min-width: 120px; }
button, select, input {
  font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--border);
  border-radius: 6px; padding: 3px 8px;
}
button { cursor: pointer; }
button.primary { background: var(--accent); color: var(--accent-fg); border-color: var(--accent); }
button.link { border: 0; padding: 0; color: var(--accent); background: none; text-decoration: underline; }
a:focus-visible, button:focus-visible, select:focus-visible, input:focus-visible {
  outline: 2px solid var(--accent); outline-offset: 2px;
}
.spinner { display: inline-block; width: 10px; height: 10px; border: 2px solid var(--muted); border-top-color: transparent; border-radius: 50%; animation: spin 1s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .spinner { animation: none; } }
`;

export const BADGE_CSS = `
:host {
  all: initial !important; display: inline-flex !important; gap: 4px !important;
  margin-left: 6px !important; vertical-align: middle !important;
}
span { font: 600 11px/1.6 system-ui, sans-serif; padding: 0 6px; border-radius: 8px;
  background: #e7f0fe; color: #0b57d0; }
span.saved { background: #e6f4ea; color: #1a7f37; }
/* Always laid out, shown only when saved: the badge's size must not tell the page. */
span.saved.absent { visibility: hidden; }
[data-label]::before { content: attr(data-label); }
@media (prefers-color-scheme: dark) {
  span { background: #22324a; color: #8ab4f8; }
  span.saved { background: #1f3a27; color: #57c26c; }
}
`;
