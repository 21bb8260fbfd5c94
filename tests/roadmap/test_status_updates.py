"""Initiative status updates and OKR health: posted by PMs, shown on the initiative, the roadmap,
the overview and in digests, to whoever sees the initiative."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pm.models import ActivityLog
from roadmap import services
from roadmap.choices import Health, InitiativeStatus, Visibility
from roadmap.digests import status_section_build
from roadmap.models import InitiativeUpdate
from tests.factories import KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def _initiative(cast, title, *, visibility=Visibility.PUBLIC, objectives=(), status=None):
    data = {
        "title": title,
        "visibility": visibility,
        "start": date.today().replace(day=1),
        "end": date.today() + timedelta(days=90),
    }
    if status:
        data["status"] = status
    return services.initiative_create(
        product=cast.product, data=data, objectives=list(objectives), features=[], actor=cast.pm
    )


def _post(cast, initiative, status, note="", role="pm"):
    return cast.client(role).post(
        reverse("initiative_post_update", args=["LOD", initiative.pk]),
        {"status": status, "note": note},
    )


def test_a_pm_posts_an_update_and_it_becomes_the_initiatives_health(cast):
    initiative = _initiative(cast, "Dark mode")
    response = _post(cast, initiative, "at_risk", "Design review slipped a week.")
    assert response.status_code == 302
    page = cast.client("pm").get(response["Location"]).content.decode()
    assert 'data-testid="initiative-health">At risk<' in page
    assert "Design review slipped a week." in page
    entry = ActivityLog.objects.get(object_type="roadmap.initiativeupdate")
    assert entry.actor == cast.pm and entry.changes["status"][1] == "At risk"
    timeline = cast.client("pm").get(reverse("roadmap", args=["LOD"])).content.decode()
    assert 'data-testid="timeline-health">At risk<' in timeline
    board = cast.client("pm").get(reverse("roadmap_board", args=["LOD"])).content.decode()
    assert 'data-testid="card-health">At risk<' in board


def test_the_latest_update_wins(cast):
    initiative = _initiative(cast, "Dark mode")
    _post(cast, initiative, "off_track", "Blocked on the design system.")
    _post(cast, initiative, "on_track")
    page = cast.client("pm").get(reverse("initiative_detail", args=["LOD", initiative.pk]))
    assert 'data-testid="initiative-health">On track<' in page.content.decode()
    assert page.content.decode().count('data-testid="status-update"') == 2


def test_at_risk_without_a_reason_is_refused_next_to_the_note(cast):
    initiative = _initiative(cast, "Dark mode")
    response = _post(cast, initiative, "off_track", "   ")
    assert response.status_code == 200
    assert "Say why it is at risk or off track" in response.content.decode()
    assert not InitiativeUpdate.objects.exists()


def test_an_unknown_status_is_refused(cast):
    initiative = _initiative(cast, "Dark mode")
    response = _post(cast, initiative, "fine\x00")
    assert response.status_code in (200, 400)
    assert not InitiativeUpdate.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"), [("engineer", 403), ("stakeholder", 403), ("outsider", 404)]
)
def test_only_pms_and_admins_post_updates(cast, role, status):
    initiative = _initiative(cast, "Dark mode")
    assert _post(cast, initiative, "on_track", role=role).status_code == status
    assert not InitiativeUpdate.objects.exists()


def test_anonymous_posts_are_sent_to_sign_in(cast):
    initiative = _initiative(cast, "Dark mode")
    response = _post(cast, initiative, "on_track", role="anonymous")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_admins_post_updates(cast):
    initiative = _initiative(cast, "Dark mode")
    assert _post(cast, initiative, "on_track", role="admin").status_code == 302


def test_stakeholders_read_updates_on_public_initiatives_only(cast):
    public = _initiative(cast, "Public work")
    internal = _initiative(cast, "Secret work", visibility=Visibility.INTERNAL)
    services.initiative_post_update(
        initiative=public, status=Health.AT_RISK, note="Visible note", actor=cast.pm
    )
    services.initiative_post_update(
        initiative=internal, status=Health.OFF_TRACK, note="Hidden note", actor=cast.pm
    )
    client = cast.client("stakeholder")
    page = client.get(reverse("initiative_detail", args=["LOD", public.pk])).content.decode()
    assert "Visible note" in page and 'data-testid="status-update-form"' not in page
    assert client.get(reverse("initiative_detail", args=["LOD", internal.pk])).status_code == 404
    overview = client.get(reverse("product_overview", args=["LOD"])).content.decode()
    assert (
        "Public work" in overview
        and "Secret work" not in overview
        and "Hidden note" not in overview
    )


def test_objectives_roll_up_key_results_and_their_initiatives_health(cast):
    objective = ObjectiveFactory(product=cast.product, title="Win mid-market")
    KeyResultFactory(objective=objective, start_value=0, target_value=100, current_value=40)
    a = _initiative(cast, "Initiative A", objectives=[objective])
    b = _initiative(cast, "Initiative B", objectives=[objective])
    services.initiative_post_update(initiative=a, status=Health.ON_TRACK, note="", actor=cast.pm)
    services.initiative_post_update(
        initiative=b, status=Health.AT_RISK, note="Vendor late", actor=cast.pm
    )
    page = cast.client("pm").get(reverse("product_overview", args=["LOD"])).content.decode()
    panel = page.split('data-testid="okr-health"')[1]
    assert 'data-testid="okr-rollup">At risk<' in panel
    assert "40% of key results" in panel
    assert "2 initiatives: 1 on track, 1 at risk" in panel
    assert "Vendor late" in panel.split('data-testid="okr-troubled"')[1]


def test_work_in_progress_without_a_recent_update_is_due_one_for_the_team(cast):
    stale = _initiative(cast, "Stale work", status=InitiativeStatus.IN_PROGRESS)
    fresh = _initiative(cast, "Fresh work", status=InitiativeStatus.IN_PROGRESS)
    old = services.initiative_post_update(
        initiative=stale, status=Health.ON_TRACK, note="", actor=cast.pm
    )
    InitiativeUpdate.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=20)
    )
    services.initiative_post_update(
        initiative=fresh, status=Health.ON_TRACK, note="", actor=cast.pm
    )
    page = cast.client("pm").get(reverse("product_overview", args=["LOD"])).content.decode()
    due = page.split('data-testid="okr-due"')[1].split("</p>")[0]
    assert "Stale work" in due and "Fresh work" not in due
    stakeholder = cast.client("stakeholder").get(reverse("product_overview", args=["LOD"]))
    assert 'data-testid="okr-due"' not in stakeholder.content.decode()


def test_the_digest_lists_the_periods_updates_worst_first_for_the_readers_audience(cast):
    public = _initiative(cast, "Public work")
    internal = _initiative(cast, "Secret work", visibility=Visibility.INTERNAL)
    since = timezone.now() - timedelta(days=1)
    services.initiative_post_update(
        initiative=public, status=Health.ON_TRACK, note="Fine", actor=cast.pm
    )
    services.initiative_post_update(
        initiative=internal, status=Health.OFF_TRACK, note="Hidden", actor=cast.pm
    )
    until = timezone.now() + timedelta(seconds=1)
    team = status_section_build(product=cast.product, since=since, until=until, role="pm")
    assert [u["title"] for u in team["updates"]] == ["Secret work", "Public work"]
    outside = status_section_build(
        product=cast.product, since=since, until=until, role="stakeholder"
    )
    assert [u["title"] for u in outside["updates"]] == ["Public work"]
    later = status_section_build(
        product=cast.product, since=until, until=until + timedelta(days=1), role="pm"
    )
    assert later is None


@pytest.mark.parametrize("n", [3, 40])
def test_the_okr_panel_runs_a_constant_number_of_queries(cast, django_assert_max_num_queries, n):
    from pm.permissions import get_product_for_user
    from roadmap.panels import okr_health

    objectives = [ObjectiveFactory(product=cast.product) for _ in range(n)]
    for i in range(n):
        initiative = _initiative(
            cast, f"I{i}", objectives=objectives[i : i + 2], status=InitiativeStatus.IN_PROGRESS
        )
        services.initiative_post_update(
            initiative=initiative, status=Health.AT_RISK, note="why", actor=cast.pm
        )
    product = get_product_for_user(cast.pm, "LOD")
    with django_assert_max_num_queries(5):
        panel = okr_health(None, product)
    assert len(panel["objectives"]) == n and len(panel["troubled"]) == n


def test_a_retried_update_posts_once_but_the_same_words_later_are_a_new_update(cast):
    initiative = _initiative(cast, "Dark mode")
    for _ in range(2):  # a double click
        _post(cast, initiative, "on_track", "Going well.")
    assert InitiativeUpdate.objects.filter(initiative=initiative).count() == 1
    _post(cast, initiative, "on_track", "Going well.", role="admin")  # someone else: their own
    assert InitiativeUpdate.objects.filter(initiative=initiative).count() == 2
    InitiativeUpdate.objects.update(created_at=timezone.now() - timedelta(days=7))
    _post(cast, initiative, "on_track", "Going well.", role="admin")  # next week's check-in
    assert InitiativeUpdate.objects.filter(initiative=initiative).count() == 3
