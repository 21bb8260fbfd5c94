"""An optional read replica (DATABASE_REPLICA_URL), with read-your-writes.

`ReplicaRouter` sends a web request's reads to the "replica" database and every write to
"default" (the primary). A replica lags a little behind its primary, so reads stay on the primary
whenever they might miss a write the reader just made:

- for the rest of a request, once it wrote anything;
- inside a transaction (`transaction.atomic()`), where reads must see the transaction's writes
  and rows are locked for update;
- for REPLICA_PIN_SECONDS after a write, for the same browser (a cookie the middleware sets on
  the response that wrote) and the same API token (a cache entry keyed by the credential);
- outside web requests altogether: Celery tasks and management commands read the primary, since
  a task queued on commit must find the rows its request just wrote.

`ReadYourWritesMiddleware` decides the pin when a request starts and records the write when it
ends. docs/scaling.md says when a replica is worth it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
PRIMARY = "default"
COOKIE = "lodestar_primary"  # its value: the time (epoch seconds) until which reads are pinned


@dataclass
class _Request:
    pinned: bool
    wrote: bool = False


# None outside a web request (tasks, commands, shells): everything on the primary.
_request: ContextVar[_Request | None] = ContextVar("lodestar_replica_request", default=None)


class ReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str:
        state = _request.get()
        if state is None or state.pinned or state.wrote:
            return PRIMARY
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model: type, **hints: Any) -> str:
        state = _request.get()
        if state is not None:
            state.wrote = True  # this request's later reads, and the next seconds', see it
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same rows on both

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY  # the replica follows the primary's schema by replication


def _credential_key(request: HttpRequest) -> str | None:
    credential = request.headers.get("Authorization", "")
    if not credential:
        return None
    digest = hashlib.sha256(credential.encode()).hexdigest()
    return f"replica-pin:{digest}"


class ReadYourWritesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        now = time.time()
        try:
            pinned = float(request.COOKIES.get(COOKIE, "0")) > now
        except ValueError:
            pinned = False
        key = _credential_key(request)
        if not pinned and key is not None:
            pinned = bool(cache.get(key))
        state = _Request(pinned=pinned)
        token = _request.set(state)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        if state.wrote:
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(
                COOKIE,
                str(int(now + seconds) + 1),
                max_age=seconds + 1,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
            if key is not None:
                cache.set(key, 1, seconds + 1)
        return response
