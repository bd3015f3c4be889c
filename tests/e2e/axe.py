"""axe-core, the accessibility rules engine, run on what the extension draws in a real browser.

axe-core comes from npm, pinned in package.json (`npm ci` installs it). Its script is evaluated
through DevTools, so no page's Content-Security-Policy (the extension's pages allow no inline
script) stands in the way. axe cannot enter a closed shadow root, and the overlay and the
listing badges live in closed ones: `open_closed_roots` puts a copy of each, with the same
markup and the same adopted stylesheets, in an open shadow root where the original stood, and
hides the original, so that axe measures what the reader sees.
"""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page

from tests.e2e.closed_shadow import ClosedRoot
from tests.support import ROOT

AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# The impacts a page may not have: axe's two highest.
BLOCKING = ("serious", "critical")
# The class of the open copies open_closed_roots makes, for `include`.
COPY_CLASS = "paperlens-axe-copy"

# In the closed root's own context (`root` is the closed ShadowRoot): an open copy next to its
# host, with the host's attributes, the root's markup and its adopted stylesheets.
_COPY_ROOT = f"""(() => {{
  const host = root.host;
  const copy = document.createElement(host.localName);
  for (const {{ name, value }} of host.attributes) {{
    if (name !== "id") copy.setAttribute(name, value);
  }}
  copy.classList.add("{COPY_CLASS}");
  const open = copy.attachShadow({{ mode: "open" }});
  open.adoptedStyleSheets = [...root.adoptedStyleSheets];
  open.innerHTML = root.innerHTML;
  host.after(copy);
  host.dataset.paperlensAxeHidden = "";
  host.style.setProperty("display", "none", "important");
  return true;
}})()"""
_RESTORE = f"""() => {{
  document.querySelectorAll(".{COPY_CLASS}").forEach((copy) => copy.remove());
  for (const host of document.querySelectorAll("[data-paperlens-axe-hidden]")) {{
    host.style.removeProperty("display");
    delete host.dataset.paperlensAxeHidden;
  }}
}}"""


def _inject(page: Page) -> None:
    """Load axe into `page` once, whatever the page's CSP says."""
    if not AXE_SCRIPT.exists():
        raise AssertionError(f"{AXE_SCRIPT} is missing: run `npm ci` (package.json pins axe-core)")
    if page.evaluate("typeof window.axe === 'object'"):
        return
    cdp = page.context.new_cdp_session(page)
    try:
        result = cdp.send(
            "Runtime.evaluate", {"expression": AXE_SCRIPT.read_text(encoding="utf-8")}
        )
    finally:
        cdp.detach()
    if "exceptionDetails" in result:
        raise AssertionError(f"axe-core did not load: {json.dumps(result['exceptionDetails'])}")


def open_closed_roots(page: Page, host: str) -> int:
    """Replace every `host` element's closed shadow root with an open copy axe can read;
    the number of copies made. Copies made before are dropped first: a copy is a snapshot,
    and the page's theme or state may have changed since."""
    page.evaluate(_RESTORE)
    count = page.locator(host).count()
    for index in range(count):
        ClosedRoot(page, host, index).evaluate(_COPY_ROOT)
    return count


def restore_closed_roots(page: Page) -> None:
    """Drop the copies open_closed_roots made and show the originals again."""
    page.evaluate(_RESTORE)


def violations(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """axe's serious and critical violations on `page` (or within the elements matching the
    CSS selector `include`), each with its rule id, impact, help text, and the nodes at fault."""
    _inject(page)
    found: list[dict[str, Any]] = page.evaluate(
        """async (include) => {
          const context = include ? { include: [include] } : document;
          const result = await axe.run(context, { resultTypes: ["violations"] });
          return result.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
          }));
        }""",
        include,
    )
    return [v for v in found if v["impact"] in BLOCKING]


def describe(found: list[dict[str, Any]]) -> str:
    """The violations as a developer acts on them: rule, impact, element, what to fix."""
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            summary = " ".join(str(node["summary"]).split())
            lines.append(f"  at {json.dumps(node['target'])}: {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str, include: str | None = None) -> None:
    """No serious or critical axe violation on `page` (within `include`, when given)."""
    found = violations(page, include)
    assert not found, f"axe found on {what}:\n{describe(found)}"
