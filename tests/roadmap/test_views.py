"""The roadmap pages as a user meets them: forms, conflicts, the board's moves, filters,
read-only roles, the feature panel and the demo data."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from pm.models import ActivityLog
from roadmap import services
from roadmap.choices import Horizon, Precision, Visibility
from roadmap.models import Initiative, Release
from tests.backlog.factories import FeatureFactory
from tests.factories import ObjectiveFactory, ThemeFactory
from tests.roadmap.factories import InitiativeFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


def _url(name, cast, *args):
    return reverse(name, args=[cast.product.key, *args])


def _form(**overrides):
    data = {
        "title": "Mobile app",
        "status": "planned",
        "horizon": "next",
        "confidence": "medium",
        "visibility": "public",
        "start_period": "2027 Q2",
        "end_period": "Sep 2027",
        "description": "",
        "internal_notes": "",
    }
    data.update(overrides)
    return data


def test_a_pm_creates_an_initiative_with_month_and_quarter_dates(cast):
    theme = ThemeFactory(product=cast.product)
    objective = ObjectiveFactory(product=cast.product)
    feature = FeatureFactory(product=cast.product)
    response = cast.client("pm").post(
        _url("initiative_new", cast),
        _form(theme=theme.pk, objectives=[objective.pk], features=[feature.pk]),
    )
    initiative = Initiative.objects.get(title="Mobile app")
    assert response.status_code == 302
    assert response["Location"] == _url("initiative_detail", cast, initiative.pk)
    assert (initiative.start, initiative.start_precision) == (date(2027, 4, 1), Precision.QUARTER)
    assert (initiative.end, initiative.end_precision) == (date(2027, 9, 30), Precision.MONTH)
    assert initiative.timeframe == "2027 Q2 – Sep 2027"
    assert list(initiative.features.all()) == [feature]
    assert list(initiative.objectives.all()) == [objective]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"start_period": "spring"}, "start_period", "is not a month or a quarter"),
        ({"end_period": ""}, "end_period", "Give both a start and an end"),
        ({"start_period": "2027 Q3", "end_period": "2027-01"}, "end_period", "must not be before"),
        ({"title": ""}, "title", "This field is required"),
    ],
)
def test_bad_input_is_explained_beside_the_field(cast, overrides, field, message):
    response = cast.client("pm").post(_url("initiative_new", cast), _form(**overrides))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_{field}_errors"' in html
    assert message in html.split(f'id="id_{field}_errors"')[1][:300]
    assert not Initiative.objects.exists()


def test_a_conflicting_edit_is_shown_and_nothing_is_overwritten(cast):
    initiative = InitiativeFactory(product=cast.product, title="Original")
    form = cast.client("pm").get(_url("initiative_edit", cast, initiative.pk)).content.decode()
    assert 'name="version" value="1"' in form
    services.initiative_update(
        initiative=initiative, data={"title": "Admin's title"}, expected_version=1, actor=cast.admin
    )
    response = cast.client("pm").post(
        _url("initiative_edit", cast, initiative.pk), _form(title="PM's title", version=1)
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else saved this while you were editing" in html
    assert "Admin&#x27;s title" in html or "Admin's title" in html
    assert 'name="version" value="2"' in html  # saving again is a deliberate choice
    initiative.refresh_from_db()
    assert initiative.title == "Admin's title"


def test_the_board_move_endpoint_persists_a_drop_and_returns_the_board(cast):
    now = InitiativeFactory(product=cast.product, horizon=Horizon.NOW, title="Now item")
    moving = InitiativeFactory(product=cast.product, horizon=Horizon.NEXT, title="Moving")
    response = cast.client("pm").post(
        _url("initiative_move", cast, moving.pk),
        {"horizon": "now", "version": 1, "above": "", "below": now.pk},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "moved to Now" in response["HX-Trigger"]
    moving.refresh_from_db()
    assert moving.version == 2
    for board in (
        response.content.decode(),
        cast.client("pm").get(_url("roadmap_board", cast)).content.decode(),
    ):
        now_column = board.split('data-testid="column-now"')[1].split("</ol>")[0]
        assert now_column.index("Moving") < now_column.index("Now item")


def test_a_stale_drop_gets_409_and_changes_nothing(cast):
    moving = InitiativeFactory(product=cast.product, horizon=Horizon.NEXT)
    services.initiative_update(
        initiative=moving, data={"title": "Renamed"}, expected_version=1, actor=cast.admin
    )
    response = cast.client("pm").post(
        _url("initiative_move", cast, moving.pk),
        {"horizon": "now", "version": 1},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    assert "Someone else saved this" in response["HX-Trigger"]
    # The board as saved comes with it (the page swaps it in): the card is still in Next.
    next_column = response.content.decode().split('data-testid="column-next"')[1]
    assert "Renamed" in next_column.split("</ol>")[0]
    moving.refresh_from_db()
    assert moving.horizon == Horizon.NEXT


def test_a_bad_drop_gets_400_not_500(cast):
    moving = InitiativeFactory(product=cast.product)
    response = cast.client("pm").post(
        _url("initiative_move", cast, moving.pk),
        {"horizon": "someday", "version": "x"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert "horizon" in response.content.decode() and "version" in response.content.decode()


def test_the_move_to_buttons_rerender_the_board(cast):
    moving = InitiativeFactory(product=cast.product, horizon=Horizon.LATER, title="Button move")
    response = cast.client("pm").post(
        _url("initiative_move", cast, moving.pk),
        {"horizon": "now", "version": 1},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Button move" in html.split('data-testid="column-now"')[1].split("</ol>")[0]
    assert "moved to Now" in response["HX-Trigger"]


def test_filters_narrow_both_views(cast):
    theme = ThemeFactory(product=cast.product, name="Growth")
    objective = ObjectiveFactory(product=cast.product)
    match = InitiativeFactory(product=cast.product, title="Matches", theme=theme)
    match.objectives.set([objective])
    InitiativeFactory(
        product=cast.product, title="Other theme", theme=ThemeFactory(product=cast.product)
    )
    InitiativeFactory(product=cast.product, title="Wrong status", theme=theme, status="shipped")
    query = {"theme": theme.pk, "status": "planned", "objective": objective.pk}
    client = cast.client("engineer")
    for name in ("roadmap", "roadmap_board"):
        html = client.get(_url(name, cast), query).content.decode()
        assert "Matches" in html
        assert "Other theme" not in html and "Wrong status" not in html
    partial = client.get(_url("roadmap", cast), {"theme": "none"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode()
    assert "No initiatives match these filters" in partial.content.decode()


def test_read_only_roles_get_no_edit_controls(cast):
    InitiativeFactory(product=cast.product)
    for role in ("engineer", "stakeholder"):
        client = cast.client(role)
        board = client.get(_url("roadmap_board", cast)).content.decode()
        assert "data-sortable-form" not in board and "Sortable.min.js" not in board
        assert "New initiative" not in client.get(_url("roadmap", cast)).content.decode()
    pm_board = cast.client("pm").get(_url("roadmap_board", cast)).content.decode()
    assert "data-sortable-form" in pm_board and "Sortable.min.js" in pm_board


def test_the_timeline_places_bars_with_classes_not_styles(cast):
    InitiativeFactory(
        product=cast.product, start=date(2027, 1, 1), end=date(2027, 6, 30), title="Dated"
    )
    InitiativeFactory(product=cast.product, start=None, end=None, title="Undated")
    ReleaseFactory(product=cast.product, name="Launch", target_date=date(2027, 2, 15))
    html = cast.client("pm").get(_url("roadmap", cast)).content.decode()
    assert "style=" not in html
    assert 'class="tl-bar c-' in html and " s-6 " in html  # Jan–Jun 2027: six months
    assert "Not scheduled yet" in html
    assert "Launch" in html and 'data-testid="today-line"' in html
    assert html.count('class="tl-quarter') >= 8


def test_shipping_from_the_releases_page(cast):
    feature = FeatureFactory(product=cast.product)
    release = ReleaseFactory(product=cast.product, name="R2")
    release.features.set([feature])
    response = cast.client("pm").post(
        _url("release_ship", cast, release.pk), {"version": 1}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "shipped with 1 feature" in response["HX-Trigger"]
    release.refresh_from_db()
    feature.refresh_from_db()
    assert release.shipped_date is not None and feature.shipped_at is not None


def test_the_feature_panel_lists_the_initiatives_and_releases_holding_a_feature(cast, rf):
    from django.template.loader import render_to_string

    from roadmap import panels

    feature = FeatureFactory(product=cast.product)
    public = InitiativeFactory(product=cast.product, title="Visible plan")
    internal = InitiativeFactory(
        product=cast.product, title="Hidden plan", visibility=Visibility.INTERNAL
    )
    public.features.set([feature])
    internal.features.set([feature])
    ReleaseFactory(product=cast.product, name="Carrying release").features.set([feature])
    for role, hidden_shown in (("engineer", True), ("stakeholder", False)):
        request = rf.get("/")
        request.user = cast.user(role)
        html = render_to_string(
            "roadmap/panels/feature.html", {"panel": panels.feature(request, feature)}
        )
        assert "Visible plan" in html and "Carrying release" in html
        assert ("Hidden plan" in html) is hidden_shown


def test_load_demo_adds_a_roadmap_once(db):
    call_command("load_demo", stdout=io.StringIO())
    initiatives = Initiative.objects.count()
    releases = Release.objects.count()
    roadmap_log = ActivityLog.objects.filter(object_type__startswith="roadmap.")
    log = roadmap_log.count()
    assert initiatives == 12 and releases == 3
    starts = {i.start for i in Initiative.objects.all()}
    quarters = {(d.year, (d.month - 1) // 3) for d in starts}
    assert len(quarters) >= 5  # spread over about six quarters
    call_command("load_demo", stdout=io.StringIO())
    assert (Initiative.objects.count(), Release.objects.count()) == (initiatives, releases)
    assert roadmap_log.count() == log  # a second run changes nothing
