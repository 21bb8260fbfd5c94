"""Funnels computed from events: per-step people, the largest drop-off, the breakdown (top 5 +
Other), the weekly trend; the SQL held to the Python rules; the page and its query counts."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from metrics import funnels
from metrics.events import IncomingEvent, insert_events
from metrics.models import Event, Funnel, FunnelStep

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 9, 7, 10, tzinfo=UTC)  # a Monday
UTC_ZONE = ZoneInfo("UTC")


def send(product, rows):
    """rows: (person, moment, event, properties)."""
    insert_events(
        product=product,
        events=[
            IncomingEvent(f"x{i}", name, person, moment, props or {})
            for i, (person, moment, name, props) in enumerate(rows)
        ],
    )


STEPS = [
    funnels.Step("Viewed", "viewed"),
    funnels.Step("Signed up (pro)", "signed_up", "plan", "pro"),
    funnels.Step("Paid", "paid"),
]


def compute(product, steps=STEPS, breakdown="", start=date(2026, 9, 1), end=date(2026, 9, 30)):
    return funnels.compute(
        product_id=product.pk,
        steps=steps,
        period_start=start,
        period_end=end,
        window_days=7,
        breakdown=breakdown,
        tz=UTC_ZONE,
    )


def hour(n):
    return T0 + timedelta(hours=n)


def test_a_hand_counted_funnel(cast):
    send(
        cast.product,
        [
            # u1 does all three in order.
            ("u1", hour(0), "viewed", {}),
            ("u1", hour(1), "signed_up", {"plan": "pro"}),
            ("u1", hour(30), "paid", {}),
            # u2 pays 8 days after viewing: outside the 7-day window.
            ("u2", hour(0), "viewed", {}),
            ("u2", hour(2), "signed_up", {"plan": "pro"}),
            ("u2", hour(8 * 24), "paid", {}),
            # u3 signs up before viewing: the sign-up does not count.
            ("u3", hour(0), "signed_up", {"plan": "pro"}),
            ("u3", hour(1), "viewed", {}),
            # u4 signs up on the free plan: the step's filter wants pro.
            ("u4", hour(0), "viewed", {}),
            ("u4", hour(1), "signed_up", {"plan": "free"}),
            ("u4", hour(2), "paid", {}),
            # u5 viewed before the period: not in the funnel.
            ("u5", datetime(2026, 8, 31, 23, tzinfo=UTC), "viewed", {}),
            ("u5", hour(1), "signed_up", {"plan": "pro"}),
            # u6 views twice: enters once, with the first.
            ("u6", hour(0), "viewed", {}),
            ("u6", hour(3), "viewed", {}),
        ],
    )
    result = compute(cast.product)
    assert [r.count for r in result.rows] == [5, 2, 1]
    assert [r.lost for r in result.rows] == [0, 3, 1]
    # 60 % drop from step 1 to 2, 50 % from 2 to 3: the first is the largest.
    assert [r.largest_drop for r in result.rows] == [False, True, False]
    assert result.rows[1].drop_off == pytest.approx(0.6)
    assert [(w.start, w.counts) for w in result.weeks] == [(date(2026, 9, 7), [5, 2, 1])]


def test_the_breakdown_keeps_the_top_five_values_and_sums_the_rest(cast):
    rows = []
    sizes = {"ios": 7, "android": 6, "web": 5, "mac": 4, "windows": 3, "linux": 2, "tv": 1}
    n = 0
    for platform, size in sizes.items():
        for i in range(size):
            person = f"{platform}{i}"
            rows.append((person, hour(n), "viewed", {"platform": platform}))
            if i % 2 == 0:
                rows.append((person, hour(n + 1), "signed_up", {"plan": "pro"}))
            n += 1
    rows.append(("nobody-says", hour(0), "viewed", {}))
    send(cast.product, rows)
    result = compute(cast.product, steps=STEPS[:2], breakdown="platform")
    table = {s.label: [r.count for r in s.rows] for s in result.segments}
    assert list(table) == ["ios", "android", "web", "mac", "windows", "Other"]
    assert table["ios"] == [7, 4] and table["windows"] == [3, 2]
    # linux (2, 1 signed up), tv (1, 1) and the person without a platform (1, 0).
    assert table["Other"] == [4, 2]
    assert [r.count for r in result.rows] == [29, 16]


def test_weeks_group_people_by_the_week_of_their_first_step(cast):
    send(
        cast.product,
        [
            ("a", T0, "viewed", {}),
            ("a", T0 + timedelta(days=1), "signed_up", {"plan": "pro"}),
            ("b", T0 + timedelta(days=7), "viewed", {}),
            ("c", T0 + timedelta(days=8), "viewed", {}),
            ("c", T0 + timedelta(days=9), "signed_up", {"plan": "pro"}),
            ("d", T0 + timedelta(days=9), "viewed", {}),
        ],
    )
    result = compute(cast.product, steps=STEPS[:2])
    assert [(w.start, w.counts, w.conversion) for w in result.weeks] == [
        (date(2026, 9, 7), [1, 1], 1.0),
        (date(2026, 9, 14), [3, 1], pytest.approx(1 / 3)),
    ]


def test_an_empty_period_gives_zeros(cast):
    result = compute(cast.product)
    assert [r.count for r in result.rows] == [0, 0, 0]
    assert result.segments == [] and result.weeks == []


def test_the_single_query_agrees_with_the_python_rules_on_random_data(cast):
    rng = random.Random(7)
    names = ["viewed", "signed_up", "paid", "noise"]
    rows = []
    for i in range(1500):
        person = f"p{rng.randrange(200)}"
        moment = T0 + timedelta(minutes=rng.randrange(-3 * 24 * 60, 40 * 24 * 60))
        props = {"plan": rng.choice(["pro", "free", 1, True, None])}
        if rng.random() < 0.8:
            props["platform"] = rng.choice(["ios", "web", "android", "mac", "tv", "car", "x"])
        rows.append((person, moment, rng.choice(names), props))
    send(cast.product, rows)
    for steps, breakdown in (
        (STEPS, "platform"),
        ([funnels.Step("a", "viewed"), funnels.Step("b", "paid")], ""),
        (
            [
                funnels.Step("a", "viewed", "plan", "1"),
                funnels.Step("b", "viewed", "plan", "true"),
                funnels.Step("c", "signed_up"),
                funnels.Step("d", "paid"),
            ],
            "plan",
        ),
    ):
        got = compute(cast.product, steps=steps, breakdown=breakdown)
        start = datetime(2026, 9, 1, tzinfo=UTC)
        expected = funnels._result(
            funnels.funnel_groups_python(
                Event.objects.values_list("distinct_id", "timestamp", "name", "properties"),
                steps=steps,
                start=start,
                end=datetime(2026, 10, 1, tzinfo=UTC),
                window=timedelta(days=7),
                breakdown=breakdown,
                tz=UTC_ZONE,
            ),
            steps,
        )
        assert got == expected
        assert got.rows[0].count > 0


# --- pages ------------------------------------------------------------------------------------


def events_funnel(product, *, breakdown="platform", name="Activation"):
    funnel = Funnel.objects.create(
        product=product,
        name=name,
        source="events",
        period_start=date(2026, 9, 1),
        period_end=date(2026, 9, 30),
        conversion_window_days=7,
        breakdown_property=breakdown,
    )
    for i, (label, event) in enumerate([("Viewed", "viewed"), ("Paid", "paid")]):
        FunnelStep.objects.create(
            workspace_id=product.workspace_id, funnel=funnel, position=i, name=label, event=event
        )
    return funnel


def test_the_funnel_page_shows_steps_breakdown_and_trend(cast):
    funnel = events_funnel(cast.product)
    send(
        cast.product,
        [
            ("a", hour(0), "viewed", {"platform": "ios"}),
            ("a", hour(1), "paid", {}),
            ("b", hour(0), "viewed", {"platform": "web"}),
            ("c", hour(0), "viewed", {"platform": "web"}),
        ],
    )
    response = cast.client("stakeholder").get(f"/p/LOD/kpis/funnels/{funnel.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "66.7% drop off" in html and 'data-testid="largest-drop"' in html
    breakdown = html[html.index('data-testid="funnel-breakdown"') :]
    assert "ios" in breakdown and "web" in breakdown
    assert 'data-testid="funnel-trend"' in html and "7 Sep 2026" in html
    # The list links to it rather than computing every events funnel.
    listing = cast.client("stakeholder").get("/p/LOD/kpis/funnels/").content.decode()
    assert f"/p/LOD/kpis/funnels/{funnel.pk}/" in listing and "Computed from events" in listing


def test_an_events_funnel_without_events_says_what_to_send(cast):
    funnel = events_funnel(cast.product)
    html = cast.client("pm").get(f"/p/LOD/kpis/funnels/{funnel.pk}/").content.decode()
    assert 'data-testid="funnel-empty"' in html and "viewed" in html


def test_typed_in_funnels_keep_working_and_open_too(cast):
    from tests.metrics.factories import FunnelFactory

    funnel = FunnelFactory(product=cast.product, steps=[("Visit", 1000), ("Pay", 100)])
    html = cast.client("engineer").get(f"/p/LOD/kpis/funnels/{funnel.pk}/").content.decode()
    assert "90.0% drop off" in html and "Typed-in counts" in html


def _form(**extra):
    data = {
        "name": "From events",
        "source": "events",
        "period_start": "2026-09-01",
        "period_end": "2026-09-30",
        "conversion_window_days": "3",
        "breakdown_property": "plan",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "2",
        "steps-MAX_NUM_FORMS": "12",
        "steps-0-name": "Visit",
        "steps-0-event": "viewed",
        "steps-1-name": "Pay",
        "steps-1-event": "paid",
        "steps-1-property_name": "currency",
        "steps-1-property_value": "EUR",
    }
    return {**data, **extra}


def test_a_pm_creates_an_events_funnel_with_the_form(cast):
    response = cast.client("pm").post("/p/LOD/kpis/funnels/new/", _form())
    assert response.status_code == 302
    funnel = Funnel.objects.get()
    assert (funnel.source, funnel.conversion_window_days, funnel.breakdown_property) == (
        "events",
        3,
        "plan",
    )
    assert list(funnel.steps.values_list("event", "property_name", "property_value")) == [
        ("viewed", "", ""),
        ("paid", "currency", "EUR"),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"steps-1-event": ""}, "enter the event that marks it"),
        ({"steps-1-property_value": ""}, "needs a property name and a value"),
        ({"conversion_window_days": "365"}, "less than or equal to 90"),
    ],
)
def test_an_events_funnel_form_explains_what_is_missing(cast, change, message):
    response = cast.client("pm").post("/p/LOD/kpis/funnels/new/", _form(**change))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Funnel.objects.exists()


@pytest.mark.parametrize("people", [5, 60])
def test_the_funnel_page_takes_constant_queries(cast, people, django_assert_max_num_queries):
    funnel = events_funnel(cast.product)
    send(
        cast.product,
        [(f"u{i}", hour(i), "viewed", {"platform": f"p{i % 9}"}) for i in range(people)]
        + [(f"u{i}", hour(i + 1), "paid", {}) for i in range(0, people, 3)],
    )
    client = cast.client("pm")
    # session, user, product + membership, layout context (a handful), the funnel with its
    # steps (2), the one funnel query
    with django_assert_max_num_queries(14):
        response = client.get(f"/p/LOD/kpis/funnels/{funnel.pk}/")
    assert response.status_code == 200
    assert f">{people}<" in response.content.decode()
