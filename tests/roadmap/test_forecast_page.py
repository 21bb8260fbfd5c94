"""The Forecast page and the timeline's chances: what a PM reads from the team's own data."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from backlog.choices import FeatureStatus, StoryStatus
from roadmap import services
from roadmap.choices import Visibility
from tests.backlog.factories import FeatureFactory, SprintFactory, StoryFactory
from tests.roadmap.factories import make_share_link

pytestmark = pytest.mark.django_db


def _history(product, velocities=(10, 10, 10)):
    """Finished two-week sprints, the latest ending yesterday, each with its done points."""
    today = date.today()
    for i, points in enumerate(reversed(velocities)):
        end = today - timedelta(days=1 + 14 * i)
        sprint = SprintFactory(product=product, start=end - timedelta(days=13), end=end)
        if points:
            feature = FeatureFactory(product=product, status=FeatureStatus.SHIPPED)
            StoryFactory(feature=feature, sprint=sprint, points=points, status=StoryStatus.DONE)


def _plan(cast, *, with_revenue=False):
    """Feature A (15 open points) ranked before feature B (20): A is done after 2 sprints at
    10 points a sprint, B after 4. An initiative and a release hold them."""
    product = cast.product
    extra = {}
    if with_revenue:
        extra = {
            "expected_revenue": Decimal(12_000),
            "cost": Decimal(3_000),
            "roi_horizon_months": 12,
        }
    a = FeatureFactory(product=product, title="Feature A", status=FeatureStatus.PLANNED, **extra)
    b = FeatureFactory(product=product, title="Feature B", status=FeatureStatus.PLANNED)
    for _ in range(3):
        StoryFactory(feature=a, points=5)
    for _ in range(4):
        StoryFactory(feature=b, points=5)
    today = date.today()
    services.initiative_create(
        product=product,
        data={
            "title": "Soon and sure",
            "visibility": Visibility.PUBLIC,
            "start": today.replace(day=1),
            "end": today + timedelta(days=200),
        },
        objectives=[],
        features=[a],
        actor=cast.pm,
    )
    services.initiative_create(
        product=product,
        data={
            "title": "Too tight",
            "visibility": Visibility.PUBLIC,
            "start": today.replace(day=1),
            "end": today + timedelta(days=20),
        },
        objectives=[],
        features=[b],
        actor=cast.pm,
    )
    return a, b


def _sprint_end(k: int) -> date:
    """The end of the k-th simulated sprint when no sprint is running: today + 14k − 1."""
    return date.today() + timedelta(days=14 * k - 1)


def test_the_forecast_gives_the_dates_and_chances_the_velocity_implies(cast):
    _history(cast.product)
    _plan(cast)
    response = cast.client("pm").get(reverse("roadmap_forecast", args=["LOD"]))
    assert response.status_code == 200
    rows = {
        r.split("</a>")[0].rsplit(">", 1)[-1]: r
        for r in response.content.decode().split('data-testid="forecast-row"')[1:]
    }
    sure, tight = rows["Soon and sure"], rows["Too tight"]
    assert _sprint_end(2).strftime("%-d %b %Y") in sure  # 15 points at 10 a sprint
    assert ">100%<" in sure
    assert _sprint_end(4).strftime("%-d %b %Y") in tight  # 15 + 20 points ahead
    assert ">0%<" in tight  # due in 20 days: only one sprint ends by then
    assert "10, 10, 10 points" in response.content.decode()


def test_the_timeline_shows_the_team_each_items_chance_but_not_outsiders(cast):
    _history(cast.product)
    _plan(cast)
    url = reverse("roadmap", args=["LOD"])
    team = cast.client("pm").get(url).content.decode()
    assert team.count('data-testid="timeline-forecast"') == 2
    assert "100% by" in team and "0% by" in team
    stakeholder = cast.client("stakeholder").get(url).content.decode()
    assert "timeline-forecast" not in stakeholder and "Forecast" not in stakeholder
    _, token = make_share_link(cast.product, cast.pm)
    public = cast.client("anonymous").get(reverse("share_roadmap", args=[token])).content.decode()
    assert "timeline-forecast" not in public


@pytest.mark.parametrize("role", ["stakeholder", "outsider"])
def test_stakeholders_and_outsiders_cannot_open_the_forecast(cast, role):
    response = cast.client(role).get(reverse("roadmap_forecast", args=["LOD"]))
    assert response.status_code == (403 if role == "stakeholder" else 404)


def test_anonymous_visitors_are_sent_to_sign_in(cast):
    response = cast.client("anonymous").get(reverse("roadmap_forecast", args=["LOD"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_engineers_read_the_forecast(cast):
    assert cast.client("engineer").get(reverse("roadmap_forecast", args=["LOD"])).status_code == 200


def test_without_a_finished_sprint_the_page_says_what_is_missing(cast):
    _plan(cast)
    response = cast.client("pm").get(reverse("roadmap_forecast", args=["LOD"]))
    assert 'data-testid="forecast-empty"' in response.content.decode()
    assert "finished sprint" in response.content.decode()


def test_the_revenue_forecast_books_revenue_from_the_forecast_ship_month(cast):
    _history(cast.product)
    _plan(cast, with_revenue=True)
    response = cast.client("pm").get(
        reverse("roadmap_forecast", args=["LOD"]), {"months": 24, "percentile": 50}
    )
    page = response.content.decode()
    assert 'data-testid="pnl-table"' in page
    # 12,000 over 12 months = 1,000 a month, from the month after Feature A's 50% date.
    ships = _sprint_end(2)
    first_paid = (ships.replace(day=1) + timedelta(days=32)).replace(day=1)
    month = first_paid.strftime("%b %Y")
    assert f'<tr data-testid="pnl-month"><td>{month}</td><td class="num">1,000</td>' in page
    assert "Feature B (no" not in page  # B has no ROI inputs: not listed at all
    assert "Feature A" in page


def test_bad_assumptions_are_shown_next_to_the_field_and_defaults_used(cast):
    _history(cast.product)
    _plan(cast, with_revenue=True)
    response = cast.client("pm").get(reverse("roadmap_forecast", args=["LOD"]), {"months": "999"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "less than or equal to 36" in page
    assert page.count('data-testid="pnl-month"') == 12  # the default window


@pytest.mark.parametrize("n", [2, 30])
def test_the_forecast_page_runs_a_constant_number_of_queries(
    cast, django_assert_max_num_queries, n
):
    _history(cast.product)
    for i in range(n):
        feature = FeatureFactory(
            product=cast.product, status=FeatureStatus.PLANNED, expected_revenue=1000, cost=100
        )
        StoryFactory(feature=feature, points=3)
        services.initiative_create(
            product=cast.product,
            data={
                "title": f"I{i}",
                "visibility": Visibility.INTERNAL,
                "start": date.today(),
                "end": date.today() + timedelta(days=90),
            },
            objectives=[],
            features=[feature],
            actor=cast.pm,
        )
    client = cast.client("pm")
    url = reverse("roadmap_forecast", args=["LOD"])
    client.get(url)
    # 1 session, 2 user, 3 product, 4 membership; 5 finished sprints, 6 running sprint, 7 open
    # stories, 8–9 initiatives with features, 10–11 releases with features, 12 features with ROI
    # inputs; 13–15 the layout (navigation, products, unread count).
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert response.content.decode().count('data-testid="forecast-row"') == n
