// Building DOM from server data: every string goes in as text, never as HTML.

/** el(doc, "a", {href, className}, child, "text", ...) with text nodes for strings. */
export function el(doc, tag, attributes = {}, ...children) {
  const node = doc.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2).toLowerCase(), value);
    } else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? doc.createTextNode(child) : child);
  }
  return node;
}

/** A link that opens outside the page, or plain text when the URL is not http(s). */
export function externalLink(doc, href, text, className = null) {
  if (!href) return el(doc, "span", { className }, text);
  return el(doc, "a", { href, target: "_blank", rel: "noopener noreferrer", className }, text);
}

/**
 * An event handler that ignores events a script made (element.click(), dispatchEvent): the
 * extension acts only on what the reader did. Pages cannot reach our closed shadow roots, so
 * this is the second line, for any reference that leaks.
 */
export function trusted(handler) {
  return (event) => {
    if (event.isTrusted) handler(event);
  };
}
