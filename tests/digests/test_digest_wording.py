"""What a digest reader notices (issue 14 item 9): long lists say how many more there are, money
reads as it does in the app, one line per strategy item, and a `List-Unsubscribe` header that
one-click unsubscribe can parse (plain `<url>`, never RFC 2047-encoded or folded)."""

from datetime import timedelta
from email import message_from_bytes
from email import policy as email_policy

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from backlog import services as backlog_services
from backlog.choices import StoryStatus
from metrics.models import KeyResultKPI
from pm import digests, services
from pm.choices import DigestFrequency
from pm.models import ActivityLog, DigestDelivery, DigestSubscription
from tests.factories import KeyResultFactory, ObjectiveFactory
from tests.metrics.factories import KPIFactory
from tests.metrics.helpers import ingest


def _send(cast, user):
    delivery = DigestDelivery.objects.create(
        user=user,
        product=cast.product,
        frequency=DigestFrequency.WEEKLY,
        period_key="2026-W48",
        period_start=timezone.now() + timedelta(minutes=1),
    )
    mail.outbox.clear()
    assert digests.digests_send(delivery_ids=[delivery.pk])["sent"] == [delivery.pk]
    [message] = mail.outbox
    return message


def _lines(text: str, heading: str) -> list[str]:
    """The text part's lines of one section, after its heading."""
    section = text.split(f"== {heading} ==", 1)[1].split("\n== ", 1)[0]
    return [line for line in section.splitlines() if line.strip()]


def test_fifteen_stories_done_lists_ten_and_says_five_more(cast):
    pm = cast.pm
    feature = backlog_services.feature_create(
        product=cast.product, data={"title": "Bulk edit"}, actor=pm
    )
    for n in range(15):
        story = backlog_services.story_create(
            feature=feature, data={"title": f"Story number {n:02d}"}, actor=pm
        )
        backlog_services.story_update(
            story=story, data={"status": StoryStatus.DONE}, expected_version=story.version, actor=pm
        )
    message = _send(cast, pm)
    lines = _lines(message.body, "Shipped and done")
    assert lines[0] == "15 stories done:"
    assert sum(line.startswith("- ") and "Story number" in line for line in lines) == 10
    assert "and 5 more" in lines[11]
    html = message.alternatives[0].content
    assert html.count("Story number") == 10 and "and 5 more" in html


def test_money_reads_as_in_the_app(cast):
    kpi = KPIFactory(
        product=cast.product,
        name="Monthly recurring revenue",
        unit="€",
        aggregation="last",
        target_value=90000,
    )
    now = timezone.now()
    ingest(kpi, [(now - timedelta(days=1), "69947.40")])  # off target, and no change to report
    message = _send(cast, cast.pm)
    [line] = [ln for ln in _lines(message.body, "KPIs") if "Monthly recurring revenue" in ln]
    assert "€69,947 of €90,000" in line, line
    html = message.alternatives[0].content
    assert "€69,947" in html and "€90,000" in html
    assert "69947" not in message.body and "69947" not in html


def test_a_key_result_moved_many_times_by_its_kpi_is_one_strategy_line(cast):
    kr = KeyResultFactory(
        objective__product=cast.product, description="Weekly stakeholder views", current_value=1
    )
    kpi = KPIFactory(product=cast.product)
    KeyResultKPI.objects.create(
        workspace_id=cast.workspace.pk, kpi=kpi, key_result=kr, linked_by=cast.pm
    )
    for value in (2, 3, 5):  # what three syncs from the KPI do
        kr.refresh_from_db()
        services.versioned_update(
            instance=kr, data={"current_value": value}, expected_version=kr.version, actor=cast.pm
        )
    services.strategy_item_update(
        instance=kr.objective,
        data={"status": "at_risk"},
        expected_version=kr.objective.version,
        actor=cast.pm,
    )
    message = _send(cast, cast.pm)
    lines = _lines(message.body, "Strategy updates")
    kr_lines = [line for line in lines if "Weekly stakeholder views" in line]
    assert len(kr_lines) == 1, lines
    assert kr_lines[0].endswith("current value 1 → 5"), kr_lines
    assert len(lines) == len(set(lines))
    assert message.alternatives[0].content.count("Weekly stakeholder views") == 1


def test_more_than_ten_strategy_items_say_how_many_more(cast):
    for n in range(13):
        objective = ObjectiveFactory(product=cast.product, title=f"Objective {n}")
        ActivityLog.objects.create(
            workspace=cast.workspace,
            product=cast.product,
            actor=cast.pm,
            action="created",
            object_type="pm.objective",
            object_id=objective.pk,
            object_repr=objective.title,
            changes={},
        )
    lines = _lines(_send(cast, cast.pm).body, "Strategy updates")
    assert sum(line.startswith("- ") for line in lines) == 10
    assert "and 3 more" in lines[10]


@pytest.fixture
def long_site_url(settings):
    settings.SITE_URL = "https://product-management.lodestar.example.com"


def test_list_unsubscribe_is_a_plain_unfolded_url_with_one_click_post(cast, long_site_url):
    objective = ObjectiveFactory(product=cast.product)
    services.strategy_item_update(
        instance=objective, data={"status": "at_risk"}, expected_version=1, actor=cast.pm
    )
    message = _send(cast, cast.pm)
    # What the SMTP backend puts on the wire.
    raw = message.message(policy=email_policy.SMTP).as_bytes()
    header_lines = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    [line] = [h for h in header_lines if h.lower().startswith(b"list-unsubscribe:")]
    url = line.split(b": ", 1)[1].decode()
    assert url.startswith("<https://product-management.lodestar.example.com/digests/unsubscribe/")
    assert url.endswith("/>") and "=?" not in url
    assert len(url) > 78  # long enough that default folding would have split and encoded it
    parsed = message_from_bytes(raw, policy=email_policy.default)
    assert parsed["List-Unsubscribe"] == url
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The one-click POST a mail client sends: no cookie, no CSRF token, the RFC 8058 body.
    DigestSubscription.objects.create(
        user=cast.pm, product=cast.product, frequency=DigestFrequency.DAILY, hour=8
    )
    path = url.strip("<>").removeprefix("https://product-management.lodestar.example.com")
    response = Client(enforce_csrf_checks=True).post(
        path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert DigestSubscription.objects.get(user=cast.pm).frequency == DigestFrequency.OFF
