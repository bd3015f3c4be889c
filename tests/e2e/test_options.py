"""The options page: the token is hidden unless the reader shows it, and Test and save stores
the values only once the backend has accepted them, saying so either way."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import EXTENSION_ID, Backend, Browser

NOT_SAVED = "Nothing was saved: the stored settings are unchanged."


def open_options(browser: Browser) -> Page:
    return browser.open(f"chrome-extension://{EXTENSION_ID}/options/options.html")


def test_the_token_is_hidden_until_the_reader_shows_it(browser: Browser, reader: str) -> None:
    browser.configure(token=reader)
    options = open_options(browser)
    token = options.get_by_label("API token")
    toggle = options.get_by_role("button", name="Show token")
    expect(token).to_have_value(reader)
    expect(token).to_have_attribute("type", "password")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(token).to_have_attribute("type", "text")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.press("Enter")  # the keyboard works it too
    expect(token).to_have_attribute("type", "password")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert reader not in options.locator("body").inner_text()


def test_test_and_save_stores_the_values_only_when_the_backend_accepts_them(
    browser: Browser, backend: Backend, reader: str
) -> None:
    options = open_options(browser)
    report = options.locator("#report")
    url, token = options.get_by_label("Backend URL"), options.get_by_label("API token")
    test_and_save = options.get_by_role("button", name="Test and save")
    before = browser.connection()

    # A wrong token: the backend answers but refuses it.
    token.fill("not-a-token")
    test_and_save.click()
    expect(report).to_contain_text("The API token was rejected")
    expect(report).to_contain_text(NOT_SAVED)
    assert browser.connection() == before

    # An address nothing answers at.
    url.fill("http://127.0.0.1:9")
    token.fill(reader)
    test_and_save.click()
    expect(report).to_contain_text("Cannot reach PaperLens at http://127.0.0.1:9")
    expect(report).to_contain_text(NOT_SAVED)
    assert browser.connection() == before

    # Not an address at all.
    url.fill("not a url")
    test_and_save.click()
    expect(report).to_contain_text("must be an http(s) address")
    expect(report).to_contain_text(NOT_SAVED)
    assert browser.connection() == before

    url.fill(backend.url + "/")
    test_and_save.click()
    expect(report).to_contain_text("✓ The API token was accepted.")
    expect(report).to_contain_text("✓ Saved.")
    stored = browser.connection()
    assert stored["backendUrl"] == backend.url and stored["token"] == reader
    expect(url).to_have_value(backend.url)
    assert reader not in report.inner_text()
