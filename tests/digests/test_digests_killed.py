"""A real worker killed with SIGKILL in the middle of a digest batch, then started again: every
recipient gets the period's digest exactly once, except at most the one message that was in
flight when the worker died. The SMTP server is a real (slow) one on a local port."""

import os
import signal
import time
from collections import Counter

import pytest
from django.utils import timezone

from pm.choices import DeliveryStatus, Role
from pm.models import DigestDelivery
from pm.tasks import schedule_digests
from tests.digests.test_digests_worker import _subscribed
from tests.factories import MembershipFactory
from tests.smtp_sink import SlowSMTPSink
from tests.worker import running_worker

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 40
LEASE = 3  # seconds; production uses minutes, the mechanics are the same


def _wait_for_leases_to_run_out():
    latest = max(
        (d for d in DigestDelivery.objects.values_list("lease_until", flat=True) if d),
        default=None,
    )
    if latest:
        time.sleep(max(0, (latest - timezone.now()).total_seconds()) + 0.5)


def test_a_worker_killed_mid_batch_duplicates_at_most_the_message_in_flight(cast):
    members = [
        MembershipFactory(workspace=cast.workspace, role=Role.PM).user for _ in range(RECIPIENTS)
    ]
    _subscribed(cast, *members)
    with SlowSMTPSink(delay=0.1) as sink:
        env = {**sink.worker_env(), "DIGEST_LEASE_SECONDS": str(LEASE)}
        with running_worker(env=env) as worker:
            assert schedule_digests.delay().get(timeout=60) == RECIPIENTS
            sink.wait_for(12)
            os.kill(worker.process.pid, signal.SIGKILL)
            worker.process.wait(timeout=10)
        accepted_before_restart = sink.count()
        statuses = Counter(DigestDelivery.objects.values_list("status", flat=True))
        # Killed mid-batch: some went out, the rest did not, and only one is in between.
        assert 12 <= accepted_before_restart < RECIPIENTS
        assert statuses[DeliveryStatus.SENDING] <= 1
        assert statuses[DeliveryStatus.SENT] in (
            accepted_before_restart - 1,
            accepted_before_restart,
        )
        assert statuses[DeliveryStatus.PENDING] + statuses[DeliveryStatus.SENDING] == (
            RECIPIENTS - statuses[DeliveryStatus.SENT]
        )
        in_flight = set(
            DigestDelivery.objects.filter(status=DeliveryStatus.SENDING).values_list(
                "user__email", flat=True
            )
        )

        with running_worker(env=env):
            # A beat tick while the dead run's lease still holds hands nothing of it out ...
            DigestDelivery.objects.filter(status=DeliveryStatus.PENDING).update(
                lease_until=timezone.now() + timezone.timedelta(seconds=LEASE)
            )
            DigestDelivery.objects.filter(status=DeliveryStatus.SENDING).update(
                lease_until=timezone.now() + timezone.timedelta(seconds=LEASE)
            )
            assert schedule_digests.delay().get(timeout=60) == 0
            # ... the first tick after it ran out hands out the rest (not after half an hour).
            _wait_for_leases_to_run_out()
            left = RECIPIENTS - statuses[DeliveryStatus.SENT]
            assert schedule_digests.delay().get(timeout=60) == left
            sink.wait_for(RECIPIENTS, timeout=60)
            deadline = time.monotonic() + 30
            while DigestDelivery.objects.exclude(status=DeliveryStatus.SENT).exists():
                assert time.monotonic() < deadline, "digests left unsent"
                time.sleep(0.1)
            time.sleep(0.5)  # anything sent twice would have arrived by now

    received = Counter(sink.recipients())
    assert set(received) == {m.email for m in members}
    duplicated = {address for address, n in received.items() if n > 1}
    assert duplicated <= in_flight and max(received.values()) <= 2
    assert sum(received.values()) <= RECIPIENTS + 1
