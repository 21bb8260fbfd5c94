"""Webhooks through a real Celery worker on its own `webhooks` queue, to a real HTTP receiver
on loopback: signatures verify, a 500 is retried with growing waits, the events of one object
arrive in order (n+1 never before n succeeded), and a worker killed mid-request delivers nothing
twice that the receiver's deduplication by delivery id would not catch."""

import os
import signal
import time
from collections import Counter

import pytest
from django.utils import timezone

from backlog import services as backlog
from backlog.choices import StoryStatus
from hooks import services
from hooks.models import Delivery
from hooks.tasks import sweep_webhooks
from tests.backlog.factories import FeatureFactory
from tests.hooks.receiver import Receiver
from tests.worker import running_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LEASE = 3  # seconds; production: twice the request timeout plus 30 s
ENV = {
    "WEBHOOK_ALLOW_LOOPBACK": "1",
    "WEBHOOK_RETRY_BASE_SECONDS": "1",
    "WEBHOOK_LEASE_SECONDS": str(LEASE),
    "WEBHOOK_SWEEP_GRACE_SECONDS": "0",
}
STEPS = (StoryStatus.IN_PROGRESS, StoryStatus.IN_REVIEW, StoryStatus.DONE)


def _endpoint(cast, url, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    return services.endpoint_create(
        workspace=cast.workspace,
        name="Receiver",
        url=url,
        kind="webhook",
        events=["story.status_changed"],
        actor=cast.admin,
    )


def _walk(cast, story):
    for status in STEPS:
        story = backlog.story_update(
            story=story,
            data={"status": status},
            expected_version=story.version,
            actor=cast.engineer,
        )
    return story


def _story(cast, title="Export"):
    feature = FeatureFactory(product=cast.product)
    return backlog.story_create(feature=feature, data={"title": title}, actor=cast.pm)


def test_failed_deliveries_are_retried_with_growing_waits_and_keep_their_order(cast, settings):
    with Receiver() as receiver:
        endpoint = _endpoint(cast, receiver.url, settings)
        receiver.secret = endpoint.secret
        receiver.fail_first(2)  # every delivery: 500, 500, then 200
        story = _story(cast)
        with running_worker(queues=["webhooks"], env=ENV):
            _walk(cast, story)
            accepted = receiver.wait_for(3, timeout=90)
        requests = list(receiver.requests)

    assert all(r.signature_ok for r in requests)
    assert [r.json()["data"]["status"] for r in accepted] == ["in_progress", "in_review", "done"]
    ids = [r.delivery for r in accepted]
    for position, delivery in enumerate(ids):
        tries = [r for r in requests if r.delivery == delivery]
        assert [r.status for r in tries] == [500, 500, 200]
        first_gap, second_gap = tries[1].at - tries[0].at, tries[2].at - tries[1].at
        assert first_gap >= 0.9 and second_gap >= 1.8 and second_gap > first_gap
        # Nothing of the next event was sent before this one succeeded.
        if position + 1 < len(ids):
            following = [r for r in requests if r.delivery == ids[position + 1]]
            assert min(r.at for r in following) >= tries[-1].at
    rows = list(Delivery.objects.order_by("pk"))
    assert [(d.status, d.attempts) for d in rows] == [(Delivery.Status.SUCCEEDED, 3)] * 3
    assert [a.status_code for a in rows[0].attempt_log.all()] == [500, 500, 200]


def _wait_for_leases_to_run_out():
    latest = max(
        (d for d in Delivery.objects.values_list("lease_until", flat=True) if d), default=None
    )
    if latest:
        time.sleep(max(0, (latest - timezone.now()).total_seconds()) + 0.5)


def test_a_worker_killed_mid_request_delivers_each_event_with_no_unflagged_duplicate(
    cast, settings
):
    with Receiver(delay=0.5) as receiver:
        endpoint = _endpoint(cast, receiver.url, settings)
        receiver.secret = endpoint.secret
        stories = [_story(cast, "Export"), _story(cast, "Import")]
        with running_worker(queues=["webhooks"], env=ENV) as worker:
            for story in stories:
                _walk(cast, story)
            deadline = time.monotonic() + 30
            while receiver.started < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.2)  # the third request is in the receiver's hands, unanswered
            os.kill(worker.process.pid, signal.SIGKILL)
            worker.process.wait(timeout=10)
        killed_at = len(receiver.accepted())
        assert killed_at < 6
        # The request the worker was waiting for when it died is still claimed by it.
        assert Delivery.objects.filter(status=Delivery.Status.SENDING).count() == 1
        with running_worker(queues=["webhooks"], env=ENV):
            _wait_for_leases_to_run_out()
            # The beat's sweep: what the dead worker held or had taken from the queue.
            sweep_webhooks.delay().get(timeout=30)
            accepted = receiver.wait_for(6, timeout=90)
            time.sleep(1)  # anything still coming would be a duplicate
        requests = list(receiver.requests)

    assert len({r.delivery for r in accepted}) == 6
    assert all(r.signature_ok for r in requests)
    duplicates = receiver.duplicates()
    assert len(duplicates) <= 1, [r.delivery for r in duplicates]  # at most the one in flight
    # Every event of an object in order, whatever was killed.
    by_object: dict[str, list[str]] = {}
    for r in accepted:
        body = r.json()
        by_object.setdefault(body["data"]["key"], []).append(body["data"]["status"])
    assert list(by_object.values()) == [["in_progress", "in_review", "done"]] * 2
    assert Counter(Delivery.objects.values_list("status", flat=True)) == {"succeeded": 6}
    print(f"killed after {killed_at} accepted; {len(requests)} requests, {len(duplicates)} repeat")
