"""Writes: activity log, versions and conflicts, moves that write one row, shipping releases."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backlog.choices import FeatureStatus
from pm.models import ActivityLog
from pm.services import EditConflict
from roadmap import services
from roadmap.choices import Horizon, InitiativeStatus, Precision
from roadmap.models import Initiative
from tests.backlog.factories import FeatureFactory
from tests.factories import ObjectiveFactory, ProductFactory, ThemeFactory
from tests.roadmap.factories import InitiativeFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


def _column(product, horizon):
    return list(
        Initiative.objects.filter(product=product, horizon=horizon)
        .order_by("rank")
        .values_list("title", flat=True)
    )


def test_create_logs_fields_and_links_and_goes_to_the_bottom_of_its_column(cast):
    theme = ThemeFactory(product=cast.product, name="Trust")
    objective = ObjectiveFactory(product=cast.product, theme=theme)
    feature = FeatureFactory(product=cast.product, title="Share links")
    first = services.initiative_create(
        product=cast.product, data={"title": "First", "horizon": Horizon.NOW}, actor=cast.pm
    )
    second = services.initiative_create(
        product=cast.product,
        data={
            "title": "Second",
            "horizon": Horizon.NOW,
            "theme": theme,
            "start": date(2027, 1, 1),
            "end": date(2027, 3, 31),
        },
        objectives=[objective],
        features=[feature],
        actor=cast.pm,
    )
    assert _column(cast.product, Horizon.NOW) == ["First", "Second"]
    assert first.rank < second.rank
    entry = ActivityLog.objects.get(object_type="roadmap.initiative", object_id=second.pk)
    assert entry.changes["theme"] == [None, "Trust"]
    assert entry.changes["features"] == [None, "Share links"]
    assert "rank" not in entry.changes
    assert list(second.features.all()) == [feature]


def test_features_of_another_product_cannot_be_linked(cast):
    other = FeatureFactory(product=ProductFactory())
    with pytest.raises(ValidationError):
        services.initiative_create(
            product=cast.product, data={"title": "X"}, features=[other], actor=cast.pm
        )


def test_an_end_before_the_start_is_refused(cast):
    with pytest.raises(ValidationError):
        services.initiative_create(
            product=cast.product,
            data={"title": "X", "start": date(2027, 4, 1), "end": date(2027, 3, 31)},
            actor=cast.pm,
        )


def test_a_stale_edit_is_refused_and_nothing_is_overwritten(cast):
    initiative = InitiativeFactory(product=cast.product, title="Original")
    services.initiative_update(
        initiative=initiative, data={"title": "Theirs"}, expected_version=1, actor=cast.admin
    )
    with pytest.raises(EditConflict) as conflict:
        services.initiative_update(
            initiative=initiative, data={"title": "Mine"}, expected_version=1, actor=cast.pm
        )
    initiative.refresh_from_db()
    assert initiative.title == "Theirs"
    assert initiative.version == 2
    assert "Theirs" in conflict.value.message()


def test_changing_only_the_linked_features_bumps_the_version_and_is_logged(cast):
    initiative = InitiativeFactory(product=cast.product)
    feature = FeatureFactory(product=cast.product, title="Digest")
    updated = services.initiative_update(
        initiative=initiative, data={}, features=[feature], expected_version=1, actor=cast.pm
    )
    assert updated.version == 2
    entry = ActivityLog.objects.filter(object_id=initiative.pk).latest("id")
    assert entry.changes == {"features": [None, "Digest"]}


def test_a_move_between_columns_lands_between_its_neighbours_and_writes_one_row(cast):
    now = [InitiativeFactory(product=cast.product, horizon=Horizon.NOW, title=t) for t in "AB"]
    moving = InitiativeFactory(product=cast.product, horizon=Horizon.NEXT, title="M")
    with CaptureQueriesContext(connection) as ctx:
        services.initiative_move(
            initiative=moving,
            horizon=Horizon.NOW,
            above=now[0],
            below=now[1],
            expected_version=moving.version,
            actor=cast.pm,
        )
    writes = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("UPDATE") and "roadmap_initiative" in q["sql"]
    ]
    assert len(writes) == 1
    assert _column(cast.product, Horizon.NOW) == ["A", "M", "B"]
    assert _column(cast.product, Horizon.NEXT) == []
    entry = ActivityLog.objects.filter(object_id=moving.pk).latest("id")
    assert entry.changes == {"horizon": ["Next", "Now"]}


def test_a_move_to_the_top_and_into_an_empty_column(cast):
    a, b = (InitiativeFactory(product=cast.product, horizon=Horizon.NOW, title=t) for t in "AB")
    services.initiative_move(
        initiative=b, horizon=Horizon.NOW, above=None, below=a, expected_version=1, actor=cast.pm
    )
    assert _column(cast.product, Horizon.NOW) == ["B", "A"]
    services.initiative_move(
        initiative=a,
        horizon=Horizon.LATER,
        above=None,
        below=None,
        expected_version=1,
        actor=cast.pm,
    )
    assert _column(cast.product, Horizon.LATER) == ["A"]


def test_a_move_with_a_stale_version_is_refused(cast):
    initiative = InitiativeFactory(product=cast.product, horizon=Horizon.NEXT)
    services.initiative_update(
        initiative=initiative, data={"horizon": Horizon.LATER}, expected_version=1, actor=cast.pm
    )
    with pytest.raises(EditConflict):
        services.initiative_move(
            initiative=initiative,
            horizon=Horizon.NOW,
            above=None,
            below=None,
            expected_version=1,
            actor=cast.admin,
        )
    initiative.refresh_from_db()
    assert initiative.horizon == Horizon.LATER


def test_editing_the_horizon_puts_it_at_the_bottom_of_the_new_column(cast):
    InitiativeFactory(product=cast.product, horizon=Horizon.NOW, title="Already there")
    moving = InitiativeFactory(product=cast.product, horizon=Horizon.NEXT, title="Moving")
    services.initiative_update(
        initiative=moving, data={"horizon": Horizon.NOW}, expected_version=1, actor=cast.pm
    )
    assert _column(cast.product, Horizon.NOW) == ["Already there", "Moving"]


def test_shipping_a_release_ships_its_features_through_the_backlog(cast):
    features = [FeatureFactory(product=cast.product) for _ in range(2)]
    already = FeatureFactory(
        product=cast.product,
        status=FeatureStatus.SHIPPED,
        shipped_at=timezone.now() - timedelta(days=90),
    )
    release = ReleaseFactory(product=cast.product)
    release.features.set([*features, already])
    before = already.shipped_at
    services.release_ship(release=release, expected_version=1, actor=cast.pm)
    release.refresh_from_db()
    assert release.shipped_date == timezone.localdate()
    for feature in features:
        feature.refresh_from_db()
        assert feature.status == FeatureStatus.SHIPPED
        assert abs(feature.shipped_at - timezone.now()) < timedelta(minutes=1)
    already.refresh_from_db()
    assert already.shipped_at == before  # an earlier launch date is kept
    assert ActivityLog.objects.filter(
        object_type="backlog.feature", object_id=features[0].pk
    ).exists()


def test_a_release_shipped_on_an_earlier_day_dates_its_features_that_day(cast):
    feature = FeatureFactory(product=cast.product)
    release = ReleaseFactory(product=cast.product)
    release.features.set([feature])
    day = timezone.localdate() - timedelta(days=3)
    services.release_ship(release=release, shipped_on=day, expected_version=1, actor=cast.pm)
    feature.refresh_from_db()
    assert timezone.localtime(feature.shipped_at).date() == day


def test_a_release_ships_once(cast):
    release = ReleaseFactory(product=cast.product)
    shipped = services.release_ship(release=release, expected_version=1, actor=cast.pm)
    with pytest.raises(ValidationError):
        services.release_ship(release=shipped, expected_version=shipped.version, actor=cast.pm)


def test_shipping_a_stale_release_is_refused(cast):
    release = ReleaseFactory(product=cast.product)
    services.release_update(
        release=release, data={"name": "Renamed"}, expected_version=1, actor=cast.pm
    )
    with pytest.raises(EditConflict):
        services.release_ship(release=release, expected_version=1, actor=cast.pm)


def test_initiative_status_and_precision_are_kept(cast):
    initiative = services.initiative_create(
        product=cast.product,
        data={
            "title": "Dated",
            "status": InitiativeStatus.IN_PROGRESS,
            "start": date(2027, 2, 1),
            "start_precision": Precision.MONTH,
            "end": date(2027, 6, 30),
            "end_precision": Precision.QUARTER,
        },
        actor=cast.pm,
    )
    assert initiative.timeframe == "Feb 2027 – 2027 Q2"
