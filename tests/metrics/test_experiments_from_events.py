"""Experiments read from events: exposures and conversions per variant, the statistics against
hand-computed values, Holm for several variants, the planner and the peeking warning."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from metrics import experiments_events, stats
from metrics.events import IncomingEvent, insert_events
from metrics.models import Event, Experiment
from tests.metrics.factories import ExperimentFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 9, 7, 10, tzinfo=UTC)


def send(product, rows):
    insert_events(
        product=product,
        events=[
            IncomingEvent(f"x{i}", name, person, moment, props or {})
            for i, (person, moment, name, props) in enumerate(rows)
        ],
    )


def hour(n):
    return T0 + timedelta(hours=n)


# --- statistics, by hand --------------------------------------------------------------------


def test_the_z_test_matches_the_hand_computed_values():
    # 100/1000 against 130/1000: pooled p = 0.115, SE = sqrt(0.115·0.885·(2/1000)) = 0.0142671,
    # z = 0.03 / 0.0142671 = 2.10274, p = erfc(z/√2) = 0.035490; unpooled SE = 0.0142513.
    result = stats.two_proportion_test(100, 1000, 130, 1000)
    assert result.z == pytest.approx(2.10274, abs=1e-4)
    assert result.p_value == pytest.approx(0.035490, abs=1e-5)
    assert result.lift == pytest.approx(0.3)
    assert (result.ci_low, result.ci_high) == (
        pytest.approx(0.03 - 1.959964 * 0.0142513, abs=1e-6),
        pytest.approx(0.03 + 1.959964 * 0.0142513, abs=1e-6),
    )


def test_holm_multiplies_the_smallest_by_m_and_keeps_the_order():
    # 0.01·3 = 0.03; 0.03·2 = 0.06; 0.04·1 = 0.04 → raised to 0.06 (never below the previous).
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.04, None, 0.2]) == [pytest.approx(0.08), None, pytest.approx(0.2)]
    assert stats.holm([0.6, 0.7]) == [1.0, 1.0]


def test_the_sample_size_matches_the_textbook_formula():
    # 10 % → 12 %: z.975 = 1.959964, z.8 = 0.841621, p̄ = 0.11:
    # (1.959964·√(2·0.11·0.89) + 0.841621·√(0.09 + 0.1056))² / 0.02² = 3840.8 → 3841.
    assert stats.sample_size_per_variant(0.10, 0.20) == 3841
    # Two comparisons: α/2 = 0.025, z = 2.241403 → 4651.4 → 4652.
    assert stats.sample_size_per_variant(0.10, 0.20, comparisons=2) == 4652
    assert stats.sample_size_per_variant(0.9, 0.5) is None  # 135 % is no rate
    assert stats.sample_size_per_variant(0.0, 0.1) is None


def test_peeking_is_reading_a_running_experiment_before_its_plan():
    assert stats.peeking(running=True, smallest_arm=100, planned=3841)
    assert not stats.peeking(running=True, smallest_arm=4000, planned=3841)
    assert not stats.peeking(running=False, smallest_arm=100, planned=3841)
    assert not stats.peeking(running=True, smallest_arm=100, planned=None)


def test_three_variants_are_judged_on_holm_adjusted_p_values():
    readout = experiments_events.analyse(
        [("A", 1000, 100), ("B", 1000, 130), ("C", 1000, 101)],
        minimum_detectable_effect=20,
        running=True,
    )
    b, c = readout.variants[1], readout.variants[2]
    assert readout.corrected and readout.comparisons == 2
    # B's raw p (0.0355) is the smaller of two: doubled to 0.0710, no longer significant.
    assert b.comparison.p_value == pytest.approx(0.035490, abs=1e-5)
    assert b.adjusted_p == pytest.approx(2 * b.comparison.p_value)
    assert c.adjusted_p == pytest.approx(max(b.adjusted_p, c.comparison.p_value))
    assert readout.best is None
    assert readout.planned_per_variant == 4652 and readout.peeking


# --- from events ----------------------------------------------------------------------------


def test_exposures_and_conversions_are_counted_per_person(cast):
    send(
        cast.product,
        [
            ("a", hour(0), "exposed", {"variant": "A"}),
            ("a", hour(1), "converted", {}),
            ("a", hour(2), "converted", {}),  # converting twice counts once
            ("b", hour(0), "converted", {}),  # before the exposure: not a conversion
            ("b", hour(1), "exposed", {"variant": "B"}),
            ("c", hour(0), "exposed", {"variant": "B"}),
            ("c", hour(1), "exposed", {"variant": "A"}),  # stays in B, their first
            ("c", hour(5), "converted", {}),
            ("d", hour(0), "exposed", {}),  # no variant: left out
            ("d", hour(1), "converted", {}),
            ("e", hour(0), "converted", {}),  # never exposed
            ("f", hour(3), "exposed", {"variant": "A"}),
        ],
    )
    rows = experiments_events.counts(
        product_id=cast.product.pk,
        exposure_event="exposed",
        variant_property="variant",
        conversion_event="converted",
        start=T0 - timedelta(days=1),
        end=T0 + timedelta(days=1),
    )
    assert rows == [("A", 2, 1), ("B", 2, 1)]


def test_the_query_agrees_with_the_python_rules_on_random_data(cast):
    rng = random.Random(3)
    rows = []
    for i in range(2000):
        person = f"p{rng.randrange(300)}"
        name = rng.choice(["exposed", "exposed", "converted", "other"])
        props = (
            {"variant": rng.choice(["control", "B", "C", 7, None])} if rng.random() < 0.9 else {}
        )
        rows.append((person, T0 + timedelta(minutes=rng.randrange(20_000)), name, props))
    send(cast.product, rows)
    start, end = T0 + timedelta(days=2), T0 + timedelta(days=10)
    got = experiments_events.counts(
        product_id=cast.product.pk,
        exposure_event="exposed",
        variant_property="variant",
        conversion_event="converted",
        start=start,
        end=end,
    )
    expected = experiments_events.counts_python(
        (
            e
            for e in Event.objects.values_list("distinct_id", "timestamp", "name", "properties")
            if start <= e[1] < end
        ),
        exposure_event="exposed",
        variant_property="variant",
        conversion_event="converted",
    )
    assert got == expected and len(got) == 4  # control, B, C and 7


def events_experiment(product, **extra):
    fields = {
        "name": "Checkout copy",
        "source": "events",
        "exposure_event": "exposed",
        "variant_property": "variant",
        "conversion_event": "converted",
        "started_on": date(2026, 9, 1),
        "ended_on": date(2026, 9, 30),
        "minimum_detectable_effect": 20,
        **extra,
    }
    return ExperimentFactory(product=product, variants=[("unused", 0, 0)], **fields)


def _arms(product, arms):
    rows = []
    for variant, exposures, conversions in arms:
        for i in range(exposures):
            person = f"{variant}{i}"
            rows.append((person, hour(i % 500), "exposed", {"variant": variant}))
            if i < conversions:
                rows.append((person, hour(i % 500 + 1), "converted", {}))
    send(product, rows)


def test_the_readout_page_computes_lift_ci_p_value_and_warns_about_peeking(cast):
    experiment = events_experiment(cast.product, control_variant="A")
    _arms(cast.product, [("A", 1000, 100), ("B", 1000, 130)])
    response = cast.client("stakeholder").get(f"/p/LOD/kpis/experiments/{experiment.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "13.00%" in html and "+30" in html and "0.035" in html
    assert 'data-testid="peeking-warning"' in html and "3,841" in html
    # Concluded: no warning.
    Experiment.objects.filter(pk=experiment.pk).update(status="concluded")
    html = cast.client("stakeholder").get(f"/p/LOD/kpis/experiments/{experiment.pk}/").content
    assert b'data-testid="peeking-warning"' not in html


def test_the_list_links_to_an_events_experiment_without_reading_events(cast):
    experiment = events_experiment(cast.product)
    html = cast.client("engineer").get("/p/LOD/kpis/experiments/").content.decode()
    assert f"/p/LOD/kpis/experiments/{experiment.pk}/" in html and "Read from events" in html


def test_the_planner_answers_what_is_asked_and_refuses_nonsense(cast):
    experiment = ExperimentFactory(product=cast.product)  # typed-in, two variants
    client = cast.client("pm")
    url = f"/p/LOD/kpis/experiments/{experiment.pk}/"
    html = client.get(url, {"baseline": "10", "effect": "20"}).content.decode()
    assert "3,841 people per variant" in html and "7,682 in all" in html
    for bad in ({"baseline": "0", "effect": "20"}, {"baseline": "x", "effect": "1e999"}):
        response = client.get(url, bad)
        assert response.status_code == 200
        assert 'data-testid="plan"' not in response.content.decode()
    impossible = client.get(url, {"baseline": "90", "effect": "50"}).content.decode()
    assert "must stay between 0% and 100%" in impossible


def test_a_pm_creates_an_events_experiment_and_its_fields_are_required(cast):
    data = {
        "name": "Pricing page",
        "hypothesis": "Yearly first sells more.",
        "status": "running",
        "source": "events",
        "exposure_event": "pricing_seen",
        "variant_property": "variant",
        "conversion_event": "",
        "variants-TOTAL_FORMS": "2",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "2",
        "variants-MAX_NUM_FORMS": "8",
        "variants-0-name": "Control",
        "variants-0-exposures": "0",
        "variants-0-conversions": "0",
        "variants-1-name": "B",
        "variants-1-exposures": "0",
        "variants-1-conversions": "0",
    }
    response = cast.client("pm").post("/p/LOD/kpis/experiments/new/", data)
    assert (
        response.status_code == 200 and "Events experiments need this" in response.content.decode()
    )
    data["conversion_event"] = "subscribed"
    response = cast.client("pm").post("/p/LOD/kpis/experiments/new/", data)
    assert response.status_code == 302
    experiment = Experiment.objects.get(name="Pricing page")
    assert (experiment.source, experiment.conversion_event) == ("events", "subscribed")
    assert not experiment.variants.exists()


@pytest.mark.parametrize("people", [20, 300])
def test_the_readout_page_takes_constant_queries(cast, people, django_assert_max_num_queries):
    experiment = events_experiment(cast.product)
    _arms(cast.product, [("control", people, people // 5), ("B", people, people // 4)])
    client = cast.client("pm")
    # session, user, product + membership, layout context, the experiment (+ feature and
    # variants prefetch), the one readout query
    with django_assert_max_num_queries(14):
        response = client.get(f"/p/LOD/kpis/experiments/{experiment.pk}/")
    assert response.status_code == 200
    assert f">{people:,}<" in response.content.decode()
