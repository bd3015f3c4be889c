"""What the API sends compressed as it stored it (a document's gzip, a batch spliced into
one deflate stream) reads back in a real browser as the very JSON it stands for."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from paperlens import keys
from tests.e2e.conftest import Backend, Browser

MRL = "arxiv:2205.13147"
FETCH = """async ([url, body]) => {
  const answer = await fetch(url, body ? {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)
  } : {});
  return [answer.status, await answer.json()];
}"""


def sent(backend: Backend, path: str, body: Any, accept: str | None) -> tuple[str | None, Any]:
    """How the API answers ``accept``: its Content-Encoding, and the JSON when uncompressed."""
    request = urllib.request.Request(
        backend.url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            **({"Accept-Encoding": accept} if accept else {}),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        encoding = response.headers.get("Content-Encoding")
        data = response.read()
    return encoding, None if encoding else json.loads(data)


def compressed_cases(backend: Backend) -> list[tuple[str, Any, str]]:
    """Requests whose answers a browser gets compressed: path, body and Content-Encoding."""
    prefix = keys.enrichment("")
    ids = sorted(k.decode().removeprefix(prefix) for k in backend.redis.scan_iter(prefix + "*"))
    assert len(ids) > 50
    return [
        (f"/api/v1/papers/{MRL}", None, "gzip"),
        ("/api/v1/papers/batch", {"ids": ids}, "deflate"),
    ]


def test_browser_reads_the_stored_gzip_and_the_spliced_batch_as_plain_json(
    browser: Browser, backend: Backend
) -> None:
    for path, body, encoding in compressed_cases(backend):
        # What a browser asks for gets the compressed form; the plain form is the reference.
        assert sent(backend, path, body, "gzip, deflate, br, zstd")[0] == encoding
        _, plain = sent(backend, path, body, None)
        status, read = browser.worker.evaluate(FETCH, [backend.url + path, body])
        assert status == 200 and read == plain, path
