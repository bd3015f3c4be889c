"""What the reader sees, checked the same way in Chromium and Firefox."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the Firefox tests read this module without Playwright
    from playwright.sync_api import Page

MRL_TITLE = "Matryoshka Representation Learning"
# What the overlay shows first on MRL's page (it does not repeat the page's title).
MRL_CODE = "github.com/RAIVNLab/MRL"

# What a reader sees of a node, as the browser renders it, in the page's own JavaScript (the
# same in Chromium and Firefox). Both functions leave out what is not displayed or not visible,
# include CSS generated text (::before/::after: the extension draws its labels that way, so
# that find-in-page cannot match them) and apply `text-transform`, which `textContent` ignores
# and `innerText` applies to text nodes only. `renderedText` keeps each block on a line of its
# own (as `innerText` does); `visibleText` is the same text on one line.
VISIBLE_TEXT = r"""
function renderedText(node) {
  const BLOCK = /^(block|list-item|flex|grid|table|table-row|table-caption|flow-root)$/;
  const SKIPPED = new Set(["STYLE", "SCRIPT", "TEMPLATE", "NOSCRIPT"]);
  const transform = (text, style) => {
    if (style.textTransform === "uppercase") return text.toUpperCase();
    if (style.textTransform === "lowercase") return text.toLowerCase();
    if (style.textTransform !== "capitalize") return text;
    const word = /(^|[^\p{L}\p{N}])(\p{L})/gu;
    return text.replace(word, (_, before, first) => before + first.toUpperCase());
  };
  // White space as laid out: runs collapse to one space unless the style preserves them.
  const spaced = (text, style) => {
    if (/^(pre|pre-wrap|break-spaces)$/.test(style.whiteSpace)) return text;
    if (style.whiteSpace === "pre-line") return text.replace(/[^\S\n]+/g, " ");
    return text.replace(/\s+/g, " ");
  };
  // The generated text of `element`'s ::before or ::after: quoted strings and attr() values.
  const generated = (element, pseudo) => {
    const style = getComputedStyle(element, pseudo);
    const content = style.content;
    if (!content || content === "none" || content === "normal") return "";
    if (style.display === "none" || style.visibility !== "visible") return "";
    const parts = content.match(/attr\(\s*[\w-]+\s*\)|"(?:[^"\\]|\\.)*"/g) ?? [];
    const text = parts.map((part) => {
      const attr = /^attr\(\s*([\w-]+)\s*\)$/.exec(part);
      if (attr) return element.getAttribute(attr[1]) ?? "";
      try { return JSON.parse(part); } catch { return part.slice(1, -1); }
    });
    return transform(spaced(text.join(""), style), style);
  };
  const walk = (current) => {
    if (current.nodeType === Node.TEXT_NODE) {
      const parent = current.parentElement;
      if (!parent) return current.data.replace(/\s+/g, " ");
      const style = getComputedStyle(parent);
      return style.visibility === "visible" ? transform(spaced(current.data, style), style) : "";
    }
    if (current.nodeType !== Node.ELEMENT_NODE || SKIPPED.has(current.tagName)) return "";
    const style = getComputedStyle(current);
    if (style.display === "none") return "";
    if (current.tagName === "BR") return "\n";
    let out = generated(current, "::before");
    if (current.tagName === "SELECT") {
      const chosen = current.selectedOptions[0]?.textContent ?? "";
      out += style.visibility === "visible" ? transform(chosen, style) : "";
    } else {
      for (const child of current.childNodes) out += walk(child);
    }
    out += generated(current, "::after");
    return BLOCK.test(style.display) ? `\n${out}\n` : out;
  };
  if (node.nodeType === Node.ELEMENT_NODE && !node.checkVisibility()) return "";
  return walk(node)
    .split("\n")
    .map((line) => line.replace(/[^\S\n]+/g, " ").trim())
    .filter(Boolean)
    .join("\n");
}

function visibleText(node) {
  return renderedText(node).replace(/\s+/g, " ").trim();
}
"""

# A value the code failed to fill in, written out by the DOM as a word of its own.
_STRAY = re.compile(r"\b(null|undefined|NaN|\[object Object\])\b")


def assert_no_stray_values(text: str) -> None:
    """No visible 'null', 'undefined', 'NaN' or '[object Object]': each means a missing value."""
    found = [line for line in text.splitlines() if _STRAY.search(line)]
    assert not found, f"stray values on screen: {found}"


def visible_text(page: Page, selector: str) -> str:
    """What a reader sees of the first node matching `selector` on `page`, on one line."""
    script = f"node => {{ {VISIBLE_TEXT}\nreturn visibleText(node); }}"
    return str(page.locator(selector).first.evaluate(script))
