"""“Ship now” does not silently mark features shipped while their stories are open: it warns,
lists them, and ships only when the PM says “Ship anyway”."""

import pytest
from django.urls import reverse

from backlog.choices import FeatureStatus, StoryStatus
from roadmap import services
from tests.backlog.factories import FeatureFactory, StoryFactory
from tests.pm.helpers import text_of
from tests.roadmap.factories import ReleaseFactory

HTMX = {"HX-Request": "true"}


@pytest.fixture
def release(cast):
    """One feature with 12 of 15 points open, one finished."""
    jira = FeatureFactory(product=cast.product, title="Jira sync")
    StoryFactory(feature=jira, points=3, status=StoryStatus.DONE, title="Map fields")
    StoryFactory(feature=jira, points=8, status=StoryStatus.IN_PROGRESS, title="Two-way sync")
    StoryFactory(feature=jira, points=2, status=StoryStatus.TODO, title="Conflict rules")
    StoryFactory(feature=jira, points=2, status=StoryStatus.IN_REVIEW, title="Docs")
    done = FeatureFactory(product=cast.product, title="CSV export")
    StoryFactory(feature=done, points=5, status=StoryStatus.DONE)
    release = ReleaseFactory(product=cast.product, name="2026.12")
    release.features.set([jira, done])
    return release


def _ship(cast, release, **extra):
    return cast.client("pm").post(
        reverse("release_ship", args=[cast.product.key, release.pk]),
        {"version": release.version, **extra},
        headers=HTMX,
    )


def test_ship_now_with_open_stories_warns_lists_them_and_ships_nothing(cast, release):
    response = _ship(cast, release)

    assert response.status_code == 200
    assert '"level": "warning"' in response.headers["HX-Trigger"]
    html = response.content.decode()
    assert 'data-testid="ship-warning"' in html
    warning = text_of(html)
    assert "1 feature still has open stories" in warning
    assert "Jira sync — 12 of 15 points open" in warning
    assert "Two-way sync" in warning and "Conflict rules" in warning and "Docs" in warning
    assert "Map fields" not in warning  # done stories are not listed
    assert "CSV export —" not in warning
    release.refresh_from_db()
    assert release.shipped_date is None
    assert not release.features.filter(status=FeatureStatus.SHIPPED).exists()


def test_ship_anyway_ships_the_release_and_its_features(cast, release):
    response = _ship(cast, release, with_open_work="1")

    assert response.status_code == 200
    assert "shipped with 2 features" in response.headers["HX-Trigger"]
    release.refresh_from_db()
    assert release.shipped_date is not None
    assert release.features.filter(status=FeatureStatus.SHIPPED).count() == 2


def test_a_release_whose_stories_are_done_ships_at_once(cast):
    feature = FeatureFactory(product=cast.product)
    StoryFactory(feature=feature, status=StoryStatus.DONE)
    release = ReleaseFactory(product=cast.product)
    release.features.set([feature])

    response = _ship(cast, release)

    assert "shipped with 1 feature" in response.headers["HX-Trigger"]
    release.refresh_from_db()
    assert release.shipped_date is not None


def test_without_javascript_the_warning_is_shown_on_the_page(cast, release):
    response = cast.client("pm").post(
        reverse("release_ship", args=[cast.product.key, release.pk]), {"version": 1}
    )
    assert response.status_code == 200
    assert "12 of 15 points open" in text_of(response.content)


def test_the_service_refuses_open_work_unless_told_to_ship_anyway(cast, release):
    with pytest.raises(services.ReleaseHasOpenWork) as refused:
        services.release_ship(release=release, expected_version=1, actor=cast.pm)
    assert [f.title for f in refused.value.features] == ["Jira sync"]
    assert "(12 of 15 points open)" in refused.value.message


def test_listing_open_work_takes_the_same_queries_for_more_features(
    cast, django_assert_max_num_queries
):
    from backlog.selectors import features_with_open_stories

    for n in (2, 8):
        release = ReleaseFactory(product=cast.product)
        features = [FeatureFactory(product=cast.product) for _ in range(n)]
        for feature in features:
            StoryFactory(feature=feature, status=StoryStatus.TODO)
            StoryFactory(feature=feature, status=StoryStatus.TODO)
        release.features.set(features)
        # 1: the features with their open/total counts, 2: their open stories with products.
        with django_assert_max_num_queries(2):
            listed = features_with_open_stories(release.features.all())
            keys = [s.key for f in listed for s in f.open_story_list]
        assert len(keys) == 2 * n
