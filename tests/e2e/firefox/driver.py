"""Driving the extension in Debian's Firefox ESR, headless, through Mozilla's Marionette client.

Firefox gives each installation its own `moz-extension://<uuid>` origin, so the backend cannot
grant it CORS the way it grants Chrome's fixed id: the reader grants a host permission on the
backend instead, and these tests cover that first run as well as the overlay, Save and popup.

Paper pages are the saved copies the Chromium tests serve, here over real HTTPS on
127.0.0.1:443 (self-signed; Marionette's session accepts it) with the paper sites' hosts
resolved to loopback by the profile (`network.dns.localDomains`).

The overlay and the badges live in closed shadow roots that the page cannot open. The tests
read them the way only privileged code can (`openOrClosedShadowRoot`, from Marionette's system
sandbox) and assert on what a reader sees there and in the popup: the rendered text of visible
elements, CSS generated labels and `text-transform` included (tests/e2e/visible.py, shared with
the Chromium tests); clicks inside the overlay are real pointer events at its buttons.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marionette_driver.addons import Addons
from marionette_driver.by import By
from marionette_driver.errors import TimeoutException
from marionette_driver.marionette import Marionette
from marionette_driver.wait import Wait
from werkzeug.serving import BaseWSGIServer, make_server

from tests.e2e.conftest import MINIMAL_PDF, PAGES, SAVED_PAGES, STRICT_CSP
from tests.e2e.visible import VISIBLE_TEXT

FIREFOX = Path(os.environ.get("PAPERLENS_FIREFOX", "/usr/lib/firefox-esr/firefox-esr"))
# The paper sites the saved pages come from, resolved to loopback inside the browser only.
PAPER_HOSTS = sorted({url.split("/")[2] for url in SAVED_PAGES})
HTTPS_PORT = 443
# A saved page asked for with this query comes with STRICT_CSP.
STRICT_CSP_QUERY = "strict-csp"
WAIT_S = 15.0

# The overlay as a reader sees it: the rendered text of its panel (a line per block), and the
# visible text of its links, buttons and list items.
READ_OVERLAY = (
    VISIBLE_TEXT
    + """
const host = document.getElementById("paperlens-overlay");
const root = host && host.openOrClosedShadowRoot;
if (!root) return null;
const shown = (e) => e.checkVisibility({ visibilityProperty: true });
// Text nodes too: a stray word written straight into the root shows as well.
const panels = [...root.childNodes].filter((e) => e.localName !== "style");
return {
  text: panels.map((e) => renderedText(e)).join("\\n"),
  links: [...root.querySelectorAll("a[href]")].filter(shown).map((a) => [visibleText(a), a.href]),
  buttons: [...root.querySelectorAll("button")].filter(shown).map((b) => visibleText(b)),
  items: [...root.querySelectorAll("li")].filter(shown).map((li) => visibleText(li)),
};
"""
)

# Every badge on a listing page: its paper link (the abstract link of the listing row it ends,
# the link it follows, or the one inside the heading it follows), and its visible text.
READ_BADGES = (
    VISIBLE_TEXT
    + """
const paperLink = (e) => {
  if (e.parentElement.localName === "dt") return e.parentElement.querySelector('a[href*="/abs/"]');
  const before = e.previousElementSibling;
  return before?.matches("a[href]") ? before : before?.querySelector("a[href]");
};
return [...document.querySelectorAll("*")]
  .filter((e) => e.openOrClosedShadowRoot && e.id !== "paperlens-overlay")
  .map((e) => [
    paperLink(e)?.getAttribute("href") ?? null,
    [...e.openOrClosedShadowRoot.childNodes]
      .filter((c) => c.localName !== "style")
      .map((c) => visibleText(c))
      .join(" ")
      .trim(),
  ]);
"""
)

# The current page as a reader sees it (the popup's labels are generated text too).
READ_PAGE = VISIBLE_TEXT + "\nreturn renderedText(document.body);"

# Where a visible overlay button of a given label sits, in the viewport's CSS pixels.
FIND_OVERLAY_BUTTON = (
    VISIBLE_TEXT
    + """
