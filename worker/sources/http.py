"""The one HTTP session every source adapter uses, and the manners it keeps.

Each source is reached only at the base URL its setting names, so nothing a reader
sends can make a worker fetch an address of their choosing. On top of ``requests``
the session adds what every adapter needs and none should repeat: timeouts, retries
with exponential backoff and jitter on 429 and 5xx (honouring ``Retry-After``), a
per-host request spacing kept in Redis so that all workers together stay within a
source's limit, a User-Agent naming a contact address, API keys from settings, and a
Redis cache of successful responses.

Every address is built here from path segments, each quoted on its own, and checked
after normalisation (as it goes on the wire) against the source's base URL: a value
taken from a request or from another source's answer cannot climb out of that base
with ``..``, encoded or not. Failures carry a code from a fixed vocabulary
(``SourceErrorCode``) and messages that never hold a URL, a query string or exception
text from below, because they end up in logs, in RQ's job records and, as the code
alone, in public documents.
"""

from __future__ import annotations

import email.utils
import hashlib
import importlib.metadata
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, quote, unquote, urljoin, urlsplit

import orjson
import requests
from redis import Redis
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    wait_exponential_jitter,
)

from paperlens import source_state
from paperlens.schemas import SourceErrorCode
from paperlens.settings import Settings

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# What each status a source may answer with is called in public documents.
_STATUS_CODES: dict[int, SourceErrorCode] = {
    429: "rate_limited",
    500: "http_500",
    502: "http_502",
    503: "http_503",
    504: "http_504",
    401: "unauthorized",
    403: "unauthorized",
}
# RFC 3986 ``pchar`` less "%": what may stay unescaped inside one path segment.
_SEGMENT_SAFE = "-._~!$&'()*+,;=:@"
_DOT_SEGMENTS = frozenset({".", ".."})
# First backoff step; each retry doubles it, plus up to one step of jitter.
BACKOFF_INITIAL_SECONDS = 0.5
CACHE_HEADER = "X-PaperLens-Cache"


class SourceError(Exception):
    """A source could not answer; the enrichment records ``code`` and carries on.

    The message is for operators (logs, RQ's failed-job records): callers build it from
    the source's name and fixed words only, never from a URL or a lower exception.
    """

    default_code: SourceErrorCode = "unavailable"

    def __init__(
        self, message: str, code: SourceErrorCode | None = None, source: str | None = None
    ) -> None:
        super().__init__(message)
        self.code: SourceErrorCode = code or self.default_code
        self.source = source


class SourceUnavailable(SourceError):
    """Retries ran out (timeouts, refused connections, 429 or 5xx)."""


class SourcePaused(SourceUnavailable):
    """Not asked: the source could not be reached a moment ago and is paused (logged once)."""


class MalformedResponse(SourceError):
    """The source answered 200 with a body that is not in its documented format."""

    default_code: SourceErrorCode = "bad_response"


class HostNotAllowed(SourceError):
    """A URL outside the configured sources: refused before any connection is made."""

    default_code: SourceErrorCode = "not_allowed"


def status_code_name(status: int) -> SourceErrorCode:
    """The vocabulary's name for an HTTP status a source should not have answered."""
    return _STATUS_CODES.get(status, "http_error")


class _RetryableStatus(Exception):
    def __init__(self, response: requests.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.status = response.status_code
        self.retry_after = retry_after_seconds(response.headers.get("Retry-After"))


@dataclass(frozen=True)
class Endpoint:
    """One source's fixed base URL, its request spacing and its credentials."""

    source: str
    base_url: str
    min_interval_seconds: float
    # Kept out of repr: both may hold keys, and a repr can end up in a log line.
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    params: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc.lower()

    def contains(self, parts: SplitResult) -> bool:
        """Whether an address, as it goes on the wire, lies under this base URL."""
        base = urlsplit(self.base_url)
        if (parts.scheme.lower(), parts.netloc.lower()) != (base.scheme.lower(), self.host):
            return False
        root = base.path.rstrip("/")
        if parts.path != root and not parts.path.startswith(root + "/"):
            return False
        # Servers decode %2E, %2F and (some) backslashes before resolving dot segments.
        decoded = unquote(parts.path).replace("\\", "/")
        return not any(segment in _DOT_SEGMENTS for segment in decoded.split("/"))


def endpoints(settings: Settings) -> dict[str, Endpoint]:
    """Every source PaperLens knows, keyed by source name, as the settings configure them.

    Keys travel in headers wherever the source documents one (Hugging Face, Semantic
    Scholar and GitHub); OpenAlex documents its key only as the ``api_key`` query
    parameter. The contact address goes in the User-Agent, which both OpenAlex and
    Crossref accept for their polite pools, rather than in every URL.
    """
    found = [
        Endpoint("arxiv", settings.arxiv_api_url, settings.arxiv_min_interval_seconds),
        Endpoint(
            "huggingface",
            settings.huggingface_url,
            settings.huggingface_min_interval_seconds,
            headers=_bearer(settings.huggingface_token),
        ),
        Endpoint(
            "semantic_scholar",
            settings.semantic_scholar_url,
            settings.semantic_scholar_min_interval_seconds,
            headers=(
                {"x-api-key": settings.semantic_scholar_api_key}
                if settings.semantic_scholar_api_key
                else {}
            ),
        ),
        Endpoint(
            "openalex",
            settings.openalex_url,
            settings.openalex_min_interval_seconds,
            params={"api_key": settings.openalex_api_key} if settings.openalex_api_key else {},
        ),
        Endpoint("crossref", settings.crossref_url, settings.crossref_min_interval_seconds),
        Endpoint("dblp", settings.dblp_url, settings.dblp_min_interval_seconds),
        Endpoint(
            "github",
            settings.github_api_url,
            settings.github_min_interval_seconds,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                **_bearer(settings.github_token),
            },
        ),
    ]
    return {endpoint.source: endpoint for endpoint in found}


