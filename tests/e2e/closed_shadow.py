"""Reading the extension's closed shadow roots the way the browser's DevTools does.

Page scripts (and Playwright's selectors, which run as page scripts) cannot enter a closed
shadow root. The tests do, through the Chrome DevTools Protocol: `DOM.describeNode(pierce)`
names the closed root, `DOM.resolveNode` hands a reference to it to the test alone, and every
assertion reads what is rendered there: visible text (CSS generated labels included, hidden
elements left out), computed styles, boxes. Clicks are real mouse clicks at the element's
centre, so they are trusted events, as a reader's are.
"""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Error, Page

from tests.e2e.visible import VISIBLE_TEXT
from tests.support import eventually


class ClosedRoot:
    """The closed shadow root of the `index`th element matching `host` on `page`."""

    def __init__(self, page: Page, host: str = "#paperlens-overlay", index: int = 0) -> None:
        self.page = page
        self.host = host
        self.index = index
        self.cdp = page.context.new_cdp_session(page)

    def _root_object(self) -> str:
        document = self.cdp.send("DOM.getDocument", {"depth": 0})
        found = self.cdp.send(
            "DOM.querySelectorAll",
            {"nodeId": document["root"]["nodeId"], "selector": self.host},
        )["nodeIds"]
        if len(found) <= self.index:
            raise LookupError(f"no element {self.host} #{self.index}")
        try:
            node = self.cdp.send(
                "DOM.describeNode", {"nodeId": found[self.index], "depth": 1, "pierce": True}
            )["node"]
        except Error as error:
            # The page replaced the element between the two calls (a new paper's overlay).
            raise LookupError(f"{self.host} #{self.index} went away: {error.message}") from None
        roots = node.get("shadowRoots") or []
        if not roots:
            raise LookupError(f"{self.host} has no shadow root")
        resolved = self.cdp.send(
            "DOM.resolveNode",
            {"backendNodeId": roots[0]["backendNodeId"], "objectGroup": "closed-root"},
        )
        return str(resolved["object"]["objectId"])

    def mode(self) -> str:
        """'open' or 'closed', as the browser reports it."""
        document = self.cdp.send("DOM.getDocument", {"depth": 0})
        found = self.cdp.send(
            "DOM.querySelectorAll", {"nodeId": document["root"]["nodeId"], "selector": self.host}
        )["nodeIds"]
        node = self.cdp.send(
            "DOM.describeNode", {"nodeId": found[self.index], "depth": 1, "pierce": True}
        )["node"]
        return str(node["shadowRoots"][0]["shadowRootType"])

    def evaluate(self, body: str, arg: Any = None) -> Any:
        """Run `(root, arg) => body` in the page with a reference to the closed root."""
        function = f"function(arg) {{ {VISIBLE_TEXT}\nconst root = this; return ({body}); }}"
        try:
            result = self.cdp.send(
                "Runtime.callFunctionOn",
                {
                    "objectId": self._root_object(),
                    "functionDeclaration": function,
                    "arguments": [{"value": arg}],
                    "returnByValue": True,
                    "awaitPromise": True,
                },
            )
        finally:
            self.cdp.send("Runtime.releaseObjectGroup", {"objectGroup": "closed-root"})
        if "exceptionDetails" in result:
            raise AssertionError(json.dumps(result["exceptionDetails"])[:2000])
        return result["result"].get("value")

    # ------------------------------------------------------------------ reading
    def count(self, selector: str) -> int:
        return int(self.evaluate("root.querySelectorAll(arg).length", selector))

    def root_text(self) -> str:
        """Visible text of the whole root."""
        return str(
            self.evaluate(
                "[...root.childNodes].map(visibleText).join(' ').replace(/\\s+/g, ' ').trim()"
            )
        )

    def texts(self, selector: str) -> list[str]:
        """Visible text of every match, in document order."""
        return list(self.evaluate("[...root.querySelectorAll(arg)].map(visibleText)", selector))

    def text(self, selector: str = ".panel") -> str:
        texts = self.texts(selector)
        if not texts:
            raise LookupError(f"nothing matches {selector}")
        return texts[0]

    def attribute(self, selector: str, name: str) -> str | None:
        return self.evaluate(  # type: ignore[no-any-return]
            "(([s, n]) => root.querySelector(s)?.getAttribute(n) ?? null)(arg)", [selector, name]
        )

    def style(self, selector: str, prop: str) -> str:
        return str(
            self.evaluate(
                "(([s, p]) => getComputedStyle(root.querySelector(s))[p])(arg)", [selector, prop]
            )
        )

    def visible(self, selector: str) -> bool:
        return bool(
            self.evaluate(
                "root.querySelector(arg)?.checkVisibility({ visibilityProperty: true }) ?? false",
                selector,
            )
        )

    def box(self, selector: str, index: int = 0) -> dict[str, float]:
        return dict(
            self.evaluate(
                "(([s, i]) => { const e = root.querySelectorAll(s)[i];"
                " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                " return {x: r.x, y: r.y, width: r.width, height: r.height}; })(arg)",
                [selector, index],
            )
        )

    # ------------------------------------------------------------------ waiting
    def wait_text(self, selector: str, pattern: str, timeout: float = 15.0) -> str:
        """Wait until some match's visible text contains `pattern` (a regex); return that text."""

        def found() -> str:
            return next((t for t in self.texts(selector) if re.search(pattern, t)), "")

        return eventually(found, timeout, f"{selector} showing {pattern!r}")

    # ------------------------------------------------------------------ acting
    def click(self, selector: str, index: int = 0, modifiers: list[str] | None = None) -> None:
        """A real (trusted) mouse click at the centre of the element."""
        box = self.box(selector, index)
        keys = modifiers or []
        for key in keys:
            self.page.keyboard.down(key)
        self.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for key in reversed(keys):
            self.page.keyboard.up(key)

    def focus(self, selector: str) -> None:
        self.evaluate("root.querySelector(arg).focus()", selector)

    def type_into(self, selector: str, text: str) -> None:
        """Click a field as a reader would, clear it and type."""
        self.click(selector)
        self.page.keyboard.press("Control+A")
        self.page.keyboard.press("Delete")
        self.page.keyboard.type(text)

    def choose(self, selector: str, value: str) -> None:
        """Pick an option of a <select> (the value the next trusted click submits)."""
        self.evaluate("(([s, v]) => { root.querySelector(s).value = v; })(arg)", [selector, value])


