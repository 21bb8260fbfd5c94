"""The `webhooks` queue: one task per delivery (claimed, so a duplicate message does nothing),
and the beat's sweep for deliveries whose message was lost or whose worker died."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,  # guarded: each attempt is claimed with a conditional update
    reject_on_worker_lost=True,
    soft_time_limit=120,
    time_limit=150,
)
def deliver_webhook(self, delivery_id: int, retry: bool = True) -> str:
    """One attempt of one delivery; the next attempt (exponential backoff) and the object's next
    delivery are handed to the queue from here."""
    from hooks.events import enqueue
    from hooks.sending import attempt, run_owner

    result = attempt(delivery_id, owner=run_owner(self.request.id))
    if result["next"]:
        enqueue(result["next"])
    if retry and result["retry_in"] is not None and not self.request.is_eager:
        enqueue([delivery_id], countdown=result["retry_in"])
    log.info("webhook delivery %s: %s", delivery_id, result["outcome"])
    return result["outcome"]


@shared_task
def sweep_webhooks() -> int:
    """Beat, every minute: deliveries due for a while that nobody is sending go out again."""
    from hooks.events import enqueue
    from hooks.sending import orphans

    ids = orphans(timezone.now())
    if ids:
        enqueue(ids)
        log.info("handed out %d webhook deliveries nobody was sending", len(ids))
    return len(ids)
