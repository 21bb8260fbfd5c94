"""Demo data for `load_demo`: seven KPIs with a year of daily data (ending yesterday), launch
impacts of two shipped features (one clearly visible), three experiments (one of them a price
test), a funnel, and a key result that follows a KPI. Idempotent: whatever exists already is left
alone."""

import math
import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from backlog.models import Feature
from metrics import services
from metrics.choices import Aggregation, Direction, ExperimentStatus, Granularity
from metrics.models import KPI, Experiment, Funnel, KeyResultKPI, LaunchImpact
from metrics.points import Point
from pm.choices import Role
from pm.models import KeyResult

DAYS = 365
INBOX = "Unified feedback inbox"
SHARE_LINKS = "Public roadmap share links"
CHECKLIST = "Onboarding checklist for new products"
PRICE_TEST = "Team plan price: €24, €29 or €39"


def _ship_index(features: dict[str, Feature], title: str, first: date, tz) -> int | None:
    feature = features.get(title)
    if feature is None or feature.shipped_at is None:
        return None
    return (feature.shipped_at.astimezone(tz).date() - first).days


def _series(name: str, first: date, ships: dict[str, int | None]) -> list[float]:
    """A year of plausible daily values for the named KPI."""
    rng = random.Random(name)
    inbox, share = ships.get(INBOX), ships.get(SHARE_LINKS)
    values = []
    for i in range(DAYS):
        day = first + timedelta(days=i)
        weekend = day.weekday() >= 5
        season = math.sin(i / DAYS * 2 * math.pi)
        if name == "Sign-ups":
            v = (48 + i * 0.06 + 6 * season) * (0.55 if weekend else 1) + rng.gauss(0, 5)
        elif name == "Activated teams":
            signups = (48 + i * 0.06 + 6 * season) * (0.55 if weekend else 1)
            v = signups * (0.31 + i / DAYS * 0.08) + rng.gauss(0, 2.5)
        elif name == "Feedback triaged within 2 days":
            ramp = min(1.0, (i - inbox) / 4) if inbox is not None and i > inbox else 0.0
            v = 47 + 22 * ramp + rng.gauss(0, 3.5)
        elif name == "Monthly recurring revenue":
            v = 61_500 * (1.011 ** (i / 30.4)) + rng.gauss(0, 250)
        elif name == "Median page load":
            v = 640 - i * 0.45 + (120 if 200 <= i <= 206 else 0) + rng.gauss(0, 22)
        else:  # Stakeholder roadmap views
            after = share is not None and i > share
            v = (1.6 + i * 0.004) * (0.3 if weekend else 1) * (1.7 if after else 1)
            v += rng.gauss(0, 0.6)
        values.append(max(v, 0))
    return values


KPIS = [
    # name, unit, direction, aggregation, granularity, target, description, decimals
    (
        "Sign-ups",
        "",
        Direction.HIGHER,
        Aggregation.SUM,
        Granularity.WEEK,
        450,
        "New workspaces created (trial start).",
        0,
    ),
    (
        "Activated teams",
        "",
        Direction.HIGHER,
        Aggregation.SUM,
        Granularity.WEEK,
        None,
        "New workspaces that created a product and invited a teammate within 7 days.",
        0,
    ),
    (
        "Feedback triaged within 2 days",
        "%",
        Direction.HIGHER,
        Aggregation.AVERAGE,
        Granularity.WEEK,
        80,
        "Share of feedback items triaged within two days of arriving, measured daily.",
        1,
    ),
    (
        "Monthly recurring revenue",
        "€",
        Direction.HIGHER,
        Aggregation.LAST,
        Granularity.MONTH,
        90_000,
        "MRR at the end of the period, from the billing system.",
        0,
    ),
    (
        "Median page load",
        "ms",
        Direction.LOWER,
        Aggregation.AVERAGE,
        Granularity.DAY,
        400,
        "Median server time of product pages, daily, from the APM.",
        0,
    ),
    (
        "Stakeholder roadmap views",
        "views",
        Direction.HIGHER,
        Aggregation.SUM,
        Granularity.WEEK,
        120,
        "Roadmap page views by stakeholders and share-link visitors.",
        0,
    ),
]


