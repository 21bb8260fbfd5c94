"""Timeline, board, what-changed, releases and the public page run a constant number of SQL
queries whatever the number of initiatives (measured at 5 and 80)."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from backlog.choices import StoryStatus
from roadmap import services
from roadmap.choices import Horizon, Visibility
from roadmap.models import Initiative, Release
from tests.backlog.factories import FeatureFactory, SprintFactory, StoryFactory
from tests.factories import ObjectiveFactory, ThemeFactory
from tests.roadmap.factories import make_share_link

pytestmark = pytest.mark.django_db

SIZES = [5, 80]


def _fill(cast, n: int) -> None:
    """n initiatives over themes, horizons and 8 quarters, each with objectives and features,
    n/5 releases with features, and n logged moves for "what changed"."""
    product = cast.product
    themes = [ThemeFactory(product=product) for _ in range(4)]
    objectives = [ObjectiveFactory.create(product=product, theme=t) for t in themes]
    features = [FeatureFactory.create(product=product) for _ in range(8)]
    for feature in features:  # open work, and a finished sprint's velocity to forecast it with
        StoryFactory(feature=feature, points=3)
    done_sprint = SprintFactory(
        product=product,
        start=date.today() - timedelta(days=20),
        end=date.today() - timedelta(days=7),
    )
    StoryFactory(feature=features[0], sprint=done_sprint, points=5, status=StoryStatus.DONE)
    horizons = list(Horizon)
    for i in range(n):
        start = date(2026, 1 + 3 * (i % 4), 1) + timedelta(days=365 * (i % 2))
        initiative = services.initiative_create(
            product=product,
            data={
                "title": f"Initiative {i}",
                "theme": themes[i % 4],
                "horizon": horizons[i % 3],
                "visibility": Visibility.PUBLIC if i % 4 else Visibility.INTERNAL,
                "start": start,
                "end": start + timedelta(days=170),
                "internal_notes": "Internal",
            },
            objectives=[objectives[i % 4]],
            features=features[i % 8 : i % 8 + 2],
            actor=cast.pm,
        )
        services.initiative_move(
            initiative=initiative,
            horizon=horizons[(i + 1) % 3],
            above=None,
            below=None,
            expected_version=initiative.version,
            actor=cast.pm,
        )
    for j in range(max(1, n // 5)):
        services.release_create(
            product=product,
            data={
                "name": f"Release {j}",
                "target_date": date(2026, 12, 1) + timedelta(days=30 * j),
            },
            features=features[j % 8 : j % 8 + 3],
            actor=cast.pm,
        )
    assert Initiative.objects.filter(product=product).count() == n


# Timeline, for a PM:
#    1 session   2 user   3 product + workspace   4 the user's memberships (role check)
#    5 themes and 6 objectives for the filter menus
#    7 initiatives with their themes and feature counts (one query, annotate)
#    8 releases (markers)
#    then the base layout's own: 9 navigation memberships with workspaces, 10 the workspace's
#    products, 11 the unread-notification count
TIMELINE_MAX = 11
# The team's timeline adds the delivery forecast: 12 finished sprints' velocity, 13 the running
# sprint, 14 the open stories in backlog order, 15–16 open initiatives with their features,
# 17–18 unshipped releases with theirs (the simulation itself is cached, no SQL).
TEAM_TIMELINE_MAX = TIMELINE_MAX + 7
# Board: the same without the releases.
BOARD_MAX = 10
# What changed: 1–4, 5 activity entries with actors, 6 their initiatives, 7 their releases,
# 8–10 the layout.
CHANGES_MAX = 10
# Releases: 1–4, 5 releases with feature counts, 6 their features (one prefetch), 7–9 the layout.
RELEASES_MAX = 9
# Public page or JSON, nothing cached yet: 1 the share link by token hash, 2 the product,
# 3 public initiatives with themes, 4 public releases, 5–7 the last 30 days' public changes
# (entries, their initiatives, their releases), 8 last_used_at (at most once a minute).
PUBLIC_COLD_MAX = 8
# Public page again within the minute: the link's state (read on every request, so a revocation
# is effective at once); data and page come from the cache.
PUBLIC_WARM_MAX = 1


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(
    ("name", "limit", "query"),
    [
        ("roadmap", TEAM_TIMELINE_MAX, {}),
        ("roadmap", TEAM_TIMELINE_MAX, {"status": "planned", "theme": "none", "scale": "quarter"}),
        ("roadmap_board", BOARD_MAX, {}),
        ("roadmap_changes", CHANGES_MAX, {}),
        ("releases", RELEASES_MAX, {}),
    ],
)
def test_team_pages_run_a_constant_number_of_queries(
    cast, django_assert_max_num_queries, n, name, limit, query
):
    _fill(cast, n)
    client = cast.client("pm")
    url = reverse(name, args=[cast.product.key])
    client.get(url)  # the first view may store the current workspace in the session
    with django_assert_max_num_queries(limit):
        response = client.get(url, query)
    assert response.status_code == 200
    if name in ("roadmap", "roadmap_board") and not query:
        assert (
            response.content.decode().count(
                'data-testid="timeline-row"' if name == "roadmap" else 'data-testid="card"'
            )
            == n
        )


@pytest.mark.parametrize("n", SIZES)
def test_the_stakeholder_timeline_runs_a_constant_number_of_queries(
    cast, django_assert_max_num_queries, n
):
    _fill(cast, n)
    client = cast.client("stakeholder")
    url = reverse("roadmap", args=[cast.product.key])
    client.get(url)
    with django_assert_max_num_queries(TIMELINE_MAX):
        response = client.get(url)
    public = Initiative.objects.filter(visibility=Visibility.PUBLIC).count()
    assert response.content.decode().count('data-testid="timeline-row"') == public


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", ["share_roadmap", "api_public_roadmap"])
def test_the_public_page_runs_a_constant_number_of_queries(
    cast, django_assert_max_num_queries, n, name
):
    _fill(cast, n)
    _link, token = make_share_link(cast.product, cast.pm)
    url = reverse(name, args=[token])
    client = Client()
    with django_assert_max_num_queries(PUBLIC_COLD_MAX):
        cold = client.get(url)
    with django_assert_max_num_queries(PUBLIC_WARM_MAX):
        warm = client.get(url)
    assert cold.status_code == warm.status_code == 200
    assert cold.content == warm.content
    assert Release.objects.count() >= 1