const root = document.getElementById("paperlens-overlay").openOrClosedShadowRoot;
const button = [...root.querySelectorAll("button")]
  .find((b) => b.checkVisibility({ visibilityProperty: true }) && visibleText(b) === arguments[0]);
if (!button) return null;
const box = button.getBoundingClientRect();
return [Math.round(box.x + box.width / 2), Math.round(box.y + box.height / 2)];
"""
)

# Runs SOURCE in an extension page, whose `browser` global is the extension's own API; values
# cross between the page and Marionette's sandbox as JSON.
IN_EXTENSION_PAGE = """
const [argsJson, resolve] = arguments;
const page = window.wrappedJSObject;
const browser = page.browser;
const args = page.JSON.parse(argsJson);
(async () => { SOURCE })().then(
  (value) => resolve(page.JSON.stringify(value ?? null)),
  (error) => resolve(JSON.stringify({ error: String(error) })),
);
"""

CONNECTION_KEYS = ("backendUrl", "token")

# Writes `args` into the connection store (lib/connection_store.js) from an extension page.
WRITE_CONNECTION = """
const opened = page.indexedDB.open("paperlens", 1);
opened.onupgradeneeded = () => opened.result.createObjectStore("connection");
const db = await new Promise((resolve, reject) => {
  opened.onsuccess = () => resolve(opened.result);
  opened.onerror = () => reject(opened.error);
});
const transaction = db.transaction("connection", "readwrite");
const store = transaction.objectStore("connection");
for (const [key, value] of Object.entries(args)) store.put(value, key);
await new Promise((resolve, reject) => {
  transaction.oncomplete = resolve;
  transaction.onerror = () => reject(transaction.error);
});
db.close();
return null;
"""

# Accepts the open permission prompt of the selected tab as its Allow button does (headless
# Firefox keeps the prompt but shows no panel to click); false when no prompt is open.
ACCEPT_PERMISSION_PROMPT = """
const win = Services.wm.getMostRecentWindow("navigator:browser");
const prompt = win.PopupNotifications.getNotification(
  "addon-webext-permissions", win.gBrowser.selectedBrowser
);
if (!prompt) return false;
prompt.mainAction.callback({ source: "button" });
win.PopupNotifications.remove(prompt);
return true;
"""

# Grants a host permission exactly as accepting Firefox's permission prompt does.
GRANT_ORIGIN = """
const [addonId, origin, resolve] = arguments;
const { ExtensionPermissions } = ChromeUtils.importESModule(
  "resource://gre/modules/ExtensionPermissions.sys.mjs"
);
const { extension } = WebExtensionPolicy.getByID(addonId);
ExtensionPermissions.add(addonId, { permissions: [], origins: [origin] }, extension).then(
  () => resolve(true),
  (error) => resolve(String(error)),
);
"""


def backend_permission_pattern(backend_url: str) -> str:
    """The host permission the extension asks for on its backend (lib/config.js): any port."""
    scheme, rest = backend_url.split("://", 1)
    return f"{scheme}://{rest.split('/')[0].split(':')[0]}/*"


def _saved_pages(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The saved paper pages under their real addresses; anything else is a 404."""
    url = f"https://{environ['HTTP_HOST']}{environ['PATH_INFO']}"
    if url in SAVED_PAGES:
        body, kind = (PAGES / SAVED_PAGES[url]).read_bytes(), "text/html; charset=utf-8"
        headers = [("Content-Type", kind)]
        if environ.get("QUERY_STRING") == STRICT_CSP_QUERY:
            headers.append(("Content-Security-Policy", STRICT_CSP))
        start_response("200 OK", headers)
    elif url.startswith("https://arxiv.org/pdf/"):
        body = MINIMAL_PDF
        start_response("200 OK", [("Content-Type", "application/pdf")])
    else:  # this machine is offline: nothing else may reach the network
        body = b"not saved for the tests"
        start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [body]


