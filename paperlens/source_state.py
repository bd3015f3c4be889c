"""What the workers keep in Redis about each external source: its cached responses, the
pause after it could not be reached, and the per-host request slots that space the calls
of every worker together within the source's limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson
from redis import Redis

from paperlens import keys
from paperlens.schemas import SourceErrorCode

# How long a host's request slot is kept once nobody calls that host any more.
RATE_LIMIT_KEY_TTL_SECONDS = 3_600

# Reserve the next free request slot of a host: returns how many ms the caller waits.
_RESERVE_SLOT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'EX', tonumber(ARGV[2]))
return slot - now
"""

# Push a host's next free slot to at least now + ARGV[1] ms (a 429 told us to wait).
_DEFER_SLOT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = now + tonumber(ARGV[1])
if slot < wanted then slot = wanted end
redis.call('SET', KEYS[1], slot, 'EX', tonumber(ARGV[2]))
return slot - now
"""


def read_cached(redis: Redis, source: str, request_digest: str) -> bytes | None:
    """A successful response body of ``source`` to the request ``request_digest`` names."""
    body = redis.get(keys.source_cache(source, request_digest))
    return body if isinstance(body, bytes) else None


def write_cached(
    redis: Redis, source: str, request_digest: str, body: bytes, ttl_seconds: int
) -> None:
    redis.set(keys.source_cache(source, request_digest), body, ex=ttl_seconds)


def forget_cached(redis: Redis, source: str, request_digest: str) -> None:
    redis.delete(keys.source_cache(source, request_digest))


@dataclass(frozen=True)
class SourcePause:
    """A source that could not be reached, and when it will be tried again."""

    code: SourceErrorCode
    until: float


def pause(redis: Redis, source: str, code: SourceErrorCode, seconds: int) -> None:
    """Make calls to ``source`` fail at once for the next ``seconds``."""
    value = orjson.dumps({"code": code, "until": time.time() + seconds})
    redis.set(keys.source_paused(source), value, ex=seconds)


def read_pause(redis: Redis, source: str) -> SourcePause | None:
    """The pause in force for ``source``, if any (it ends by itself: the key expires)."""
    raw = redis.get(keys.source_paused(source))
    if not isinstance(raw, bytes):
        return None
    try:
        stored = orjson.loads(raw)
        code: SourceErrorCode = "timeout" if stored["code"] == "timeout" else "unreachable"
        return SourcePause(code=code, until=float(stored["until"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


class RequestSlots:
    """The next free request slot (Unix time in ms) of each host, shared by every worker;
    each slot is moved by a Lua script, so two workers never take the same one."""

    def __init__(self, redis: Redis) -> None:
        self._reserve = redis.register_script(_RESERVE_SLOT)
        self._defer = redis.register_script(_DEFER_SLOT)

    def reserve(self, host: str, interval_ms: int) -> int:
        """Take the host's next slot and move it ``interval_ms`` on; the ms to wait for it."""
        key = keys.rate_limit(host)
        return int(self._reserve(keys=[key], args=[interval_ms, RATE_LIMIT_KEY_TTL_SECONDS]))

    def defer(self, host: str, wait_ms: int) -> None:
        """Hold every worker back from the host for at least ``wait_ms``."""
        self._defer(keys=[keys.rate_limit(host)], args=[wait_ms, RATE_LIMIT_KEY_TTL_SECONDS])
