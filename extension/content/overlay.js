// The overlay: a host element (#paperlens-overlay, data-state loading|pending|ready|error)
// whose shadow root keeps the page's styles and ours apart. The root is closed, and the only
// reference to it stays in this module's closure: page scripts see the host and its lookup
// state (what anyone can ask the backend), never the content, and nothing about the reading list.
//
// It opens as a chip ("PaperLens · code ↗ · saved") in the corner, out of the paper's way; the
// reader expands it with its button or the keyboard shortcut, and Escape folds it back.

import { el, trusted } from "../lib/dom.js";
import { stylesheets } from "./styles.js";

export const OVERLAY_ID = "paperlens-overlay";

const STYLESHEETS = ["lib/page.css", "content/overlay.css"];
// Where paper pages put their abstract (arXiv's blockquote, and the usual names elsewhere).
const ABSTRACT = "blockquote.abstract, #abstract, .abstract";

const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/** Create (or replace) the overlay; `onToggle(collapsed)` remembers the choice per site. */
export async function createOverlay(doc, { collapsed, onToggle }) {
  // Styled before it is shown; nothing awaits between removing the old overlay and adding this one.
  const styles = await stylesheets(STYLESHEETS);
  doc.getElementById(OVERLAY_ID)?.remove();
  const host = doc.createElement("div");
  host.id = OVERLAY_ID;
  const shadow = host.attachShadow({ mode: "closed" });
  const body = el(doc, "div", { className: "body", id: "paperlens-body" });
  const summary = el(doc, "span", { className: "summary" });
  const toggle = el(
    doc,
    "button",
    { type: "button", className: "toggle", "aria-controls": "paperlens-body" },
    el(doc, "span", { className: "brand" }, "PaperLens"),
    el(doc, "span", { className: "chevron", "aria-hidden": "true" }),
  );
  const panel = el(
    doc,
    "section",
    { className: "panel", role: "complementary", "aria-label": "PaperLens" },
    el(doc, "div", { className: "chip" }, toggle, summary),
    body,
  );
  const isCollapsed = () => panel.classList.contains("collapsed");
  // The chip sits in the bottom corner, or the top one where the bottom would cover the
  // abstract as the page is laid out at first (a narrow window, a long abstract).
  const place = () => {
    delete host.dataset.corner;
    const abstract = doc.querySelector(ABSTRACT);
    if (!isCollapsed() || !abstract) return;
    if (overlaps(host.getBoundingClientRect(), abstract.getBoundingClientRect())) host.dataset.corner = "top";
  };
  const setCollapsed = (value) => {
    panel.classList.toggle("collapsed", value);
    toggle.setAttribute("aria-expanded", String(!value));
    toggle.title = value ? "Show PaperLens on this site" : "Fold PaperLens into its chip on this site";
  };
  const choose = (value) => {
    setCollapsed(value);
    place();
    onToggle(value);
  };
  toggle.addEventListener(
    "click",
    trusted(() => choose(!isCollapsed())),
  );
  panel.addEventListener(
    "keydown",
    trusted((event) => {
      if (event.key !== "Escape" || isCollapsed()) return;
      event.stopPropagation();
      choose(true);
      toggle.focus();
    }),
  );
  setCollapsed(collapsed);
  shadow.adoptedStyleSheets = styles;
  shadow.append(panel);
  (doc.body ?? doc.documentElement).append(host);
  place();

  return {
    host,
    /** Replace the body; the state attribute says how far the lookup got, nothing more. */
    show(state, ...nodes) {
      body.replaceChildren(...nodes.flat(Infinity).filter(Boolean));
      host.dataset.state = state;
      panel.dataset.state = state;
    },
    /**
     * Keep one height while expanded (`steady`) when the body holds the reader's Save form:
     * the page can measure the host's box, and must not tell a saved paper from an unsaved one.
     */
    holdSize(steady) {
      panel.classList.toggle("steady", steady);
    },
    /** Replace the chip's parts after the name; absent parts are left out. */
    summarize(...parts) {
      summary.replaceChildren(...parts.flat(Infinity).filter(Boolean));
      place();
    },
    /** The keyboard shortcut: expand (or fold) the overlay and put focus on its button. */
    toggleFromKeyboard() {
      choose(!isCollapsed());
      toggle.focus();
    },
  };
}

/** One part of the chip, after a quiet separator. */
export function chipPart(doc, ...children) {
  return el(
    doc,
    "span",
    { className: "part" },
    el(doc, "span", { className: "sep", "aria-hidden": "true" }, "·"),
    ...children,
  );
}

/**
 * The chip's reading-list part: "· saved" as generated text in a box of the same width either
 * way, so that the page can learn from neither the text nor the overlay's size.
 */
export function savedPart(doc, saved) {
  return el(doc, "span", { className: "part saved", "data-label": saved ? "· saved" : "" });
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