@contextmanager
def serve_saved_pages(directory: Path) -> Iterator[BaseWSGIServer]:
    """HTTPS on 127.0.0.1:443 with a self-signed certificate for the paper sites' hosts."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    names = ",".join(f"DNS:{host}" for host in PAPER_HOSTS)
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", f"/CN={PAPER_HOSTS[0]}", "-addext", f"subjectAltName={names}"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    try:
        server = make_server(
            "127.0.0.1", HTTPS_PORT, _saved_pages, threaded=True, ssl_context=(str(cert), str(key))
        )
    except OSError as error:
        raise RuntimeError(
            f"The Firefox tests serve the paper pages on 127.0.0.1:{HTTPS_PORT}: {error}"
        ) from error
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()


@dataclass
class Overlay:
    """What a reader sees of the overlay."""

    text: str
    links: list[tuple[str, str]]
    buttons: list[str]
    items: list[str]  # each list item's visible text


class Firefox:
    """One headless Firefox ESR with the extension installed as a temporary add-on."""

    def __init__(self, client: Marionette) -> None:
        self.client = client
        self.addon_id = ""
        self.uuid = ""

    # ---------------------------------------------------------------- the add-on

    def install(self, extension_dir: Path) -> None:
        """A fresh installation: its own uuid, only the manifest's host permissions granted."""
        self.addon_id = Addons(self.client).install(str(extension_dir), temp=True)
        with self.client.using_context("chrome"):
            self.uuid = self.client.execute_script(
                "return WebExtensionPolicy.getByID(arguments[0]).mozExtensionHostname;",
                script_args=[self.addon_id],
            )

    def uninstall(self) -> None:
        Addons(self.client).uninstall(self.addon_id)

    def extension_url(self, path: str) -> str:
        return f"moz-extension://{self.uuid}/{path}"

    def grant_origin(self, origin: str) -> None:
        """Stands in for the reader's click on Firefox's permission prompt (headless has none)."""
        with self.client.using_context("chrome"):
            result = self.client.execute_async_script(
                GRANT_ORIGIN, script_args=[self.addon_id, origin]
            )
        assert result is True, result

    def accept_permission_prompt(self) -> None:
        """The reader's click on Allow in the prompt that permissions.request opened."""
        with self.client.using_context("chrome"):
            Wait(self.client, timeout=WAIT_S).until(
                lambda c: c.execute_script(ACCEPT_PERMISSION_PROMPT),
                message="Firefox never asked for the permission",
            )

    def in_extension(self, source: str, args: object = None) -> Any:
        """Run `source` (a function body of `browser` and `args`) in an extension page."""
        back = self.client.current_window_handle
        self.client.switch_to_window(self.client.open(type="tab")["handle"])
        try:
            self.client.navigate(self.extension_url("options/options.html"))
            answer = json.loads(
                self.client.execute_async_script(
                    IN_EXTENSION_PAGE.replace("SOURCE", source), script_args=[json.dumps(args)]
                )
            )
        finally:
            self.client.close()
            self.client.switch_to_window(back)
        if isinstance(answer, dict) and set(answer) == {"error"}:
            raise AssertionError(f"in the extension page: {answer['error']}")
        return answer

    def configure(self, **values: object) -> None:
        """Write the extension's settings where its options page puts them: the backend URL
        and token in the extension origin's IndexedDB, the rest in storage.local."""
        connection = {k: v for k, v in values.items() if k in CONNECTION_KEYS}
        rest = {k: v for k, v in values.items() if k not in CONNECTION_KEYS}
        if connection:
            self.in_extension(WRITE_CONNECTION, connection)
        if rest:
            self.in_extension("return browser.storage.local.set(args);", rest)

    # ---------------------------------------------------------------- tabs and pages

    def open(self, url: str) -> str:
        """A new tab on `url`; answers its window handle."""
        handle = self.client.open(type="tab", focus=True)["handle"]
        self.client.switch_to_window(handle)
        self.client.navigate(url)
        return str(handle)

    def close_tabs(self) -> None:
        """Back to one blank tab, as between tests."""
        handles = self.client.window_handles
        for handle in handles[1:]:
            self.client.switch_to_window(handle)
            self.client.close()
        self.client.switch_to_window(handles[0])
        self.client.navigate("about:blank")

    def tab_id(self, url: str) -> int:
        """The extensions API's id of the tab showing `url`."""
        found = self.in_extension(
            "return (await browser.tabs.query({})).find((t) => t.url === args)?.id;", url
        )
        assert isinstance(found, int), f"no tab shows {url}"
        return found

    def popup(self, tab: str | None = None) -> str:
        """The popup's page in a tab of its own, about `tab` (headless cannot open the popup)."""
        query = ""
        if tab is not None:
            self.client.switch_to_window(tab)
            query = f"?tab={self.tab_id(self.client.get_url())}"
        return self.open(self.extension_url(f"popup/popup.html{query}"))

    def popup_section(self, name: str) -> None:
        """Show the popup's tab called `name` ("This tab", "Reading list", "Suggestions")."""
        tabs = self.client.find_elements(By.CSS_SELECTOR, '[role="tab"]')
        next(tab for tab in tabs if tab.text.strip() == name).click()

    def text(self) -> str:
        """The current page's rendered text (a line per block), generated labels included."""
        return str(self.client.execute_script(READ_PAGE))

    def wait_for_text(self, needle: str, timeout: float = WAIT_S) -> str:
        """The current page's visible text, once it holds `needle`."""
        try:
            return str(
                Wait(self.client, timeout=timeout).until(
                    lambda _: needle in (text := self.text()) and text
                )
            )
        except TimeoutException:
            raise AssertionError(f"the page never said {needle!r}: {self.text()!r}") from None

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.client.screenshot()))

    # ---------------------------------------------------------------- the overlay

    def overlay(self) -> Overlay | None:
        found = self.client.execute_script(READ_OVERLAY, sandbox="system")
        if found is None:
            return None
        links = [(text, href) for text, href in found["links"]]
        return Overlay(found["text"], links, found["buttons"], found["items"])

    def wait_for_overlay(self, needle: str, timeout: float = WAIT_S) -> Overlay:
        """The overlay, once its visible text holds `needle`."""

        def saying(_: Marionette) -> Overlay | None:
            overlay = self.overlay()
            return overlay if overlay is not None and needle in overlay.text else None

        try:
            overlay: Overlay = Wait(self.client, timeout=timeout).until(saying)
        except TimeoutException:
            raise AssertionError(f"the overlay never said {needle!r}: {self.overlay()}") from None
        return overlay

    def badges(self) -> list[tuple[str | None, str]]:
        """Each listing badge's neighbouring link and visible text."""
        found = self.client.execute_script(READ_BADGES, sandbox="system")
        return [(href, text) for href, text in found]

    def click_overlay_button(self, label: str) -> None:
        """A real click (trusted pointer events) on the overlay's button labelled `label`."""
        where = self.client.execute_script(
            FIND_OVERLAY_BUTTON, script_args=[label], sandbox="system"
        )
        assert where is not None, f"no visible overlay button {label!r}: {self.overlay()}"
        sequence = self.client.actions.sequence("pointer", "mouse", {"pointerType": "mouse"})
        sequence.pointer_move(where[0], where[1]).pointer_down().pointer_up().perform()
        self.client.actions.release()

    def set_overlay_input(self, label: str, value: str) -> None:
        """Type into the overlay's field whose accessible label is `label`."""
        self.client.execute_script(
            """
            const root = document.getElementById("paperlens-overlay").openOrClosedShadowRoot;
            const field = root.querySelector(`[aria-label="${arguments[0]}"]`);
            field.focus();
            field.select?.();
            """,
            script_args=[label],
            sandbox="system",
        )
        self.client.actions.sequence("key", "keyboard").send_keys(value).perform()


def start_firefox(directory: Path) -> Marionette:
    """Headless Firefox ESR on a fresh profile, with a Marionette session open."""
    client = Marionette(
        bin=str(FIREFOX),
        port=0,
        headless=True,
        gecko_log=str(directory / "gecko.log"),
        prefs={
            "network.dns.localDomains": ",".join(PAPER_HOSTS),
            "network.trr.mode": 5,
            "app.update.disabledForTesting": True,
            "browser.shell.checkDefaultBrowser": False,
        },
    )
    client.start_session(capabilities={"acceptInsecureCerts": True})
    client.set_window_rect(width=1280, height=900)
    return client
