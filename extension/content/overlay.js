// The overlay: a host element (#paperlens-overlay, data-state loading|pending|ready|error)
// whose shadow root keeps the page's styles and ours apart. The root is closed, and the only
// reference to it stays in this module's closure: page scripts see the host and its lookup
// state (what anyone can ask the backend), never the content, and nothing about the reading list.

import { el, trusted } from "../lib/dom.js";
import { stylesheets } from "./styles.js";

export const OVERLAY_ID = "paperlens-overlay";

const STYLESHEETS = ["lib/page.css", "content/overlay.css"];

/** Create (or replace) the overlay; `onToggle(collapsed)` remembers the choice per site. */
export async function createOverlay(doc, { collapsed, onToggle }) {
  // Styled before it is shown; nothing awaits between removing the old overlay and adding this one.
  const styles = await stylesheets(STYLESHEETS);
  doc.getElementById(OVERLAY_ID)?.remove();
  const host = doc.createElement("div");
  host.id = OVERLAY_ID;
  const shadow = host.attachShadow({ mode: "closed" });
  const body = el(doc, "div", { className: "body", id: "paperlens-body" });
  const toggle = el(doc, "button", {
    type: "button",
    className: "toggle",
    "aria-controls": "paperlens-body",
  });
  const panel = el(
    doc,
    "section",
    { className: "panel", role: "complementary", "aria-label": "PaperLens" },
    el(doc, "div", { className: "header" }, el(doc, "span", { className: "brand" }, "PaperLens"), toggle),
    body,
  );
  const setCollapsed = (value) => {
    panel.classList.toggle("collapsed", value);
    toggle.setAttribute("aria-expanded", String(!value));
    toggle.textContent = value ? "Show" : "Hide";
    toggle.title = value ? "Show PaperLens on this site" : "Collapse PaperLens on this site";
  };
  toggle.addEventListener(
    "click",
    trusted(() => {
      const value = !panel.classList.contains("collapsed");
      setCollapsed(value);
      onToggle(value);
    }),
  );
  setCollapsed(collapsed);
  shadow.adoptedStyleSheets = styles;
  shadow.append(panel);
  (doc.body ?? doc.documentElement).append(host);

  return {
    host,
    /** Replace the body; the state attribute says how far the lookup got, nothing more. */
    show(state, ...nodes) {
      body.replaceChildren(...nodes.flat(Infinity).filter(Boolean));
      host.dataset.state = state;
    },
  };
}

export function loadingView(doc) {
  return el(doc, "p", { className: "line" }, el(doc, "span", { className: "spinner" }), " Looking up this paper…");
}

export function pendingView(doc, paperId) {
  return el(
    doc,
    "p",
    { className: "line" },
    el(doc, "span", { className: "spinner" }),
    ` PaperLens is preparing ${paperId}; this takes a few seconds…`,
  );
}
