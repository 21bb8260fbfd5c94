"""Exactly one digest per user, product and period through real Celery workers and Redis:
beat firing twice, two workers on the same batch, a worker that died mid-run."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pm.choices import DeliveryStatus, DigestFrequency
from pm.models import DigestDelivery, DigestSubscription
from pm.tasks import schedule_digests, send_digest_batch
from tests.digests.test_digests import something_happened
from tests.worker import mailed as _mailed
from tests.worker import running_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _subscribed(cast, *users):
    """Daily digests whose send time (an hour ago) has passed, with news in the period."""
    hour = (timezone.now() - timedelta(hours=1)).hour
    for user in users:
        sub = DigestSubscription.objects.create(
            user=user, product=cast.product, frequency=DigestFrequency.DAILY, hour=hour
        )
        DigestSubscription.objects.filter(pk=sub.pk).update(
            updated_at=timezone.now() - timedelta(days=3)
        )
    something_happened(cast.product, cast.admin, timezone.now() - timedelta(hours=2))


def _env(tmp_path):
    return {"EMAIL_HOST": None, "EMAIL_FILE_PATH": str(tmp_path), "SITE_URL": "https://x.example"}


def test_beat_firing_twice_sends_each_digest_once(cast, tmp_path):
    _subscribed(cast, cast.pm, cast.stakeholder)
    with running_worker(env=_env(tmp_path)) as worker:
        first, second = schedule_digests.delay(), schedule_digests.delay()
        assert sorted([first.get(timeout=60), second.get(timeout=60)]) == [0, 2]
        worker.wait_for_log("send_digest_batch")
        worker.wait_for_log("'sent': [")
        messages = _mailed(tmp_path)
    assert sorted(m["To"] for m in messages) == sorted([cast.pm.email, cast.stakeholder.email])
    assert DigestDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 2


def test_two_workers_handed_the_same_batch_send_it_once(cast, tmp_path):
    _subscribed(cast, cast.pm, cast.engineer, cast.stakeholder)
    from pm.digests import digests_schedule

    ids = digests_schedule()
    assert len(ids) == 3
    with running_worker(env=_env(tmp_path)), running_worker(env=_env(tmp_path)):
        results = [send_digest_batch.delay(ids) for _ in range(4)]
        outcomes = [r.get(timeout=60) for r in results]
        messages = _mailed(tmp_path)
    assert sorted(sum((o["sent"] for o in outcomes), [])) == sorted(ids)
    assert len(messages) == 3
    assert DigestDelivery.objects.filter(status=DeliveryStatus.SENT, attempts=1).count() == 3


def test_a_batch_redelivered_after_its_worker_died_is_sent_once(cast, tmp_path):
    _subscribed(cast, cast.pm, cast.engineer)
    from pm.digests import digests_schedule

    ids = digests_schedule()
    # The first worker claimed the pm's digest and died before sending it; the engineer's it had
    # sent. The broker redelivers the task (acks_late, reject_on_worker_lost).
    pm_delivery = DigestDelivery.objects.get(pk__in=ids, user=cast.pm)
    DigestDelivery.objects.filter(pk=pm_delivery.pk).update(
        status=DeliveryStatus.SENDING,
        attempts=1,
        claimed_by="a-dead-run",
        claimed_at=timezone.now() - timedelta(minutes=3),
        lease_until=timezone.now() - timedelta(minutes=1),
    )
    DigestDelivery.objects.filter(pk__in=ids, user=cast.engineer).update(
        status=DeliveryStatus.SENT, attempts=1, sent_at=timezone.now()
    )
    assert send_digest_batch.acks_late and send_digest_batch.reject_on_worker_lost
    with running_worker(env=_env(tmp_path)):
        outcome = send_digest_batch.delay(ids).get(timeout=60)
        again = send_digest_batch.delay(ids).get(timeout=60)
        messages = _mailed(tmp_path)
    assert outcome["sent"] == [pm_delivery.pk]
    assert again == {"sent": [], "empty": [], "failed": []}
    assert [m["To"] for m in messages] == [cast.pm.email]
