"""Confidence from evidence: the suggestion from linked feedback (hand-worked cases), shown to
the team next to the PM's own value on feature and initiative pages, and applied by a PM."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import evidence
from feedback.evidence import Evidence, suggest
from feedback.models import Insight, ResearchStudy
from tests.feedback.factories import CustomerFactory, FeedbackItemFactory, make_feature
from tests.roadmap.factories import InitiativeFactory

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("facts", "percent", "level"),
    [
        (Evidence(), 20, "low"),  # conviction only
        (Evidence(items=2, customers=1, newest=TODAY), 35, "low"),
        (Evidence(items=5, customers=4, newest=TODAY), 50, "medium"),
        # 12 customers (65) + 30 % of ARR (+10) + research (+15) + critical (+5) = 95 → 90
        (
            Evidence(
                items=20,
                customers=12,
                arr=Decimal(300),
                workspace_arr=Decimal(1000),
                critical_customers=2,
                studies=1,
                findings=3,
                newest=TODAY,
            ),
            90,
            "high",
        ),
        # 3 customers (50) + 5 % of ARR (nothing) − over a year old (15) = 35
        (
            Evidence(
                items=3,
                customers=3,
                arr=Decimal(50),
                workspace_arr=Decimal(1000),
                newest=TODAY - timedelta(days=400),
            ),
            35,
            "low",
        ),
        # 1 customer (35) − over six months (5) = 30
        (Evidence(items=1, customers=1, newest=TODAY - timedelta(days=200)), 30, "low"),
        # feedback from no known customer (30) − a year old (15) = 15, above the floor
        (Evidence(items=1, newest=TODAY - timedelta(days=500)), 15, "low"),
    ],
)
def test_the_suggestion_follows_the_ladder(facts, percent, level):
    suggestion = suggest(facts, today=TODAY)
    assert (suggestion.percent, suggestion.level) == (percent, level)
    assert sum(r.points for r in suggestion.reasons) == percent  # the reasons add up


def _link(feature, item, importance="important"):
    return Insight.objects.create(
        workspace_id=feature.product.workspace_id,
        feedback_item=item,
        feature=feature,
        importance=importance,
    )


@pytest.mark.django_db
def test_evidence_counts_each_customer_once_and_knows_research_and_recency(cast):
    feature = make_feature(cast.product, "SSO", actor=cast.pm)
    big = CustomerFactory(workspace=cast.workspace, arr=Decimal(900))
    small = CustomerFactory(workspace=cast.workspace, arr=Decimal(100))
    study = ResearchStudy.objects.create(
        product=cast.product, title="Interviews", kind="interview", goal="Learn"
    )
    old = timezone.now() - timedelta(days=30)
    _link(feature, FeedbackItemFactory(product=cast.product, customer=big, received_at=old))
    _link(
        feature,
        FeedbackItemFactory(product=cast.product, customer=big, study=study),
        importance="critical",
    )
    _link(feature, FeedbackItemFactory(product=cast.product, customer=small, status="archived"))
    facts = evidence.evidence_for(feature)
    assert (facts.items, facts.customers, facts.arr, facts.workspace_arr) == (
        2,
        1,
        Decimal(900),
        Decimal(1000),
    )
    assert (facts.critical_customers, facts.studies, facts.findings) == (1, 1, 1)
    assert facts.newest == timezone.localdate()


@pytest.mark.django_db
def test_the_team_sees_the_suggestion_and_a_pm_applies_it(cast):
    CustomerFactory(workspace=cast.workspace, arr=Decimal(1_000_000))  # asked for nothing
    feature = make_feature(cast.product, "SSO", actor=cast.pm, confidence=80)
    for _ in range(3):
        customer = CustomerFactory(workspace=cast.workspace)
        _link(feature, FeedbackItemFactory(product=cast.product, customer=customer))
    url = reverse("feature_detail", args=[cast.product.key, feature.pk])
    page = cast.client("engineer").get(url).content.decode()
    assert 'data-testid="suggested-confidence">50%' in page
    assert "Several customers asked (3)." in page and "apply-confidence" not in page

    pm_page = cast.client("pm").get(url).content.decode()
    assert 'data-testid="apply-confidence"' in pm_page
    apply = reverse("feature_confidence_apply", args=[cast.product.key, feature.pk])
    stale = cast.client("pm").post(apply, {"version": feature.version + 5, "confidence": 50})
    assert stale.status_code == 302
    feature.refresh_from_db()
    assert feature.confidence == 80  # a stale version changes nothing
    done = cast.client("pm").post(apply, {"version": feature.version, "confidence": 50})
    assert done.status_code == 302
    feature.refresh_from_db()
    assert feature.confidence == 50
    # The suggestion moved (a fourth customer) since the page showed 50: nothing applied.
    _link(
        feature,
        FeedbackItemFactory(
            product=cast.product, customer=CustomerFactory(workspace=cast.workspace)
        ),
    )
    feature.confidence = 80
    feature.save(update_fields=["confidence"])
    cast.client("pm").post(apply, {"version": feature.version, "confidence": 10})
    feature.refresh_from_db()
    assert feature.confidence == 80


@pytest.mark.django_db
def test_stakeholders_do_not_see_the_reasons(cast):
    feature = make_feature(cast.product, "SSO", actor=cast.pm, status="shipped")
    _link(feature, FeedbackItemFactory(product=cast.product))
    page = cast.client("stakeholder").get(
        reverse("feature_detail", args=[cast.product.key, feature.pk])
    )
    assert page.status_code == 200 and "confidence-panel" not in page.content.decode()


@pytest.mark.django_db
def test_an_initiative_gets_a_level_from_its_features_evidence(cast):
    CustomerFactory(workspace=cast.workspace, arr=Decimal(1_000_000))  # asked for nothing
    initiative = InitiativeFactory(product=cast.product, confidence="high")
    feature = make_feature(cast.product, "SSO", actor=cast.pm)
    initiative.features.add(feature)
    _link(
        feature,
        FeedbackItemFactory(
            product=cast.product, customer=CustomerFactory(workspace=cast.workspace)
        ),
    )
    url = reverse("initiative_detail", args=[cast.product.key, initiative.pk])
    page = cast.client("pm").get(url).content.decode()
    assert 'data-testid="suggested-confidence">Low' in page
    apply = reverse("initiative_confidence_apply", args=[cast.product.key, initiative.pk])
    cast.client("pm").post(apply, {"version": initiative.version, "confidence": "low"})
    initiative.refresh_from_db()
    assert initiative.confidence == "low"


@pytest.mark.django_db
@pytest.mark.parametrize("links", [1, 15])
def test_the_panel_costs_the_same_queries_at_any_size(cast, links, django_assert_max_num_queries):
    feature = make_feature(cast.product, "SSO", actor=cast.pm)
    for _ in range(links):
        _link(
            feature,
            FeedbackItemFactory(
                product=cast.product, customer=CustomerFactory(workspace=cast.workspace)
            ),
        )
    client = cast.client("engineer")
    url = reverse("feature_detail", args=[cast.product.key, feature.pk])
    with django_assert_max_num_queries(45):
        page = client.get(url)
    assert "confidence-panel" in page.content.decode()
