"""What goes into a digest, by role: every app's section, and nothing internal for stakeholders.
Internal fields are filled with sentinel strings; the stakeholder's digest (HTML and text) must not
contain any of them, while the team's digest shows the internal items (so the test can fail)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from backlog import services as backlog_services
from backlog.choices import StoryStatus
from feedback.services.customers import customer_create
from feedback.services.insights import insight_create
from feedback.services.items import feedback_create
from pm import digests
from pm.choices import DigestFrequency
from pm.models import DigestDelivery
from roadmap import services as roadmap_services

SENTINEL = "SENTINEL-7f3a"


@pytest.fixture
def busy_week(cast):
    """A week of work in every app, with internal data marked by the sentinel."""
    pm = cast.pm
    roadmap_services.initiative_create(
        product=cast.product,
        data={"title": f"{SENTINEL} secret initiative", "visibility": "internal", "horizon": "now"},
        actor=pm,
    )
    roadmap_services.initiative_create(
        product=cast.product,
        data={
            "title": "Offline mode",
            "visibility": "public",
            "horizon": "next",
            "internal_notes": f"{SENTINEL} notes",
        },
        actor=pm,
    )
    feature = backlog_services.feature_create(
        product=cast.product,
        data={"title": "Single sign-on", "cost": 99000, "expected_revenue": 123456},
        actor=pm,
    )
    story = backlog_services.story_create(
        feature=feature, data={"title": f"{SENTINEL} story title"}, actor=pm
    )
    backlog_services.story_update(
        story=story, data={"status": StoryStatus.DONE}, expected_version=story.version, actor=pm
    )
    backlog_services.feature_ship(feature=feature, shipped_at=timezone.now(), actor=pm)
    customer = customer_create(
        workspace=cast.workspace,
        data={"name": f"{SENTINEL} Corp", "contact": f"{SENTINEL}@corp.example", "arr": 777777},
        actor=pm,
    )
    item = feedback_create(
        product=cast.product,
        content="We need single sign-on before we can roll out",
        source="sales_call",
        customer=customer,
        actor=pm,
    )
    insight_create(item=item, feature=feature, actor=pm, quote="single sign-on")
    return cast


def _digest_for(cast, user):
    period_start = timezone.now() + timedelta(minutes=1)
    delivery = DigestDelivery.objects.create(
        user=user,
        product=cast.product,
        frequency=DigestFrequency.WEEKLY,
        period_key="2026-W48",
        period_start=period_start,
    )
    mail.outbox.clear()
    result = digests.digests_send(delivery_ids=[delivery.pk])
    assert result["sent"] == [delivery.pk]
    [message] = mail.outbox
    return message.body, message.alternatives[0].content


def test_the_team_digest_has_every_section_and_the_internal_items(busy_week):
    text, html = _digest_for(busy_week, busy_week.pm)
    for title in ("Roadmap", "Shipped and done", "New feedback"):
        assert title.lower() in html.lower(), title
    assert "Strategy updates" not in html  # nothing changed there: no empty section
    assert f"{SENTINEL} secret initiative" in html
    assert f"{SENTINEL} story title" in text
    assert "Single sign-on" in text


def test_a_stakeholder_digest_has_no_internal_fields(busy_week):
    text, html = _digest_for(busy_week, busy_week.stakeholder)
    assert "Offline mode" in html  # public initiatives do appear
    assert "Single sign-on" in html  # released features do appear
    assert SENTINEL not in text
    assert SENTINEL not in html
    for number in ("99000", "99,000", "123456", "123,456", "777777", "777,777"):
        assert number not in text and number not in html


def test_no_digest_ever_names_customers(busy_week):
    for user in (busy_week.admin, busy_week.pm, busy_week.engineer):
        text, html = _digest_for(busy_week, user)
        assert f"{SENTINEL} Corp" not in text + html
        assert f"{SENTINEL}@corp.example" not in text + html
        DigestDelivery.objects.all().delete()
