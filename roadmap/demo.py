"""The demo roadmap for `load_demo`: twelve initiatives over six quarters around today and three
releases, linked to whatever demo features the backlog has. Idempotent: items are found by
title, and features are linked only to demo items that have none yet."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from backlog.models import Feature
from pm.choices import Role
from pm.models import Objective, StrategicTheme
from roadmap import services
from roadmap.choices import Confidence, Health, Horizon, InitiativeStatus, Precision, Visibility
from roadmap.models import Initiative, Release
from roadmap.periods import add_months, month_end, quarter_start

Q, M = Precision.QUARTER, Precision.MONTH

# (title, theme, horizon, status, (start offset, precision), (end offset, precision),
#  confidence, visibility, objective title prefix, description, internal notes)
# Offsets count quarters (Q) or months (M) from the current quarter's first month.
INITIATIVES = [
    (
        "Unified feedback inbox",
        "Customer evidence",
        Horizon.NOW,
        InitiativeStatus.IN_PROGRESS,  # shipped below, for the demo's "What changed"
        (-1, Q),
        (0, Q),
        Confidence.HIGH,
        Visibility.PUBLIC,
        "Make feedback",
        "One inbox for support tickets, sales notes, interviews and app reviews, triaged in "
        "one place.",
        "",
    ),
    (
        "Suggested links from feedback to features",
        "Customer evidence",
        Horizon.NEXT,
        InitiativeStatus.PLANNED,
        (1, Q),
        (2, Q),
        Confidence.MEDIUM,
        Visibility.PUBLIC,
        "Make feedback",
        "Suggest the features a new piece of feedback is about, so **linking** takes a click.",
        "Needs a decision on hosting the matching model ourselves.",
    ),
    (
        "Customer advisory portal",
        "Customer evidence",
        Horizon.LATER,
        InitiativeStatus.PROPOSED,
        (3, Q),
        (4, Q),
        Confidence.LOW,
        Visibility.INTERNAL,
        "",
        "A private space where design partners vote on and discuss upcoming work.",
        "Pilot with two enterprise customers first; legal review of the terms pending.",
    ),
    (
        "Sprint planning with capacity",
        "Delivery flow",
        Horizon.NOW,
        InitiativeStatus.IN_PROGRESS,
        (0, M),
        (2, M),
        Confidence.HIGH,
        Visibility.PUBLIC,
        "Ship refined",
        "Plan sprints against capacity, with committed points and an over-commit warning.",
        "",
    ),
    (
        "Story templates and criteria library",
        "Delivery flow",
        Horizon.NEXT,
        InitiativeStatus.PLANNED,
        (1, Q),
        (1, Q),
        Confidence.MEDIUM,
        Visibility.PUBLIC,
        "Ship refined",
        "Reusable story templates and Given/When/Then acceptance criteria.",
        "",
    ),
    (
        "Git integration for story status",
        "Delivery flow",
        Horizon.LATER,
        InitiativeStatus.PROPOSED,
        (2, Q),
        (3, Q),
        Confidence.LOW,
        Visibility.INTERNAL,
        "Ship refined",
        "Move stories when their branches and merge requests move.",
        "Depends on the API tokens work; estimate is rough.",
    ),
    (
        "Launch impact reports",
        "Outcome measurement",
        Horizon.NOW,
        InitiativeStatus.IN_PROGRESS,
        (1, M),
        (4, M),
        Confidence.MEDIUM,
        Visibility.PUBLIC,
        "Measure the impact",
        "For every shipped feature, compare its KPIs over equal windows before and after.",
        "",
    ),
    (
        "Experiment tracking",
        "Outcome measurement",
        Horizon.LATER,  # moved to Next below, for the demo's "What changed"
        InitiativeStatus.PLANNED,
        (2, Q),
        (2, Q),
        Confidence.MEDIUM,
        Visibility.PUBLIC,
        "Measure the impact",
        "Hypotheses, variants, exposures and conversions, with lift and significance.",
        "",
    ),
    (
        "KPI anomaly alerts",
        "Outcome measurement",
        Horizon.LATER,
        InitiativeStatus.PROPOSED,
        (3, Q),
        (4, Q),
        Confidence.LOW,
        Visibility.PUBLIC,
        "Measure the impact",
        "Tell the owner when a KPI moves outside its usual range.",
        "",
    ),
    (
        "Shareable public roadmap",
        "Stakeholder trust",
        Horizon.NOW,
        InitiativeStatus.IN_PROGRESS,
        (0, Q),
        (0, Q),
        Confidence.HIGH,
        Visibility.PUBLIC,
        "Executives",
        "Share a read-only roadmap with a secret link: public items only, always current.",
        "",
    ),
    (
        "Weekly digest e-mails",
        "Stakeholder trust",
        Horizon.NEXT,
        InitiativeStatus.PLANNED,
        (1, Q),
        (1, Q),
        Confidence.HIGH,
        Visibility.PUBLIC,
        "Executives",
        "What changed on the roadmap, KPIs that moved, new feedback — once a week.",
        "",
    ),
    (
        "Roadmap scenario planning",
        "Stakeholder trust",
        Horizon.LATER,
        InitiativeStatus.PROPOSED,
        (3, Q),
        (4, Q),
        Confidence.LOW,
        Visibility.INTERNAL,
        "Executives",
        "Compare alternative roadmaps side by side before committing to one.",
        "Asked for by the board; not convinced it is worth the complexity.",
    ),
]

# (name, target offset in days, shipped?, initiative titles whose features it carries, notes)
RELEASES = [
    (
        "2026.10 Feedback inbox",
        -40,
        True,
        ["Unified feedback inbox"],
        "The feedback inbox: every source in one place, with triage states.",
    ),
    (
        "Sprint planning",
        20,
        False,
        ["Sprint planning with capacity", "Shareable public roadmap"],
        "Capacity-aware sprint planning and share links for the roadmap.",
    ),
    (
        "Launch impact",
        75,
        False,
        ["Launch impact reports"],
        "Launch impact reports for shipped features.",
    ),
]


def _period_start(base: date, offset: int, precision: str) -> date:
    return add_months(base, 3 * offset if precision == Q else offset)


def _period_end(base: date, offset: int, precision: str) -> date:
    first = _period_start(base, offset, precision)
    return month_end(add_months(first, 2 if precision == Q else 0))


def _features_by_theme(product) -> dict:
    by_theme: dict = {}
    for feature in Feature.objects.filter(product=product).order_by("rank"):
        by_theme.setdefault(feature.theme_id, []).append(feature)
    return by_theme


STATUS_UPDATES = [
    (
        "Sprint planning with capacity",
        Health.ON_TRACK,
        "Capacity and the over-commit warning are in review; velocity chart next sprint.",
    ),
    (
        "Suggested links from feedback to features",
        Health.AT_RISK,
        "Matching quality on paraphrased feedback is below target; evaluating a local "
        "embedding model before committing to a date.",
    ),
    (
        "Customer advisory portal",
        Health.OFF_TRACK,
        "Legal review of the portal terms has not started; the pilot slips a quarter unless "
        "it starts this month.",
    ),
]


@transaction.atomic
def load_demo_roadmap(*, workspace, product, users) -> None:
    pm = users[Role.PM]
    today = timezone.localdate()
    base = quarter_start(today)
    themes = {t.name: t for t in StrategicTheme.objects.filter(product=product)}
    objectives = list(Objective.objects.filter(product=product))
    existing = {i.title: i for i in Initiative.objects.filter(product=product)}
    by_theme = _features_by_theme(product)
    taken = set(
        Initiative.features.through.objects.filter(initiative__product=product).values_list(
            "feature_id", flat=True
        )
    )

    def free_features(theme, n):
        pool = by_theme.get(theme.pk if theme else None, []) or [
            f for fs in by_theme.values() for f in fs
        ]
        picked = [f for f in pool if f.pk not in taken][:n]
        taken.update(f.pk for f in picked)
        return picked

    created = []
    for spec in INITIATIVES:
        (
            title,
            theme_name,
            horizon,
            status,
            start,
            end,
            confidence,
            visibility,
            objective,
            description,
            notes,
        ) = spec
        theme = themes.get(theme_name)
        initiative = existing.get(title)
        if initiative is None:
            initiative = services.initiative_create(
                product=product,
                data={
                    "title": title,
                    "theme": theme,
                    "horizon": horizon,
                    "status": status,
                    "start": _period_start(base, *start),
                    "start_precision": start[1],
                    "end": _period_end(base, *end),
                    "end_precision": end[1],
                    "confidence": confidence,
                    "visibility": visibility,
                    "description": description,
                    "internal_notes": notes,
                },
                objectives=[o for o in objectives if objective and o.title.startswith(objective)],
                actor=pm,
            )
            created.append(initiative)
            existing[title] = initiative
        if not initiative.features.exists():
            features = free_features(theme, 2)
            if features:
                services.initiative_update(
                    initiative=initiative,
                    data={},
                    features=features,
                    expected_version=initiative.version,
                    actor=pm,
                )

    # A little history for "What changed", on the first load only: an initiative moves up
    # from Later to Next, one is re-dated, one ships.
    created_titles = {i.title for i in created}
    if "Experiment tracking" in created_titles:
        moved = existing["Experiment tracking"]
        moved.refresh_from_db()
        services.initiative_move(
            initiative=moved,
            horizon=Horizon.NEXT,
            above=None,
            below=None,
            expected_version=moved.version,
            actor=pm,
        )
    if "Launch impact reports" in created_titles:
        redated = existing["Launch impact reports"]
        redated.refresh_from_db()
        services.initiative_update(
            initiative=redated,
            data={"end": _period_end(base, 5, M)},
            expected_version=redated.version,
            actor=pm,
        )
    if "Unified feedback inbox" in created_titles:
        shipped = existing["Unified feedback inbox"]
        shipped.refresh_from_db()
        services.initiative_update(
            initiative=shipped,
            data={"status": InitiativeStatus.SHIPPED},
            expected_version=shipped.version,
            actor=pm,
        )

    releases = {r.name: r for r in Release.objects.filter(product=product)}
    for name, offset, is_shipped, titles, notes in RELEASES:
        release = releases.get(name)
        if release is None:
            release = services.release_create(
                product=product,
                data={
                    "name": name,
                    "target_date": today + timedelta(days=offset),
                    "notes": notes,
                    "visibility": Visibility.PUBLIC,
                },
                actor=pm,
            )
        if not release.features.exists():
            features = Feature.objects.filter(
                initiatives__product=product, initiatives__title__in=titles
            ).distinct()
            if features:
                release = services.release_update(
                    release=release,
                    data={},
                    features=list(features),
                    expected_version=release.version,
                    actor=pm,
                )
        if is_shipped and release.shipped_date is None and release.features.exists():
            services.release_ship(
                release=release,
                shipped_on=release.target_date,
                expected_version=release.version,
                actor=pm,
                with_open_work=True,
            )

    # Status updates on the work under way (first load only): the overview's OKR health, the
    # roadmap's badges and the digest read them.
    for title, health, note in STATUS_UPDATES:
        initiative = existing.get(title)
        if initiative is not None and not initiative.updates.exists():
            services.initiative_post_update(
                initiative=initiative, status=health, note=note, actor=pm
            )