BADGES = ".paperlens-badges"
# The paper link a badge set belongs to: the abstract link of the listing row (<dt>) it ends,
# the link it follows, or the title link inside the heading it follows (badges go after a
# heading, not into it).
BADGE_PAPER_LINK = (
    "e => { if (e.parentElement.localName === 'dt')"
    " return e.parentElement.querySelector('a[href*=\"/abs/\"]');"
    " const p = e.previousElementSibling;"
    " return p && (p.matches('a[href]') ? p : p.querySelector('a[href]')); }"
)


def badge_links(page: Page) -> list[str]:
    """For each badge set on the page, in order, the address of the paper link it follows."""
    return list(
        page.eval_on_selector_all(BADGES, f"els => els.map(e => ({BADGE_PAPER_LINK})(e).href)")
    )


def badges_by_paper(page: Page) -> dict[str, str]:
    """Listing badges by the arXiv id of the link each follows, with the text each shows."""
    return {
        f"arxiv:{href.rstrip('/').rsplit('/', 1)[-1]}": ClosedRoot(page, BADGES, index).root_text()
        for index, href in enumerate(badge_links(page))
    }


def accessible_nodes(page: Page, host: str, index: int = 0) -> list[tuple[str, str]]:
    """(role, accessible name) of every node a screen reader meets inside the `index`th `host`,
    as the browser's accessibility tree computes them (closed shadow roots included; nodes
    hidden from assistive technology and unnamed text runs left out)."""
    cdp = page.context.new_cdp_session(page)
    try:
        document = cdp.send("DOM.getDocument", {"depth": 0})
        found = cdp.send(
            "DOM.querySelectorAll", {"nodeId": document["root"]["nodeId"], "selector": host}
        )["nodeIds"]
        backend_id = cdp.send("DOM.describeNode", {"nodeId": found[index]})["node"]["backendNodeId"]
        nodes = cdp.send("Accessibility.queryAXTree", {"backendNodeId": backend_id})["nodes"]
    finally:
        cdp.detach()
    by_id = {node["nodeId"]: node for node in nodes}

    def labelled_ancestor(node: dict[str, Any]) -> bool:
        """Inside a link or image that has a name of its own: its text is not read apart."""
        parent = by_id.get(node.get("parentId", ""))
        while parent is not None:
            if parent.get("role", {}).get("value") in {"link", "image", "button"} and parent.get(
                "name", {}
            ).get("value"):
                return True
            parent = by_id.get(parent.get("parentId", ""))
        return False

    named = []
    for node in nodes:
        if node.get("ignored") or labelled_ancestor(node):
            continue
        role = str(node.get("role", {}).get("value", ""))
        name = str(node.get("name", {}).get("value", ""))
        if role in {"generic", "none", "InlineTextBox", "StaticText"} and not name.strip():
            continue
        named.append((role, name))
    return named
