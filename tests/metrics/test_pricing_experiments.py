"""Pricing experiments: variants with a price, compared by revenue per visitor (RPV)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from metrics import experiments_events, price_plans, selectors, services
from metrics.models import Experiment
from metrics.stats import revenue_per_visitor, revenue_per_visitor_test
from pm.models import ActivityLog
from pm.permissions import get_product_for_user
from pm.visibility import viewer_of
from tests.backlog.factories import FeatureFactory
from tests.metrics.factories import ExperimentFactory

# --- the statistics, against values worked out by hand ----------------------------------------


def test_revenue_per_visitor_is_price_times_conversion_rate():
    # 29 × 187 / 3120 = 5423 / 3120 = 1.738141…
    assert revenue_per_visitor(29.0, 187, 3120) == pytest.approx(1.738141, abs=1e-6)
    assert revenue_per_visitor(29.0, 0, 0) == 0.0


def test_the_rpv_z_test_matches_the_hand_computed_values():
    # Control: price 10, 100 of 1000 convert: p_a = 0.1,  RPV_a = 10 × 0.1  = 1.0
    # Variant: price 20,  80 of 1000 convert: p_b = 0.08, RPV_b = 20 × 0.08 = 1.6
    # difference = 0.6, lift = 0.6 / 1.0 = +60 %
    # se² = 10² × 0.1 × 0.9 / 1000 + 20² × 0.08 × 0.92 / 1000 = 0.009 + 0.02944 = 0.03844
    # se = √0.03844 = 0.196061…, z = 0.6 / 0.196061 = 3.06027…
    # p = 2 × (1 − Φ(3.06027)) = 2 × 0.0011051 = 0.0022102 (normal table: Φ(3.06) = 0.99889)
    # 95 % CI = 0.6 ± 1.959964 × 0.196061 = 0.6 ± 0.384272 = [0.215728, 0.984272]
    c = revenue_per_visitor_test(10.0, 100, 1000, 20.0, 80, 1000)
    assert c.control_rpv == pytest.approx(1.0)
    assert c.rpv == pytest.approx(1.6)
    assert c.difference == pytest.approx(0.6)
    assert c.lift == pytest.approx(0.6)
    assert c.z == pytest.approx(3.06027, abs=1e-5)
    assert c.p_value == pytest.approx(0.0022102, abs=2e-6)
    assert c.ci_low == pytest.approx(0.215728, abs=1e-5)
    assert c.ci_high == pytest.approx(0.984272, abs=1e-5)


def test_the_rpv_test_is_two_sided():
    # Swapping the arms flips z and the difference and keeps the p-value.
    ab = revenue_per_visitor_test(10.0, 100, 1000, 20.0, 80, 1000)
    ba = revenue_per_visitor_test(20.0, 80, 1000, 10.0, 100, 1000)
    assert ba.z == pytest.approx(-ab.z) and ba.p_value == pytest.approx(ab.p_value)
    assert ba.difference == pytest.approx(-0.6) and ba.lift == pytest.approx(-0.6 / 1.6)


def test_the_rpv_test_has_no_p_value_without_visitors_or_variance():
    empty = revenue_per_visitor_test(10.0, 0, 0, 20.0, 5, 100)
    assert empty.z is None and empty.p_value is None and empty.lift is None
    # Nobody converts on either side: no variance, nothing to test.
    flat = revenue_per_visitor_test(10.0, 0, 100, 20.0, 0, 100)
    assert flat.p_value is None and flat.difference == 0


def test_several_prices_are_holm_corrected_like_the_conversion_test():
    # B as above: p = 0.0022102.
    # C: price 15, 100 of 1000: RPV 1.5, difference 0.5;
    #    se² = 0.009 + 15² × 0.1 × 0.9 / 1000 = 0.009 + 0.02025 = 0.02925, se = 0.171026
    #    z = 0.5 / 0.171026 = 2.92353, p = 2 × (1 − Φ(2.92353)) = 0.0034612
    # Holm over m = 2: the smaller (B) × 2 = 0.0044204; C: max(0.0044204, 0.0034612 × 1)
    # = 0.0044204. Both significant; B earns most per visitor.
    readout = experiments_events.analyse(
        [("A", 1000, 100), ("B", 1000, 80), ("C", 1000, 100)],
        prices=[Decimal(10), Decimal(20), Decimal(15)],
    )
    a, b, c = readout.variants
    assert readout.pricing and a.revenue is None
    assert c.revenue is not None and c.revenue.p_value == pytest.approx(0.0034612, abs=2e-6)
    assert b.revenue_adjusted_p == pytest.approx(0.0044204, abs=4e-6)
    assert c.revenue_adjusted_p == pytest.approx(0.0044204, abs=4e-6)
    assert readout.top_earner is b and readout.revenue_best is b
    # The conversion test keeps its own correction: B converts worse than A.
    assert b.comparison is not None and b.comparison.difference < 0


def test_without_prices_there_is_no_revenue_readout():
    readout = experiments_events.analyse([("A", 1000, 100), ("B", 1000, 80)])
    assert not readout.pricing and readout.top_earner is None
    assert all(v.revenue is None and v.rpv is None for v in readout.variants)


# --- the service's rules ----------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def _rows(*prices):
    return [
        {"name": f"V{i}", "exposures": 1000, "conversions": 50, "price": p}
        for i, p in enumerate(prices)
    ]


def _create(cast, variants, name="Price test"):
    return services.experiment_create(
        product=cast.product,
        data={"name": name, "hypothesis": "Higher prices pay."},
        variants=variants,
        actor=cast.pm,
    )


def test_mixing_priced_and_unpriced_variants_is_refused_on_the_variants(cast):
    with pytest.raises(ValidationError) as exc:
        _create(cast, _rows(Decimal(29), None))
    assert "Give every variant a price, or none" in exc.value.message_dict["variants"][0]
    assert not Experiment.objects.exists()


def test_equal_prices_are_refused(cast):
    with pytest.raises(ValidationError) as exc:
        _create(cast, _rows(Decimal(29), Decimal("29.00"), Decimal(39)))
    assert exc.value.message_dict["variants"] == ["Give each variant a different price."]


def test_a_negative_price_is_refused(cast):
    with pytest.raises(ValidationError) as exc:
        _create(cast, _rows(Decimal(29), Decimal(-1)))
    assert "variants" in exc.value.message_dict


def test_an_experiment_without_prices_is_still_an_experiment(cast):
    experiment = _create(cast, _rows(None, None))
    result = selectors.experiment_result(experiment)
    assert not result.pricing and result.variants


def test_a_price_change_is_in_the_variants_history(cast):
    experiment = _create(cast, _rows(Decimal(29), Decimal(39)))
    same = _rows(Decimal("29.00"), Decimal(39))
    services.experiment_update(
        experiment=experiment, data={}, variants=same, expected_version=1, actor=cast.pm
    )
    assert experiment.version == 1  # 29 and 29.00 are the same price: nothing changed
    services.experiment_update(
        experiment=experiment,
        data={},
        variants=_rows(Decimal(29), Decimal(49)),
        expected_version=1,
        actor=cast.pm,
    )
    log = ActivityLog.objects.filter(object_type="metrics.experiment", action="updated").get()
    before, after = log.changes["variants"]
    assert before == "V0, 1000, 50, 29.00; V1, 1000, 50, 39.00"
    assert after == "V0, 1000, 50, 29.00; V1, 1000, 50, 49.00"


# --- the pages --------------------------------------------------------------------------------


def _form(**prices):
    data = {
        "name": "Team plan price",
        "hypothesis": "Teams pay more.",
        "status": "running",
        "variants-TOTAL_FORMS": "4",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "2",
        "variants-MAX_NUM_FORMS": "8",
    }
    rows = [("€29", "1000", "100"), ("€39", "1000", "80"), ("€49", "1000", "50"), ("", "", "")]
    for i, (name, exposures, conversions) in enumerate(rows):
        data |= {
            f"variants-{i}-name": name,
            f"variants-{i}-exposures": exposures,
            f"variants-{i}-conversions": conversions,
            f"variants-{i}-price": prices.get(f"p{i}", ""),
        }
    return data


def test_a_pm_creates_a_pricing_experiment_and_sees_its_rpv(cast):
    price_plans.plan_create(
        product=cast.product,
        data={"name": "Team", "currency": "EUR", "monthly_price": Decimal(29)},
        features=[],
        actor=cast.pm,
    )
    client = cast.client("pm")
    response = client.post("/p/LOD/kpis/experiments/new/", _form(p0="29", p1="39", p2="49.50"))
    assert response.status_code == 302, response.content.decode()[:2000]
    experiment = Experiment.objects.get()
    assert [v.price for v in experiment.variants.all()] == [
        Decimal(29),
        Decimal(39),
        Decimal("49.50"),
    ]
    # RPV: 29 × 0.10 = 2.90, 39 × 0.08 = 3.12, 49.50 × 0.05 = 2.475 (shown 2.48)
    # RPV lift of €39: 0.22 / 2.90 = +7.6 %
    html = client.get("/p/LOD/kpis/experiments/").content.decode()
    assert html.count('data-testid="revenue-row"') == 3
    assert "2.90 EUR" in html and "3.12 EUR" in html and "2.48 EUR" in html
    assert "+7.6%" in html and "one purchase at the variant's price" in html
    assert "€39 at 39 EUR earns most per visitor" in html
    page = client.get(reverse("pricing", args=["LOD"])).content.decode()
    assert page.count('data-testid="pricing-experiment"') == 1
    assert "Team plan price" in page and "3.12 EUR" in page
    assert '<strong data-testid="best-price">39 EUR</strong>' in page
    assert "29 · 39 · 49.50 EUR" in page  # the prices tested, as the plans show prices
    assert reverse("experiment_detail", args=["LOD", experiment.pk]) in page


def test_the_form_shows_a_mixed_price_error_above_the_rows(cast):
    response = cast.client("pm").post("/p/LOD/kpis/experiments/new/", _form(p0="29"))
    assert response.status_code == 200
    assert "Give every variant a price, or none" in response.content.decode()
    assert not Experiment.objects.exists()


def test_the_edit_form_shows_the_stored_prices(cast):
    experiment = ExperimentFactory(
        product=cast.product, variants=[("A", 100, 10, Decimal(29)), ("B", 100, 9, Decimal(39))]
    )
    html = cast.client("pm").get(f"/p/LOD/kpis/experiments/{experiment.pk}/edit/").content
    assert b'name="variants-1-price" value="39.00"' in html


@pytest.mark.parametrize("role", ["stakeholder", "engineer"])
def test_stakeholders_and_engineers_cannot_create_a_pricing_experiment(cast, role):
    response = cast.client(role).post("/p/LOD/kpis/experiments/new/", _form(p0="1", p1="2"))
    assert response.status_code == 403
    assert not Experiment.objects.exists()


def test_the_pricing_page_says_when_there_is_no_pricing_experiment(cast):
    ExperimentFactory(product=cast.product, name="Green button")  # no prices
    pm_page = cast.client("pm").get(reverse("pricing", args=["LOD"])).content.decode()
    assert "No pricing experiments yet." in pm_page and "Green button" not in pm_page
    assert reverse("experiment_new", args=["LOD"]) in pm_page
    engineer = cast.client("engineer").get(reverse("pricing", args=["LOD"])).content.decode()
    assert "No pricing experiments yet." in engineer
    assert reverse("experiment_new", args=["LOD"]) not in engineer


def test_pricing_experiments_follow_the_experiments_visibility(cast):
    ExperimentFactory(
        product=cast.product,
        name="Secret price",
        feature=FeatureFactory(product=cast.product, title="Secret project"),  # not shipped
        variants=[("A", 100, 10, Decimal(29)), ("B", 100, 9, Decimal(39))],
    )
    ExperimentFactory(
        product=cast.product,
        name="Open price",
        variants=[("A", 100, 10, Decimal(29)), ("B", 100, 9, Decimal(39))],
    )

    def seen_by(user):
        product = get_product_for_user(user, "LOD")
        viewer = viewer_of(product)
        found = selectors.pricing_experiments(product=product, viewer=viewer)
        listed = selectors.experiment_list(product=product, viewer=viewer)
        return {r.experiment.name for r in found}, {e.name for e in listed}

    assert seen_by(cast.pm) == ({"Open price", "Secret price"},) * 2
    assert seen_by(cast.stakeholder) == ({"Open price"},) * 2
    pricing, listed = seen_by(cast.engineer)
    assert pricing == listed  # whatever the policy lets engineers see, the same on both
    # The experiments page hides it from stakeholders the same way.
    html = cast.client("stakeholder").get("/p/LOD/kpis/experiments/").content.decode()
    assert "Open price" in html and "Secret price" not in html


@pytest.mark.parametrize("n", [1, 12])
def test_the_pricing_page_queries_do_not_grow_with_pricing_experiments(
    cast, django_assert_max_num_queries, n
):
    price_plans.plan_create(
        product=cast.product,
        data={"name": "Team", "currency": "EUR", "monthly_price": Decimal(29)},
        features=[],
        actor=cast.pm,
    )
    for i in range(n):
        ExperimentFactory(
            product=cast.product,
            variants=[
                ("A", 1000, 100, Decimal(29)),
                ("B", 1000, 80, Decimal(39)),
                ("C", 1000, 60, Decimal(49)),
            ],
        )
    client = cast.client("pm")
    client.get(reverse("pricing", args=["LOD"]))
    # 14, measured at both sizes: session, user, product, membership, plans, their features,
    # surveys, competitor prices, any competitor?, the pricing experiments (priced ones via a
    # subquery), their variants (prefetched), then the layout's membership, unread
    # notifications and product switcher.
    with django_assert_max_num_queries(14):
        response = client.get(reverse("pricing", args=["LOD"]))
    assert response.content.decode().count('data-testid="pricing-experiment"') == n
