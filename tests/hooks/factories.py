"""Rows for the hooks tests: endpoints and deliveries made directly (no event needed)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from hooks.models import Delivery, Endpoint


def make_endpoint(workspace, **fields) -> Endpoint:
    defaults = {
        "name": "Receiver",
        "url": "https://hooks.example.com/in",
        "events": ["story.created", "story.updated"],
    }
    return Endpoint.objects.create(workspace=workspace, **{**defaults, **fields})


def make_delivery(endpoint: Endpoint, **fields) -> Delivery:
    now = timezone.now()
    defaults = {
        "event": "story.updated",
        "object_key": "backlog.userstory:1",
        "payload": {"event": "story.updated", "data": {}},
        "next_attempt_at": now,
        "give_up_at": now + timedelta(hours=24),
    }
    return Delivery.objects.create(
        workspace_id=endpoint.workspace_id, endpoint=endpoint, **{**defaults, **fields}
    )
