"""Long work handed to a Celery worker, with progress the page can poll.

`run_in_background` queues a task once the current transaction commits; in trial mode (no
broker, tasks eager) it runs the task right away, in the request, so the page that follows
already shows the outcome. Progress lives in the cache (Redis in production), because the work
itself runs in one transaction that nobody else can see into until it commits.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction

PROGRESS_TTL = 6 * 3600
# An import queued this long ago and not finished lost its worker (killed, say, and its queue
# message not yet handed out again): the page says so and lets it be started again.
STALLED_AFTER = timedelta(minutes=20)


def stalled(status: str, since) -> bool:
    from django.utils import timezone

    return (
        status in ("queued", "running") and bool(since) and since < timezone.now() - STALLED_AFTER
    )


def content_hash(data: bytes | str) -> str:
    """SHA-256 of a file's text, which is how a re-uploaded file is recognised."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def run_in_background(task, *args) -> None:
    from pm.celery import app

    if app.conf.task_always_eager:
        task.apply(args=args, throw=True)
    else:
        transaction.on_commit(lambda: task.delay(*args))


def _key(kind: str, pk: int) -> str:
    return f"progress:{kind}:{pk}"


def progress_set(kind: str, pk: int, *, done: int, total: int, stage: str = "") -> None:
    cache.set(_key(kind, pk), {"done": done, "total": total, "stage": stage}, PROGRESS_TTL)


def progress_get(kind: str, pk: int) -> dict:
    """{"done", "total", "stage", "percent"}; zeros before the work reported anything."""
    value = cache.get(_key(kind, pk)) or {"done": 0, "total": 0, "stage": ""}
    total = value["total"]
    value["percent"] = min(100, round(100 * value["done"] / total)) if total else 0
    return value
