"""Digests in-process: scheduling once per period, content, nothing-new, unsubscribe, preview,
SMTP retry, and batches with a constant number of queries."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.urls import reverse
from django.utils import timezone

from pm import digests
from pm.celery import app as celery_app
from pm.choices import DeliveryStatus, DigestFrequency, Role
from pm.models import ActivityLog, DigestDelivery, DigestSubscription
from pm.tasks import send_digest_batch
from tests.factories import MembershipFactory, ObjectiveFactory

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def subscribe(user, product, frequency=DigestFrequency.DAILY, hour=8, weekday=0, at=None):
    sub = DigestSubscription.objects.create(
        user=user, product=product, frequency=frequency, hour=hour, weekday=weekday
    )
    DigestSubscription.objects.filter(pk=sub.pk).update(
        updated_at=at or datetime(2026, 1, 1, tzinfo=UTC)
    )
    return sub


def something_happened(product, actor, when):
    """An objective created at `when`, as the activity log records it."""
    objective = ObjectiveFactory(product=product, title="Grow weekly active teams")
    ActivityLog.objects.create(
        workspace=product.workspace,
        product=product,
        actor=actor,
        action="created",
        object_type="pm.objective",
        object_id=objective.pk,
        object_repr=objective.title,
        changes={"title": [None, objective.title]},
        created_at=when,
    )


@pytest.fixture
def amsterdam(cast):
    cast.workspace.time_zone = "Europe/Amsterdam"
    cast.workspace.save()
    return cast


def test_daily_period_is_the_last_send_time_in_the_workspace_time_zone(amsterdam):
    sub = subscribe(amsterdam.pm, amsterdam.product, hour=8)
    # 07:30 UTC is 08:30 in Amsterdam (winter time): today's 08:00 has passed.
    period = digests.current_period(sub, datetime(2026, 11, 26, 7, 30, tzinfo=UTC), AMSTERDAM)
    assert period.key == "2026-11-26"
    assert period.start == datetime(2026, 11, 26, 8, 0, tzinfo=AMSTERDAM)
    assert period.since == datetime(2026, 11, 25, 8, 0, tzinfo=AMSTERDAM)
    # 06:30 UTC is 07:30 there: still yesterday's period.
    period = digests.current_period(sub, datetime(2026, 11, 26, 6, 30, tzinfo=UTC), AMSTERDAM)
    assert period.key == "2026-11-25"


def test_weekly_period_starts_on_the_chosen_weekday(amsterdam):
    sub = subscribe(amsterdam.pm, amsterdam.product, DigestFrequency.WEEKLY, hour=9, weekday=4)
    # Thursday 26 November 2026: the last Friday 09:00 was 20 November (ISO week 47).
    period = digests.current_period(sub, datetime(2026, 11, 26, 12, tzinfo=UTC), AMSTERDAM)
    assert period.start == datetime(2026, 11, 20, 9, 0, tzinfo=AMSTERDAM)
    assert period.key == "2026-W47"
    assert period.since == period.start - timedelta(days=7)


def test_scheduling_twice_records_one_delivery_per_user_product_and_period(amsterdam):
    subscribe(amsterdam.pm, amsterdam.product)
    subscribe(amsterdam.engineer, amsterdam.product)
    now = datetime(2026, 11, 26, 9, tzinfo=UTC)
    first = digests.digests_schedule(now=now)
    second = digests.digests_schedule(now=now)
    assert len(first) == 2
    assert second == []
    assert DigestDelivery.objects.count() == 2
    # The next day is a new period.
    assert len(digests.digests_schedule(now=now + timedelta(days=1))) == 2


def test_off_and_fresh_subscriptions_are_not_scheduled(amsterdam):
    subscribe(amsterdam.pm, amsterdam.product, DigestFrequency.OFF)
    now = datetime(2026, 11, 26, 9, tzinfo=UTC)
    # Subscribed at 08:30 local, after today's 08:00 send time: waits for tomorrow.
    subscribe(amsterdam.engineer, amsterdam.product, at=datetime(2026, 11, 26, 7, 30, tzinfo=UTC))
    assert digests.digests_schedule(now=now) == []
    assert len(digests.digests_schedule(now=now + timedelta(days=1))) == 1


def _due_delivery(cast, user, *, period_start=None):
    period_start = period_start or timezone.now() - timedelta(minutes=5)
    return DigestDelivery.objects.create(
        user=user,
        product=cast.product,
        frequency=DigestFrequency.DAILY,
        period_key=period_start.date().isoformat(),
        period_start=period_start,
    )


def test_a_digest_with_nothing_new_is_not_sent(cast):
    delivery = _due_delivery(cast, cast.pm)
    result = digests.digests_send(delivery_ids=[delivery.pk])
    assert result["empty"] == [delivery.pk]
    assert mail.outbox == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.EMPTY


def test_a_digest_has_text_and_html_parts_links_and_one_click_unsubscribe(cast, settings):
    settings.SITE_URL = "https://lodestar.example"
    delivery = _due_delivery(cast, cast.pm)
    something_happened(cast.product, cast.admin, delivery.period_start - timedelta(hours=2))
    result = digests.digests_send(delivery_ids=[delivery.pk])
    assert result["sent"] == [delivery.pk]
    [message] = mail.outbox
    assert message.to == [cast.pm.email]
    assert message.subject.startswith("Lodestar Cloud: what changed since")
    assert "Grow weekly active teams" in message.body
    html = message.alternatives[0].content
    assert "Grow weekly active teams" in html
    assert "https://lodestar.example/p/LOD/strategy/" in html
    unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("https://lodestar.example/digests/unsubscribe/")
    assert unsubscribe in message.body and unsubscribe in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.sent_at


def test_a_sent_digest_is_not_sent_again(cast):
    delivery = _due_delivery(cast, cast.pm)
    something_happened(cast.product, cast.admin, delivery.period_start - timedelta(hours=2))
    digests.digests_send(delivery_ids=[delivery.pk])
    again = digests.digests_send(delivery_ids=[delivery.pk])
    assert again == {"sent": [], "empty": [], "failed": []}
    assert len(mail.outbox) == 1


def test_a_claim_left_by_a_dead_worker_is_taken_over_only_when_its_lease_ran_out(cast):
    delivery = _due_delivery(cast, cast.pm)
    something_happened(cast.product, cast.admin, delivery.period_start - timedelta(hours=2))
    # Another run is sending it right now: its lease holds.
    DigestDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING,
        claimed_at=timezone.now(),
        claimed_by="other-run",
        lease_until=timezone.now() + digests.claim_lease(),
        attempts=1,
    )
    assert digests.digests_orphans() == []
    assert digests.digests_send(delivery_ids=[delivery.pk])["sent"] == []
    # That run died with the message in flight: once the lease ran out the row is an orphan
    # for the next beat tick, and sending it again is the one duplicate a kill may cause.
    DigestDelivery.objects.filter(pk=delivery.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert digests.digests_orphans() == [delivery.pk]
    assert digests.digests_send(delivery_ids=[delivery.pk])["sent"] == [delivery.pk]
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.claimed_by) == ("sent", 2, "")
    assert digests.digests_orphans() == []


def test_rows_reserved_by_a_live_run_are_left_alone_until_its_lease_runs_out(cast):
    first, second = _due_delivery(cast, cast.pm), _due_delivery(cast, cast.engineer)
    something_happened(cast.product, cast.admin, first.period_start - timedelta(hours=2))
    DigestDelivery.objects.filter(pk__in=[first.pk, second.pk]).update(
        claimed_by="live-run", lease_until=timezone.now() + digests.claim_lease()
    )
    assert digests.digests_orphans() == []
    assert digests.digests_send(delivery_ids=[first.pk, second.pk])["sent"] == []
    DigestDelivery.objects.filter(pk=second.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert digests.digests_orphans() == [second.pk]
    assert digests.digests_send(delivery_ids=[first.pk, second.pk])["sent"] == [second.pk]
    assert [m.to for m in mail.outbox] == [[cast.engineer.email]]


class WatchingMailer(locmem.EmailBackend):
    """A locmem mailer that notes the deliveries' statuses each time it is handed a message."""

    ids: list[int] = []
    seen: list[dict] = []

    def send_messages(self, messages):
        WatchingMailer.seen.append(
            dict(DigestDelivery.objects.filter(pk__in=self.ids).values_list("pk", "status"))
        )
        return super().send_messages(messages)


