"""The Pricing page: plans with their features, competitors' prices, Van Westendorp surveys."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from metrics import price_plans
from metrics.demo_pricing import _survey_csv
from metrics.models import CompetitorPrice, PricePlan, PriceSurvey
from pm.models import ActivityLog
from tests.api.conftest import token_client
from tests.backlog.factories import FeatureFactory
from tests.factories import CompetitorFactory

pytestmark = pytest.mark.django_db

SURVEY = (
    b"too cheap,cheap,expensive,too expensive\n10,20,30,40\n20,30,40,50\n30,40,50,60\n40,50,60,70\n"
)


def _url(name, *args):
    return reverse(name, args=["LOD", *args])


def test_a_pm_adds_a_plan_with_features_and_it_shows_in_the_matrix(cast):
    inbox = FeatureFactory(product=cast.product, title="Unified inbox")
    FeatureFactory(product=cast.product, title="Not in any plan")
    client = cast.client("pm")
    response = client.post(
        _url("plan_new"),
        {
            "name": "Team",
            "currency": "eur",
            "monthly_price": "29",
            "annual_price": "290",
            "features": [inbox.pk],
        },
    )
    assert response.status_code == 302
    plan = PricePlan.objects.get()
    assert plan.currency == "EUR" and list(plan.features.all()) == [inbox]
    page = client.get(_url("pricing")).content.decode()
    assert "Team" in page and "29 EUR" in page and "17% off monthly" in page
    assert page.count('data-testid="plan-feature"') == 1 and "Not in any plan" not in page
    assert ActivityLog.objects.filter(object_type="metrics.priceplan", action="created").exists()


def test_a_negative_price_or_a_duplicate_name_is_refused_next_to_the_field(cast):
    client = cast.client("pm")
    response = client.post(
        _url("plan_new"), {"name": "Team", "currency": "EUR", "monthly_price": "-1"}
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    price_plans.plan_create(
        product=cast.product,
        data={"name": "Team", "currency": "EUR", "monthly_price": Decimal(9)},
        features=[],
        actor=cast.pm,
    )
    response = client.post(
        _url("plan_new"), {"name": "team", "currency": "EUR", "monthly_price": "5"}
    )
    assert response.status_code == 200 and PricePlan.objects.count() == 1


def test_editing_a_plan_is_versioned(cast):
    plan = price_plans.plan_create(
        product=cast.product,
        data={"name": "Team", "currency": "EUR", "monthly_price": Decimal(29)},
        features=[],
        actor=cast.pm,
    )
    client = cast.client("pm")
    ok = client.post(
        _url("plan_edit", plan.pk),
        {"name": "Team", "currency": "EUR", "monthly_price": "35", "version": 1},
    )
    assert ok.status_code == 302
    stale = client.post(
        _url("plan_edit", plan.pk),
        {"name": "Team", "currency": "EUR", "monthly_price": "25", "version": 1},
    )
    assert stale.status_code == 200 and "Someone else saved this" in stale.content.decode()
    plan.refresh_from_db()
    assert plan.monthly_price == Decimal(35) and plan.version == 2


def test_competitor_prices_sit_beside_ours(cast):
    competitor = CompetitorFactory(product=cast.product, name="Productboard")
    client = cast.client("pm")
    response = client.post(
        _url("competitor_price_add"),
        {"competitor": competitor.pk, "plan_name": "Pro", "monthly_price": "75", "currency": "EUR"},
    )
    assert response.status_code == 302
    page = client.get(_url("pricing")).content.decode()
    row = page.split('data-testid="competitor-price"')[1].split("</tr>")[0]
    assert "Productboard" in row and "Pro" in row and "75 EUR" in row


def test_a_competitors_plan_has_one_price_so_a_retry_or_a_new_price_updates_it(cast):
    competitor = CompetitorFactory(product=cast.product, name="Productboard")
    client = cast.client("pm")
    for price in ("75", "75", "89"):  # a retried submit, then this year's price
        client.post(
            _url("competitor_price_add"),
            {
                "competitor": competitor.pk,
                "plan_name": "pro ",
                "monthly_price": price,
                "currency": "EUR",
            },
        )
    prices = list(CompetitorPrice.objects.values_list("plan_name", "monthly_price"))
    assert prices == [("pro", Decimal("89.00"))]
    assert (
        ActivityLog.objects.filter(object_type="metrics.competitorprice", action="updated").count()
        == 1
    )


def test_a_survey_is_analysed_with_the_hand_computed_points(cast):
    client = cast.client("pm")
    response = client.post(
        _url("survey_upload"),
        {"name": "Q3", "file": SimpleUploadedFile("s.csv", SURVEY, "text/csv")},
    )
    assert response.status_code == 302
    page = client.get(_url("pricing")).content.decode()
    assert 'data-testid="acceptable-range">35.00 – 45.00<' in page
    assert 'data-testid="optimal-price">40.00<' in page
    assert 'data-testid="vw-chart"' in page
    entry = ActivityLog.objects.get(object_type="metrics.pricesurvey")
    assert entry.changes == {
        "name": [None, "Q3"],
        "respondents": [None, 4],
    }  # no answers in history


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"price,other\n1,2\n", "must name the four questions"),
        (b"too cheap;cheap;expensive;too expensive\n10;x;30;40\n", "row 2"),
        (b"too cheap,cheap,expensive,too expensive\n", "no answers"),
        (b"too cheap,cheap\x00\n", "NUL"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_bad_survey_files_are_refused_with_a_reason_and_nothing_saved(cast, content, message):
    response = cast.client("pm").post(
        _url("survey_upload"),
        {"name": "Bad", "file": SimpleUploadedFile("s.csv", content, "text/csv")},
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert not PriceSurvey.objects.exists()


def test_the_same_file_twice_is_recognised(cast):
    price_plans.survey_upload(product=cast.product, name="First", data=_survey_csv(), actor=cast.pm)
    response = cast.client("pm").post(
        _url("survey_upload"),
        {"name": "Again", "file": SimpleUploadedFile("s.csv", _survey_csv(), "text/csv")},
    )
    assert "uploaded already, as “First”" in response.content.decode()
    assert PriceSurvey.objects.count() == 1


@pytest.mark.parametrize(("role", "status"), [("stakeholder", 403), ("outsider", 404)])
def test_pricing_is_the_teams(cast, role, status):
    assert cast.client(role).get(_url("pricing")).status_code == status


@pytest.mark.parametrize("role", ["engineer", "stakeholder"])
def test_only_pms_change_pricing(cast, role):
    client = cast.client(role)
    assert (
        client.post(
            _url("plan_new"), {"name": "X", "currency": "EUR", "monthly_price": "1"}
        ).status_code
        == 403
    )
    assert client.post(_url("survey_upload"), {"name": "X"}).status_code == 403
    assert not PricePlan.objects.exists() and not CompetitorPrice.objects.exists()


def test_engineers_read_pricing_without_edit_controls(cast):
    page = cast.client("engineer").get(_url("pricing")).content.decode()
    assert 'data-testid="plans"' in page and 'data-testid="survey-form"' not in page


@pytest.mark.parametrize("n", [2, 20])
def test_the_pricing_page_runs_a_constant_number_of_queries(cast, django_assert_max_num_queries, n):
    features = [FeatureFactory(product=cast.product) for _ in range(n)]
    competitor = CompetitorFactory(product=cast.product)
    for i in range(n):
        price_plans.plan_create(
            product=cast.product,
            data={"name": f"Plan {i}", "currency": "EUR", "monthly_price": Decimal(i)},
            features=features[: i + 1],
            actor=cast.pm,
        )
        price_plans.competitor_price_add(
            product=cast.product,
            competitor=competitor,
            plan_name=f"P{i}",
            monthly_price=Decimal(i),
            currency="EUR",
            actor=cast.pm,
        )
    client = cast.client("pm")
    client.get(_url("pricing"))
    with django_assert_max_num_queries(14):
        response = client.get(_url("pricing"))
    assert response.content.decode().count('data-testid="plan"') == n


def test_the_api_reads_plans_and_survey_analyses_for_the_team_only(cast):
    inbox = FeatureFactory(product=cast.product)
    price_plans.plan_create(
        product=cast.product,
        data={"name": "Team", "currency": "EUR", "monthly_price": Decimal(29)},
        features=[inbox],
        actor=cast.pm,
    )
    survey = price_plans.survey_upload(product=cast.product, name="Q3", data=SURVEY, actor=cast.pm)
    team = token_client(cast.engineer, "read")
    (plan,) = team.get("/api/v1/price-plans/", {"product": "LOD"}).json()["results"]
    assert plan["name"] == "Team" and plan["features"] == [inbox.pk]
    analysis = team.get(f"/api/v1/price-surveys/{survey.pk}/").json()["analysis"]
    assert analysis["acceptable_range"] == [35.0, 45.0] and analysis["optimal"] == 40.0
    outside = token_client(cast.stakeholder, "read")
    assert outside.get("/api/v1/price-plans/").json()["results"] == []
    assert outside.get(f"/api/v1/price-surveys/{survey.pk}/").status_code == 403
