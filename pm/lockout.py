"""Sign-in lockout, shared by `/accounts/login/` and `/admin/login/`.

Two counters of failed attempts live in the shared cache (Redis in production), each for
`LOGIN_LOCKOUT_SECONDS` from the first failure:

- per username and client address: `LOGIN_FAILURE_LIMIT` (5) failures lock that username from
  that address — the guesser is stopped, the real user elsewhere is not;
- per client address: `LOGIN_IP_FAILURE_LIMIT` (100) failures lock the address for everyone —
  one machine spraying passwords over many usernames is stopped. The threshold is deliberately
  far above the per-username one: an office or campus behind one NAT shares an address, and the
  typos of 25 colleagues must not lock out the 26th. Someone who has not failed is only locked
  out when the whole address crosses that line, which ordinary use does not reach.

The client address comes from `pm.clientip.client_ip`, which reads `X-Forwarded-For` only from
`TRUSTED_PROXIES`: a rotating or spoofed header from anywhere else is ignored.

When the cache is unreachable the lockout fails open: sign-in keeps working (the password is
still checked) and every skipped check logs a warning, so an outage of Redis never locks the whole
team out; the lockout resumes when Redis is back.
"""

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from pm.clientip import client_ip

log = logging.getLogger("lodestar.security")

try:  # the Redis client is installed in production; the trial mode uses the local-memory cache
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover
    RedisError = OSError  # type: ignore[assignment,misc]

CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)


def _normalise(username: str) -> str:
    return (username or "").strip().lower()


def _keys(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    ip = client_ip(request)
    # Hashed: usernames are attacker-chosen text (length, spaces, control characters).
    who = hashlib.sha256(f"{_normalise(username)}\0{ip}".encode()).hexdigest()
    return [
        (f"login-fail:user-ip:{who}", settings.LOGIN_FAILURE_LIMIT),
        (f"login-fail:ip:{ip}", settings.LOGIN_IP_FAILURE_LIMIT),
    ]


def _unavailable(what: str, request: HttpRequest) -> None:
    log.warning(
        "Sign-in lockout %s skipped for %s: the cache is unreachable (failing open).",
        what,
        client_ip(request),
    )


def is_locked(request: HttpRequest, username: str) -> bool:
    """True when this username from this address, or this address, is locked out."""
    keys = _keys(request, username)
    try:
        counts = cache.get_many([key for key, _ in keys])
    except CACHE_ERRORS:
        _unavailable("check", request)
        return False
    return any(counts.get(key, 0) >= limit for key, limit in keys)


def record_failure(request: HttpRequest, username: str) -> None:
    timeout = settings.LOGIN_LOCKOUT_SECONDS
    try:
        for key, _limit in _keys(request, username):
            cache.add(key, 0, timeout=timeout)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=timeout)
    except CACHE_ERRORS:
        _unavailable("count", request)


def record_success(request: HttpRequest, username: str) -> None:
    """A right password clears this username's count from this address (not the address's)."""
    try:
        cache.delete(_keys(request, username)[0][0])
    except CACHE_ERRORS:
        _unavailable("reset", request)


def lockout_minutes() -> int:
    return max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)


def window_count(key: str, timeout: int) -> int:
    """Add one to the counter `key` (created for `timeout` seconds) and return it; raises
    CACHE_ERRORS when the cache is unreachable. On Redis one round trip (SET NX with its expiry,
    then INCR, pipelined): every API request and sign-in attempt pays for it."""
    backend: Any = getattr(cache, "_cache", None)
    if hasattr(backend, "get_client"):  # django.core.cache.backends.redis.RedisCache
        full_key = cache.make_and_validate_key(key)
        pipe = backend.get_client(full_key, write=True).pipeline(transaction=False)
        pipe.set(full_key, 0, ex=timeout, nx=True)
        pipe.incr(full_key)
        return int(pipe.execute()[1])
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


def count_attempt(request: HttpRequest, key: str, window: int) -> int:
    """Count one attempt under `key` for `window` seconds; the count so far (0 when the cache is
    unreachable: callers fail open)."""
    try:
        return window_count(key, window)
    except CACHE_ERRORS:
        _unavailable("count", request)
        return 0