def test_each_message_is_claimed_just_before_and_marked_sent_right_after_sending(cast, settings):
    """What a killed worker leaves behind: every earlier message already `sent`, the one in
    flight `sending`, the later ones still pending (to be handed out again)."""
    ids = [_due_delivery(cast, u).pk for u in (cast.pm, cast.engineer, cast.stakeholder)]
    something_happened(cast.product, cast.admin, timezone.now() - timedelta(hours=3))
    settings.MAILERS = {"default": {"BACKEND": "tests.digests.test_digests.WatchingMailer"}}
    WatchingMailer.ids, WatchingMailer.seen = ids, []
    result = digests.digests_send(delivery_ids=ids)
    order = [d.pk for d in DigestDelivery.objects.filter(pk__in=ids).order_by("sent_at")]
    assert sorted(result["sent"]) == sorted(ids)
    assert len(WatchingMailer.seen) == 3
    for position, statuses in enumerate(WatchingMailer.seen):
        assert [statuses[pk] for pk in order] == (
            ["sent"] * position + ["sending"] + ["pending"] * (len(ids) - position - 1)
        )


class FlakySMTP:
    """A mailer whose first `failures` sends raise like an unreachable SMTP server."""

    failures = 0
    sent: list = []

    def __init__(self, alias=None, fail_silently=False, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_messages(self, messages):
        if FlakySMTP.failures:
            FlakySMTP.failures -= 1
            raise ConnectionRefusedError("SMTP server unreachable")
        FlakySMTP.sent.extend(messages)
        return len(messages)


def test_smtp_failure_is_retried_and_the_digest_arrives_once(cast, settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.digests.test_digests.FlakySMTP"}}
    FlakySMTP.failures, FlakySMTP.sent = 2, []
    delivery = _due_delivery(cast, cast.pm)
    something_happened(cast.product, cast.admin, delivery.period_start - timedelta(hours=2))
    # Eager mode runs the retries at once (the countdown only matters on a real worker), when
    # it does not propagate the Retry it raises.
    celery_app.conf.task_eager_propagates = False
    send_digest_batch.delay([delivery.pk])
    assert len(FlakySMTP.sent) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 3


def test_a_digest_that_keeps_failing_is_marked_failed_not_lost_silently(cast, settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.digests.test_digests.FlakySMTP"}}
    FlakySMTP.failures, FlakySMTP.sent = 100, []
    celery_app.conf.task_eager_propagates = False
    delivery = _due_delivery(cast, cast.pm)
    something_happened(cast.product, cast.admin, delivery.period_start - timedelta(hours=2))
    send_digest_batch.delay([delivery.pk])
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "unreachable" in delivery.error
    assert FlakySMTP.sent == []


def test_the_unsubscribe_link_turns_the_digest_off_with_one_post(cast, client):
    subscribe(cast.pm, cast.product)
    token = digests.unsubscribe_token(user_id=cast.pm.pk, product_id=cast.product.pk)
    url = reverse("digest_unsubscribe", args=[token])
    page = client.get(url)  # a mail scanner's prefetch changes nothing
    assert page.status_code == 200
    assert DigestSubscription.objects.get(user=cast.pm).frequency == DigestFrequency.DAILY
    assert client.post(url).status_code == 200
    assert DigestSubscription.objects.get(user=cast.pm).frequency == DigestFrequency.OFF


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: t.replace(":", "x", 1),  # payload changed
        lambda t: "forged-token",
    ],
)
def test_a_tampered_unsubscribe_link_is_refused_and_changes_nothing(cast, client, tamper):
    subscribe(cast.pm, cast.product)
    token = digests.unsubscribe_token(user_id=cast.pm.pk, product_id=cast.product.pk)
    response = client.post(reverse("digest_unsubscribe", args=[tamper(token)]))
    assert response.status_code == 404
    assert DigestSubscription.objects.get(user=cast.pm).frequency == DigestFrequency.DAILY


def test_an_unsubscribe_link_for_another_user_cannot_be_made_by_editing_the_id(cast, client):
    subscribe(cast.pm, cast.product)
    subscribe(cast.engineer, cast.product)
    token = digests.unsubscribe_token(user_id=cast.pm.pk, product_id=cast.product.pk)
    forged = digests.unsubscribe_token(user_id=cast.engineer.pk, product_id=cast.product.pk)
    assert forged != token
    client.post(reverse("digest_unsubscribe", args=[token]))
    assert DigestSubscription.objects.get(user=cast.engineer).frequency == DigestFrequency.DAILY


def test_the_preview_page_renders_what_the_user_would_get_now(cast):
    something_happened(cast.product, cast.admin, timezone.now() - timedelta(hours=1))
    client = cast.client("stakeholder")
    page = client.get(reverse("digest_preview", args=[cast.product.key]))
    assert page.status_code == 200
    assert b"Subject: <strong>Lodestar Cloud: what changed since" in page.content
    email_html = client.get(reverse("digest_email_preview", args=[cast.product.key]))
    assert b"Grow weekly active teams" in email_html.content
    assert b"Unsubscribe" in email_html.content


def test_the_preview_says_when_there_is_nothing_new(cast):
    page = cast.client("pm").get(reverse("digest_preview", args=[cast.product.key]))
    assert b"A digest with nothing new is not sent." in page.content


def test_digest_settings_are_saved_per_user_and_product(cast):
    client = cast.client("engineer")
    url = reverse("digest_preview", args=[cast.product.key])
    response = client.post(
        url, {"frequency": "weekly", "weekday": "2", "hour": "17"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    sub = DigestSubscription.objects.get(user=cast.engineer, product=cast.product)
    assert (sub.frequency, sub.weekday, sub.hour) == ("weekly", 2, 17)
    bad = client.post(url, {"frequency": "hourly", "weekday": "9", "hour": "25"})
    assert bad.status_code == 200
    assert b"errorlist" in bad.content
    sub.refresh_from_db()
    assert (sub.frequency, sub.weekday, sub.hour) == ("weekly", 2, 17)


def _deliveries_for(cast, n):
    period_start = timezone.now() - timedelta(minutes=5)
    ids = []
    for i in range(n):
        member = MembershipFactory(
            workspace=cast.workspace, role=[Role.PM, Role.STAKEHOLDER][i % 2]
        ).user
        ids.append(_due_delivery(cast, member, period_start=period_start).pk)
    return ids


@pytest.mark.parametrize("size", [10, 60])
def test_a_batch_costs_a_constant_number_of_queries(cast, size, django_assert_max_num_queries):
    something_happened(cast.product, cast.admin, timezone.now() - timedelta(hours=2))
    ids = _deliveries_for(cast, size)
    # Reservation (select for update + update), deliveries with users and products,
    # memberships, the sections once per (product, role): a few queries per registered section
    # and role. Then per message exactly its claim and its mark, which is what lets a killed
    # worker duplicate at most the one message in flight, each committed on its own with
    # SET LOCAL synchronous_commit (here, inside the test's transaction: savepoint, SET LOCAL,
    # UPDATE, release).
    constant = 4 + 2 + 2 * 3 * len(digests.registry.digest_sections) + 3
    with django_assert_max_num_queries(constant + 2 * 4 * size) as queries:
        result = digests.digests_send(delivery_ids=ids)
    assert len(result["sent"]) == size
    assert len(mail.outbox) == size
    local = [q for q in queries.captured_queries if q["sql"].startswith("SET LOCAL")]
    assert len(local) == 2 * size  # the claim and the mark; no session-level SET
    assert not [q for q in queries.captured_queries if q["sql"].startswith(("SET s", "RESET"))]


@pytest.mark.parametrize("size", [10, 60])
def test_scheduling_costs_a_constant_number_of_queries(cast, size, django_assert_max_num_queries):
    for _ in range(size):
        member = MembershipFactory(workspace=cast.workspace).user
        subscribe(member, cast.product)
    # Subscriptions, existing deliveries, the insert, the re-read, the empty next page.
    with django_assert_max_num_queries(5):
        assert len(digests.digests_schedule()) == size
