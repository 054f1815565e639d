"""Token-bucket rate limits per API key and per client IP.

A bucket holds up to ``burst`` tokens and refills at ``per_second`` tokens a second; a
request takes one token or, when none is left, is answered 429 with ``Retry-After`` (the
seconds until a token is back, rounded up).

:class:`MemoryBuckets` keeps the buckets in this process: with several uvicorn workers each
worker has its own, so the limits a client meets are the configured ones times the number of
workers. :class:`RedisBuckets` (``GRAPEVINE_REDIS_URL``, the optional ``redis`` package) keeps
them in Redis, shared by every worker and host: one atomic script call per request, timed by
the Redis server's clock. When Redis cannot be reached the request is let through (fail open:
a limiter outage must not become a service outage) and a warning is logged.

The app keeps its limiter on ``app.state.rate_limiter`` (a :class:`RateLimiter`);
:func:`grapevine.service.deps.ip_rate_limit` is the dependency that applies the per-IP
limit to a route or router.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Buckets", "MemoryBuckets", "Rate", "RateLimiter", "RedisBuckets", "parse_rate"]

_log = logging.getLogger("grapevine.service.ratelimit")

_RATE = re.compile(r"^\s*(?P<rate>\d+(?:\.\d+)?)\s*(?:/\s*s)?\s*(?:[,:]\s*(?P<burst>\d+))?\s*$")


@dataclass(frozen=True)
class Rate:
    """``per_second`` tokens a second, at most ``burst`` at once."""

    per_second: float
    burst: int


def parse_rate(text: str, *, name: str = "rate limit") -> Rate | None:
    """``"20,40"`` (or ``"20/s,40"``): 20 requests a second, bursts of 40; ``"off"`` or ``"0"``:
    no limit (None). The burst defaults to twice the rate (at least 1).

    Raises
    ------
    ValueError
        When ``text`` is neither (pydantic turns it into a settings error naming ``name``).

    Examples
    --------
    >>> parse_rate("20,40")
    Rate(per_second=20.0, burst=40)
    >>> parse_rate("2.5/s")
    Rate(per_second=2.5, burst=5)
    >>> parse_rate("off") is None
    True
    """
    if text.strip().lower() in ("off", "none", "0", ""):
        return None
    match = _RATE.match(text)
    if match is None:
        raise ValueError(
            f"The {name} must be 'RATE' or 'RATE,BURST' (requests a second, burst size) or "
            f"'off'. Got {text!r} instead."
        )
    rate = float(match["rate"])
    burst = int(match["burst"]) if match["burst"] else max(1, math.ceil(2 * rate))
    if rate <= 0 or burst < 1:
        raise ValueError(f"The {name} needs a rate > 0 and a burst >= 1. Got {text!r} instead.")
    return Rate(rate, burst)


class Buckets(Protocol):
    """Where token buckets live: :meth:`take` returns 0.0 (granted) or the seconds to wait."""

    rate: Rate

    def take(self, key: str, *, now: float | None = None) -> float: ...


class MemoryBuckets:
    """Token buckets in this process, thread-safe, at most ``max_buckets`` kept.

    When full, buckets that have refilled completely (idle clients) are dropped first;
    forgetting a full bucket changes nothing, as a new bucket starts full.
    """

    def __init__(self, rate: Rate, *, max_buckets: int = 100_000) -> None:
        self.rate = rate
        self.max_buckets = max_buckets
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, *, now: float | None = None) -> float:
        """Take a token for ``key``: 0.0 when granted, else the seconds until one is back."""
        now = time.monotonic() if now is None else now
        rate = self.rate
        with self._lock:
            tokens, last = self._buckets.get(key, (float(rate.burst), now))
            tokens = min(float(rate.burst), tokens + (now - last) * rate.per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > self.max_buckets:
                    self._prune(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate.per_second

    def _prune(self, now: float) -> None:
        full = float(self.rate.burst)
        idle = [
            k
            for k, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self.rate.per_second >= full
        ]
        for k in idle:
            del self._buckets[k]
        if len(self._buckets) > self.max_buckets:  # all busy: forget the oldest half
            ordered = sorted(self._buckets.items(), key=lambda item: item[1][1])
            for k, _ in ordered[: len(ordered) // 2]:
                del self._buckets[k]

    def __len__(self) -> int:
        return len(self._buckets)


# KEYS[1]: the bucket; ARGV: rate, burst, now (empty: the server's clock). Returns the wait in
# seconds as a string (Lua numbers become integers in Redis replies).
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisBuckets:
    """Token buckets in Redis, shared by every process that uses the same ``url``.

    Each bucket is a hash ``<namespace>:<key>`` (tokens, last time) that expires once it
    would be full again, so idle clients cost no memory.

    Raises
    ------
    ImportError
        With the extra to install, when the ``redis`` package is missing.
    """

    def __init__(self, rate: Rate, *, url: str, namespace: str) -> None:
        try:
            import redis
        except ImportError:  # pragma: no cover - the extra is installed in the dev setup
            raise ImportError(
                "GRAPEVINE_REDIS_URL needs the redis package: pip install 'grapevine[redis]'"
            ) from None
        self.rate = rate
        self.namespace = namespace
        self._client: Any = redis.Redis.from_url(url, socket_timeout=0.5)
        self._script: Any = self._client.register_script(_TAKE)
        self._errors = redis.RedisError

    def take(self, key: str, *, now: float | None = None) -> float:
        """Take a token for ``key``: 0.0 when granted, else the seconds until one is back."""
        args = [self.rate.per_second, self.rate.burst, "" if now is None else repr(now)]
        try:
            wait = self._script(keys=[f"{self.namespace}:{key}"], args=args)
        except self._errors as exc:
            _log.warning("rate limit not checked, Redis is unavailable: %s", exc)
            return 0.0
        return float(wait)


class RateLimiter:
    """The app's limits: one set of buckets per key, one per client IP (either may be off),
    and any further named limits (``limits``: name to rate or None for off).

    The buckets are in this process, or in Redis when ``redis_url`` is given, except for the
    names in ``local``, which always stay in the process: an async path that must not wait
    on a network round trip (the ``/r/`` redirect) checks those.
    """

    def __init__(
        self,
        *,
        per_key: Rate | None,
        per_ip: Rate | None,
        redis_url: str | None = None,
        limits: Mapping[str, Rate | None] | None = None,
        local: Collection[str] = (),
    ) -> None:
        def buckets(rate: Rate | None, name: str) -> Buckets | None:
            if rate is None:
                return None
            if redis_url and name not in local:
                return RedisBuckets(rate, url=redis_url, namespace=f"grapevine:rl:{name}")
            return MemoryBuckets(rate)

        self.per_key = buckets(per_key, "key")
        self.per_ip = buckets(per_ip, "ip")
        self.named: dict[str, Buckets | None] = {
            name: buckets(rate, name) for name, rate in (limits or {}).items()
        }

    def check(self, name: str, key: str) -> float:
        """0.0 when ``key`` may go on under the limit ``name`` (off or unknown: always), else
        the seconds to wait."""
        got = self.named.get(name)
        return 0.0 if got is None else got.take(key)

    def check_key(self, prefix: str) -> float:
        """0.0 when the key ``prefix`` may go on, else the seconds to wait."""
        return 0.0 if self.per_key is None else self.per_key.take(prefix)

    def check_ip(self, address: str) -> float:
        """0.0 when the client ``address`` may go on, else the seconds to wait."""
        return 0.0 if self.per_ip is None else self.per_ip.take(address)
