"""The demo workspace's webhooks: a paused endpoint with a delivered event in its log, the
product's development settings and a branch and pull request linked to a story."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from hooks.models import Attempt, Delivery, DevLink, DevSettings, Endpoint


def load(*, workspace, product, users) -> None:
    from backlog.models import UserStory

    admin = users.get("admin") or next(iter(users.values()))
    endpoint, created = Endpoint.objects.get_or_create(
        workspace=workspace,
        name="Release bot",
        defaults={
            "url": "https://hooks.example.com/lodestar",
            "events": ["feature.shipped", "release.shipped", "story.status_changed"],
            # Paused: the demo has nowhere to deliver to.
            "active": False,
            "created_by": admin,
        },
    )
    if created:
        now = timezone.now()
        delivery = Delivery.objects.create(
            workspace=workspace,
            endpoint=endpoint,
            event="feature.shipped",
            object_key="backlog.feature:0",
            payload={"event": "feature.shipped", "product": product.key, "data": {}},
            status=Delivery.Status.SUCCEEDED,
            attempts=1,
            next_attempt_at=now - timedelta(hours=2),
            give_up_at=now + timedelta(hours=22),
            last_status_code=200,
            last_response='{"ok": true}',
            delivered_at=now - timedelta(hours=2),
        )
        Attempt.objects.create(
            workspace=workspace,
            delivery=delivery,
            started_at=now - timedelta(hours=2),
            duration_ms=84,
            status_code=200,
            response_excerpt='{"ok": true}',
        )
    DevSettings.objects.get_or_create(product=product)
    story = UserStory.objects.filter(product=product).order_by("number").first()
    if story is None:
        return
    repository = f"acme/{product.key.lower()}"
    branch = f"{story.key.lower()}-first-cut"
    DevLink.objects.get_or_create(
        story=story,
        provider=DevLink.Provider.GITHUB,
        repository=repository,
        kind=DevLink.Kind.BRANCH,
        external_id=branch,
        defaults={
            "product": product,
            "title": branch,
            "url": f"https://github.com/{repository}/tree/{branch}",
        },
    )
    DevLink.objects.get_or_create(
        story=story,
        provider=DevLink.Provider.GITHUB,
        repository=repository,
        kind=DevLink.Kind.PULL_REQUEST,
        external_id="17",
        defaults={
            "product": product,
            "title": f"{story.key}: first cut",
            "url": f"https://github.com/{repository}/pull/17",
            "author": "engineer",
            "state": DevLink.State.OPEN,
        },
    )