def user_agent(settings: Settings) -> str:
    """Sources ask callers to say who they are and how to reach them."""
    contact = f"; mailto:{settings.source_contact_email}" if settings.source_contact_email else ""
    version = importlib.metadata.version("paperlens")
    return f"PaperLens/{version} (self-hosted paper companion{contact})"


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class SourceSession(requests.Session):
    """A ``requests`` session that only talks to the configured sources, politely."""

    def __init__(self, settings: Settings, redis: Redis) -> None:
        super().__init__()
        self.settings = settings
        self.redis = redis
        self.endpoints = endpoints(settings)
        self.headers["User-Agent"] = user_agent(settings)
        self._slots = source_state.RequestSlots(redis)

    def url(self, source: str, segments: Sequence[str]) -> str:
        """The address of ``segments`` under ``source``'s base URL, each segment quoted whole.

        A segment that is empty, ``.`` or ``..`` would change which resource is named,
        so it is refused rather than sent.
        """
        if any(segment in _DOT_SEGMENTS or not segment for segment in segments):
            raise HostNotAllowed(f"{source}: a path segment is empty or a dot segment")
        path = "".join("/" + quote(segment, safe=_SEGMENT_SAFE) for segment in segments)
        return self.endpoints[source].base_url.rstrip("/") + path

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        """Send with the source's credentials, spacing, retries and cache."""
        endpoint = self._endpoint_for(url, kwargs.get("params"))
        kwargs.setdefault("timeout", self.settings.source_timeout_seconds)
        kwargs["headers"] = {**endpoint.headers, **(kwargs.get("headers") or {})}
        kwargs["params"] = {**endpoint.params, **(kwargs.get("params") or {})}
        digest = self._cache_digest(method, url, kwargs["params"])
        if digest is not None:
            cached = source_state.read_cached(self.redis, endpoint.source, digest)
            if cached is not None:
                return _cached_response(url, cached)
        response = self._send_with_retries(endpoint, method, url, *args, **kwargs)
        if digest is not None and response.status_code == 200 and response.content:
            ttl = self.settings.source_cache_ttl_seconds
            source_state.write_cached(self.redis, endpoint.source, digest, response.content, ttl)
        return response

    def get_json(
        self, source: str, segments: Sequence[str], params: Mapping[str, Any] | None = None
    ) -> Any:
        """The decoded JSON body, or None when the source says it holds no such thing (404)."""
        url = self.url(source, segments)
        response = self.get(url, params=dict(params or {}))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            code = status_code_name(response.status_code)
            raise SourceError(f"{source}: HTTP {response.status_code}", code, source)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            self.forget(url, params)
            raise MalformedResponse(f"{source}: the body is not JSON", source=source) from None

    def forget(self, url: str, params: Mapping[str, Any] | None = None) -> None:
        """Drop a cached body that turned out to be unusable, so the next call asks again."""
        endpoint = self._endpoint_for(url)
        digest = self._cache_digest("GET", url, {**endpoint.params, **(params or {})})
        if digest is not None:
            source_state.forget_cached(self.redis, endpoint.source, digest)

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """A redirect is followed only within the configured sources, like any request."""
        target = super().get_redirect_target(resp)
        if target is not None:
            self._endpoint_for(urljoin(resp.url, target))
        return target

    def _endpoint_for(self, url: str, params: Mapping[str, Any] | None = None) -> Endpoint:
        """The source whose base URL ``url`` lies under once normalised as ``requests``
        will send it (dot segments resolved); anything else is refused."""
        try:
            sent = requests.Request("GET", url, params=params).prepare().url or ""
            parts = urlsplit(sent)
        except (requests.RequestException, ValueError):
            raise HostNotAllowed("an address that is not a valid URL") from None
        for endpoint in self.endpoints.values():
            if endpoint.contains(parts):
                return endpoint
        raise HostNotAllowed("an address outside every configured source")

    def _cache_digest(self, method: str, url: str, params: Mapping[str, Any]) -> str | None:
        """What names a cacheable request (a GET, while the cache is on) among its source's."""
        if method.upper() != "GET" or not self.settings.source_cache_ttl_seconds:
            return None
        prepared = requests.Request("GET", url, params=params).prepare().url or url
        return hashlib.sha256(prepared.encode()).hexdigest()[:40]

    def _send_with_retries(
        self, endpoint: Endpoint, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        retrying = Retrying(
            stop=self._should_stop,
            wait=self._wait,
            retry=retry_if_exception_type(
                (_RetryableStatus, requests.ConnectionError, requests.Timeout)
            ),
            reraise=True,
        )
        self._refuse_while_paused(endpoint)
        try:
            for attempt in retrying:
                with attempt:
                    self._take_slot(endpoint)
                    response = super().request(method, url, *args, **kwargs)
                    if response.status_code in RETRY_STATUSES:
                        self._note_retry_after(endpoint, response)
                        raise _RetryableStatus(response)
                    return response
        except _RetryableStatus as error:
            code = status_code_name(error.status)
            message = f"{endpoint.source}: HTTP {error.status}"
            raise SourceUnavailable(message, code, endpoint.source) from None
        except requests.Timeout:
            self._pause(endpoint, "timeout")
            message = f"{endpoint.source}: timed out"
            raise SourceUnavailable(message, "timeout", endpoint.source) from None
        except requests.ConnectionError:
            self._pause(endpoint, "unreachable")
            message = f"{endpoint.source}: unreachable"
            raise SourceUnavailable(message, "unreachable", endpoint.source) from None
        except requests.RequestException as error:
            # Lower exceptions quote the URL (and so the query with its key): name the type only.
            message = f"{endpoint.source}: {type(error).__name__}"
            raise SourceUnavailable(message, "bad_response", endpoint.source) from None
        raise AssertionError("tenacity ends with a return or an exception")  # pragma: no cover

    def _refuse_while_paused(self, endpoint: Endpoint) -> None:
        """Fail at once while a source that could not be reached is paused.

        Without the pause, an instance with no network (or a source that is down) would
        spend every attempt's backoff on every paper: a precompute of the demo corpus
        offline would take minutes instead of seconds.
        """
        paused = source_state.read_pause(self.redis, endpoint.source)
        if paused is not None:
            message = f"{endpoint.source}: paused after it could not be reached"
            raise SourcePaused(message, paused.code, endpoint.source)

    def _pause(self, endpoint: Endpoint, code: SourceErrorCode) -> None:
        seconds = self.settings.source_unreachable_pause_seconds
        source_state.pause(self.redis, endpoint.source, code, seconds)
        log.warning(
            "source %s %s; calls to it fail at once for %d s",
            endpoint.source,
            "timed out" if code == "timeout" else "could not be reached",
            seconds,
        )

    def _should_stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.settings.source_max_attempts:
            return True
        asked = _asked_wait(state)
        return asked is not None and asked > self.settings.source_max_wait_seconds

    def _wait(self, state: RetryCallState) -> float:
        asked = _asked_wait(state)
        if asked is not None:
            return asked
        backoff = wait_exponential_jitter(
            multiplier=BACKOFF_INITIAL_SECONDS,
            max=self.settings.source_max_wait_seconds,
            jitter=BACKOFF_INITIAL_SECONDS,
        )
        return float(backoff(state))

    def _take_slot(self, endpoint: Endpoint) -> None:
        """Wait for this host's next free slot; the slots are shared by every worker."""
        interval_ms = int(endpoint.min_interval_seconds * 1000)
        if interval_ms <= 0:
            return
        wait_ms = self._slots.reserve(endpoint.host, interval_ms)
        if wait_ms / 1000 > self.settings.source_max_wait_seconds:
            message = f"{endpoint.source}: rate limit would wait {wait_ms} ms"
            raise SourceUnavailable(message, "rate_limited")
        if wait_ms > 0:
            time.sleep(wait_ms / 1000)

    def _note_retry_after(self, endpoint: Endpoint, response: requests.Response) -> None:
        """A 429's ``Retry-After`` holds every worker back from that host, not just this one."""
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        if response.status_code == 429 and seconds:
            self._slots.defer(endpoint.host, int(seconds * 1000))


def _asked_wait(state: RetryCallState) -> float | None:
    """What the source's ``Retry-After`` asked for on the last attempt, if anything."""
    outcome = state.outcome
    error = outcome.exception() if outcome is not None and outcome.failed else None
    return error.retry_after if isinstance(error, _RetryableStatus) else None


def _cached_response(url: str, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.url = url
    response._content = body
    response.encoding = "utf-8"
    response.headers[CACHE_HEADER] = "hit"
    return response


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}
