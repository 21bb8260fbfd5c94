"""The notifications page (filters, mark all read, only your own) and the daily e-mail of unread
mentions for people who get no digest (once per person per day)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pm import collab
from pm.choices import NotificationKind
from pm.models import DigestSubscription, MentionReminder, Notification, NotificationSettings
from pm.notifications import notification_create

HTMX = {"HX-Request": "true"}


def _notify(cast, user, kind=NotificationKind.MENTION, message="Ada mentioned you", read=False):
    note = notification_create(
        user=user, kind=kind, message=message, url="/p/LOD/", product=cast.product, actor=cast.pm
    )
    if read:
        Notification.objects.filter(pk=note.pk).update(read_at=timezone.now())
    return note


@pytest.fixture
def inbox(cast):
    _notify(cast, cast.engineer, message="Unread mention")
    _notify(cast, cast.engineer, message="Read mention", read=True)
    _notify(cast, cast.engineer, kind=NotificationKind.COMMENT, message="A new comment")
    _notify(cast, cast.engineer, kind=NotificationKind.ASSIGNMENT, message="An assignment")
    _notify(cast, cast.admin, message="Someone else's mention")


def _page(client, query=""):
    return client.get(reverse("notification_list") + query).content.decode()


def test_the_page_lists_your_notifications_only(cast, inbox):
    html = _page(cast.client("engineer"))
    for message in ("Unread mention", "Read mention", "A new comment", "An assignment"):
        assert message in html
    assert "Someone else" not in html


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("?unread=1", {"Unread mention", "A new comment", "An assignment"}),
        ("?kind=mention", {"Unread mention", "Read mention"}),
        ("?kind=comment", {"A new comment"}),
        ("?kind=nonsense", {"Unread mention", "Read mention", "A new comment", "An assignment"}),
    ],
)
def test_filters_narrow_the_list(cast, inbox, query, shown):
    html = _page(cast.client("engineer"), query)
    everything = {"Unread mention", "Read mention", "A new comment", "An assignment"}
    assert {m for m in everything if m in html} == shown


def test_a_filter_with_nothing_says_so(cast, inbox):
    html = _page(cast.client("engineer"), "?kind=feedback_linked")
    assert "No notification matches this filter." in html


def test_mark_all_read_marks_only_yours(cast, inbox):
    response = cast.client("engineer").post(reverse("notification_read_all"), headers=HTMX)
    assert response.status_code == 200
    assert "3 notifications marked read." in response["HX-Trigger"]
    assert not Notification.objects.filter(user=cast.engineer, read_at=None).exists()
    assert Notification.objects.filter(user=cast.admin, read_at=None).count() == 1


@pytest.mark.parametrize("n", [3, 60])
def test_the_page_takes_the_same_queries_at_any_size(cast, n, django_assert_max_num_queries):
    for i in range(n):
        _notify(cast, cast.engineer, message=f"Mention {i}")
    client = cast.client("engineer")
    # session, user, notifications (with actor and product), unread count, navigation
    # (memberships, products)
    with django_assert_max_num_queries(8):
        html = _page(client, "?kind=mention")
    assert html.count('data-testid="notification"') == n


# --- the daily e-mail of unread mentions -----------------------------------------------------


NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_unread_mentions_are_e_mailed_once_a_day(cast, mailoutbox):
    _notify(cast, cast.engineer, message="Ada mentioned you on feature “SSO”")
    _notify(cast, cast.engineer, message="Old news", read=True)
    assert collab.send_mention_reminders(now=NOON) == 1
    assert collab.send_mention_reminders(now=NOON + timedelta(hours=3)) == 0  # same day
    [mail] = mailoutbox
    assert mail.to == [cast.engineer.email]
    assert mail.subject == "1 mention waiting for you on Lodestar"
    assert "Ada mentioned you on feature “SSO”" in mail.body and "Old news" not in mail.body
    assert MentionReminder.objects.get().mentions == 1
    # The next day, still unread: reminded again.
    assert collab.send_mention_reminders(now=NOON + timedelta(days=1)) == 1


def test_no_reminder_for_digest_readers_opted_out_or_nothing_unread(cast, mailoutbox):
    for user in (cast.engineer, cast.pm, cast.admin):
        _notify(cast, user)
    DigestSubscription.objects.create(user=cast.engineer, product=cast.product, frequency="daily")
    NotificationSettings.objects.create(user=cast.pm, daily_unread_mentions=False)
    Notification.objects.filter(user=cast.admin).update(read_at=timezone.now())
    _notify(cast, cast.stakeholder, kind=NotificationKind.ASSIGNMENT)  # not a mention
    assert collab.send_mention_reminders(now=NOON) == 0
    assert mailoutbox == []


def test_the_beat_task_is_scheduled_daily():
    from pm.celery import app

    entry = app.conf.beat_schedule["remind-of-unread-mentions-daily"]
    assert entry["task"] == "pm.tasks.send_mention_reminders"
