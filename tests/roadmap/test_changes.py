"""What changed since a date: added, moved, re-dated, shipped — read from the activity log."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pm.models import ActivityLog
from roadmap import services
from roadmap.choices import Horizon, InitiativeStatus, Precision, Visibility
from roadmap.selectors import roadmap_changes
from tests.roadmap.factories import ReleaseFactory

pytestmark = pytest.mark.django_db


def _create(cast, title, **data):
    return services.initiative_create(
        product=cast.product, data={"title": title, **data}, actor=cast.pm
    )


def _kinds(changes):
    return [(c.kind, c.title, c.summary) for c in changes]


def _since():
    return timezone.now() - timedelta(days=7)


def test_changes_report_additions_moves_redating_and_shipping(cast):
    a = _create(
        cast,
        "Inbox",
        horizon=Horizon.NEXT,
        visibility=Visibility.PUBLIC,
        start=date(2027, 1, 1),
        end=date(2027, 3, 31),
    )
    a = services.initiative_move(
        initiative=a,
        horizon=Horizon.NOW,
        above=None,
        below=None,
        expected_version=1,
        actor=cast.pm,
    )
    a = services.initiative_update(
        initiative=a,
        data={"end": date(2027, 5, 31), "end_precision": Precision.MONTH},
        expected_version=a.version,
        actor=cast.pm,
    )
    services.initiative_update(
        initiative=a,
        data={"status": InitiativeStatus.SHIPPED},
        expected_version=a.version,
        actor=cast.pm,
    )
    changes = roadmap_changes(product=cast.product, since=_since(), visibility="internal")
    assert _kinds(changes) == [
        ("shipped", "Inbox", "shipped"),
        ("redated", "Inbox", "re-dated from 2027 Q1 to 2027 Q1 – May 2027"),
        ("moved", "Inbox", "moved from Next to Now"),
        ("added", "Inbox", "added to Next"),
    ]
    assert changes[0].actor == "pm" or changes[0].actor == cast.pm.get_full_name()
    assert changes[2].before == "Next" and changes[2].after == "Now"


def test_edits_that_change_nothing_on_the_roadmap_are_not_reported(cast):
    a = _create(cast, "Quiet")
    services.initiative_update(
        initiative=a,
        data={"internal_notes": "ping", "description": "More words"},
        expected_version=1,
        actor=cast.pm,
    )
    assert _kinds(roadmap_changes(product=cast.product, since=_since(), visibility="internal")) == [
        ("added", "Quiet", "added to Next")
    ]


def test_changes_before_the_date_are_left_out(cast):
    old = _create(cast, "Old")
    ActivityLog.objects.filter(object_id=old.pk).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    _create(cast, "New")
    titles = [
        c.title
        for c in roadmap_changes(product=cast.product, since=_since(), visibility="internal")
    ]
    assert titles == ["New"]


def test_public_changes_leave_out_internal_items_and_names(cast):
    public = _create(cast, "Public", visibility=Visibility.PUBLIC)
    secret = _create(cast, "Secret", visibility=Visibility.INTERNAL)
    services.initiative_move(
        initiative=secret,
        horizon=Horizon.NOW,
        above=None,
        below=None,
        expected_version=1,
        actor=cast.pm,
    )
    services.initiative_move(
        initiative=public,
        horizon=Horizon.LATER,
        above=None,
        below=None,
        expected_version=1,
        actor=cast.pm,
    )
    changes = roadmap_changes(product=cast.product, since=_since(), visibility="public")
    assert _kinds(changes) == [
        ("moved", "Public", "moved from Next to Later"),
        ("added", "Public", "added to Next"),
    ]
    assert all(c.actor is None for c in changes)


def test_an_item_made_public_counts_as_added_and_its_internal_past_stays_hidden(cast):
    item = _create(cast, "Was internal", visibility=Visibility.INTERNAL)
    item = services.initiative_move(
        initiative=item,
        horizon=Horizon.NOW,
        above=None,
        below=None,
        expected_version=1,
        actor=cast.pm,
    )
    services.initiative_update(
        initiative=item,
        data={"visibility": Visibility.PUBLIC},
        expected_version=item.version,
        actor=cast.pm,
    )
    changes = roadmap_changes(product=cast.product, since=_since(), visibility="public")
    assert _kinds(changes) == [("added", "Was internal", "added to the public roadmap")]


def test_releases_report_shipping_and_new_dates(cast):
    release = ReleaseFactory(product=cast.product, name="R1")
    release = services.release_update(
        release=release,
        data={"target_date": release.target_date + timedelta(days=14)},
        expected_version=1,
        actor=cast.pm,
    )
    services.release_ship(release=release, expected_version=release.version, actor=cast.pm)
    kinds = [
        c.kind for c in roadmap_changes(product=cast.product, since=_since(), visibility="public")
    ]
    assert kinds == ["shipped", "redated"]


def test_the_page_defaults_to_the_last_seven_days_and_accepts_a_date(cast):
    _create(cast, "Fresh", visibility=Visibility.PUBLIC)
    client = cast.client("stakeholder")
    url = reverse("roadmap_changes", args=[cast.product.key])
    page = client.get(url).content.decode()
    week_ago = timezone.localdate() - timedelta(days=7)
    assert f"since {week_ago.day} {week_ago:%b %Y}" in page
    assert "Fresh" in page
    tomorrowish = client.get(url, {"since": timezone.localdate().isoformat()}).content.decode()
    assert "Fresh" in tomorrowish
    nonsense = client.get(url, {"since": "yesterday-ish"})
    assert nonsense.status_code == 200


def test_the_digest_section_reports_the_period_for_each_role(cast):
    from django.template.loader import render_to_string

    from roadmap.digests import roadmap_section_build

    start = timezone.now() - timedelta(minutes=1)
    _create(cast, "Public plan", visibility=Visibility.PUBLIC)
    _create(cast, "SENTINEL-digest internal plan", visibility=Visibility.INTERNAL)
    end = timezone.now()
    _create(cast, "After the period", visibility=Visibility.PUBLIC)
    team = roadmap_section_build(product=cast.product, since=start, until=end, role="engineer")
    public = roadmap_section_build(product=cast.product, since=start, until=end, role="stakeholder")
    assert [c.title for c in team["changes"]] == ["SENTINEL-digest internal plan", "Public plan"]
    assert [c.title for c in public["changes"]] == ["Public plan"]
    for name in ("html", "txt"):
        text = render_to_string(f"roadmap/email/section_roadmap.{name}", {"section": public})
        assert "Public plan" in text and "SENTINEL" not in text and "/roadmap/changes/" in text
    quiet_start = timezone.now() + timedelta(hours=1)
    assert (
        roadmap_section_build(
            product=cast.product,
            since=quiet_start,
            until=quiet_start + timedelta(days=1),
            role="pm",
        )
        is None
    )