def load(*, workspace, product, users) -> None:
    pm = users[Role.PM]
    tz = ZoneInfo(workspace.time_zone or "UTC")
    today = timezone.localdate(timezone=tz)
    first = today - timedelta(days=DAYS)
    features = {f.title: f for f in Feature.objects.filter(product=product)}
    ships = {t: _ship_index(features, t, first, tz) for t in (INBOX, SHARE_LINKS)}
    existing = {k.name: k for k in KPI.objects.filter(product=product)}

    kpis: dict[str, KPI] = {}
    for name, unit, direction, aggregation, granularity, target, text, places in KPIS:
        kpi = existing.get(name)
        if kpi is None:
            kpi = services.kpi_create(
                product=product,
                data={
                    "name": name,
                    "unit": unit,
                    "direction": direction,
                    "aggregation": aggregation,
                    "granularity": granularity,
                    "target_value": None if target is None else Decimal(target),
                    "target_date": date(today.year + 1, 6, 30) if target is not None else None,
                    "description": text,
                    "owner": pm,
                },
                actor=pm,
            )
            points = [
                Point(
                    datetime.combine(first + timedelta(days=i), time(12), tzinfo=tz),
                    Decimal(str(round(value, places))),
                )
                for i, value in enumerate(_series(name, first, ships))
            ]
            services.datapoints_ingest(kpi=kpi, points=points, actor=pm, source="the demo")
            # Roll up now, so the demo has charts even before a worker runs.
            services.kpi_recalculate(kpi_id=kpi.pk)
        kpis[name] = kpi

    if "Activation rate" not in existing:
        ratio = services.kpi_create(
            product=product,
            data={
                "name": "Activation rate",
                "unit": "%",
                "direction": Direction.HIGHER,
                "aggregation": Aggregation.RATIO,
                "granularity": Granularity.WEEK,
                "numerator": kpis["Activated teams"],
                "denominator": kpis["Sign-ups"],
                "ratio_multiplier": Decimal(100),
                "target_value": Decimal(45),
                "target_date": date(today.year + 1, 3, 31),
                "description": "Activated teams ÷ sign-ups, per period.",
                "owner": pm,
            },
            actor=pm,
        )
        services.kpi_recalculate(kpi_id=ratio.pk, full=True)

    predictions = [
        (INBOX, "Feedback triaged within 2 days", Decimal(25), 28, "Triage in one place."),
        (SHARE_LINKS, "Stakeholder roadmap views", Decimal(50), 21, "Links in the board deck."),
    ]
    for title, kpi_name, change, window, notes in predictions:
        feature = features.get(title)
        if feature is None or LaunchImpact.objects.filter(feature=feature).exists():
            continue
        services.launch_impact_create(
            product=product,
            data={
                "feature": feature,
                "kpi": kpis[kpi_name],
                "predicted_change": change,
                "window_days": window,
                "notes": notes,
            },
            actor=pm,
        )

    if not Experiment.objects.filter(product=product).exists():
        services.experiment_create(
            product=product,
            data={
                "name": "Onboarding checklist on the empty dashboard",
                "hypothesis": (
                    "We believe that showing a **three-step checklist** to new workspaces will "
                    "raise activation, because new PMs don't know where to start."
                ),
                "feature": features.get(CHECKLIST),
                "status": ExperimentStatus.RUNNING,
                "started_on": today - timedelta(days=21),
            },
            variants=[
                {"name": "Empty dashboard", "exposures": 4210, "conversions": 1053},
                {"name": "Checklist", "exposures": 4186, "conversions": 1214},
            ],
            actor=pm,
        )
        services.experiment_create(
            product=product,
            data={
                "name": "Pricing page headline",
                "hypothesis": "A headline about outcomes converts more visitors than one about "
                "features.",
                "status": ExperimentStatus.RUNNING,
                "started_on": today - timedelta(days=3),
            },
            variants=[
                {"name": "Features headline", "exposures": 182, "conversions": 4},
                {"name": "Outcomes headline", "exposures": 176, "conversions": 7},
            ],
            actor=pm,
        )

    # Its own guard: a demo loaded before pricing experiments existed gets it too.
    if not Experiment.objects.filter(product=product, name=PRICE_TEST).exists():
        services.experiment_create(
            product=product,
            data={
                "name": PRICE_TEST,
                "hypothesis": (
                    "We believe that the Team plan can cost **more than €29** without losing "
                    "enough sign-ups to earn less per visitor, because teams compare it with "
                    "tools at €59–75."
                ),
                "status": ExperimentStatus.RUNNING,
                "started_on": today - timedelta(days=14),
            },
            variants=[
                {"name": "€29 (today)", "exposures": 3120, "conversions": 187, "price": "29"},
                {"name": "€24", "exposures": 3098, "conversions": 214, "price": "24"},
                {"name": "€39", "exposures": 3105, "conversions": 161, "price": "39"},
            ],
            actor=pm,
        )

    if not Funnel.objects.filter(product=product).exists():
        services.funnel_create(
            product=product,
            data={
                "name": "Trial to paid",
                "description": "New visitors of the last 30 days, by the furthest step reached.",
                "period_start": today - timedelta(days=30),
                "period_end": today - timedelta(days=1),
            },
            steps=[
                {"name": "Visited the pricing page", "count": 12_400},
                {"name": "Started a trial", "count": 2_480},
                {"name": "Created a product", "count": 1_590},
                {"name": "Invited a teammate", "count": 720},
                {"name": "Subscribed", "count": 410},
            ],
            actor=pm,
        )

    views_kr = KeyResult.objects.filter(
        objective__product=product, description="Weekly stakeholder roadmap views"
    ).first()
    if views_kr and not KeyResultKPI.objects.filter(key_result=views_kr).exists():
        services.key_result_link(
            key_result=views_kr, kpi=kpis["Stakeholder roadmap views"], actor=pm
        )
