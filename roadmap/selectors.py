"""Reads for the roadmap, with their joins and the caller's visibility applied.

`visibility` is "internal" (the team: everything) or "public" (stakeholders and share links:
public initiatives and releases only, and never an internal field).
"""

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Field, Model, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from backlog.filters import filtered
from backlog.models import Feature
from pm import visibility as policy
from pm.choices import ActivityAction
from pm.models import ActivityLog, Membership, Objective, Product, StrategicTheme
from pm.selectors import objectives_for_product
from roadmap.choices import HEALTH_ORDER, Health, Horizon, InitiativeStatus, Precision, Visibility
from roadmap.filters import InitiativeFilter
from roadmap.models import Initiative, InitiativeUpdate, Release, ShareLink
from roadmap.periods import span_label
from roadmap.timeline import TimelineItem

PUBLIC = Visibility.PUBLIC.value
INTERNAL = Visibility.INTERNAL.value

# A change must show on share links within a minute; writes also drop the entry at once.
PUBLIC_CACHE_SECONDS = 60
PUBLIC_CHANGES_DAYS = 30


def visibility_for(membership: Membership | None) -> str:
    """Stakeholders get the public roadmap; engineers, PMs and admins the whole one (the team,
    in pm.visibility's terms)."""
    viewer = policy.viewer_for(membership)
    return INTERNAL if viewer is not None and viewer.is_team else PUBLIC


def _public[M: Model](qs: QuerySet[M]) -> QuerySet[M]:
    """The rows and fields of `qs` that readers outside the team get (pm.visibility: public
    rows, internal notes blanked)."""
    return policy.apply(qs, policy.SHARE_LINK)


# --- initiatives and releases --------------------------------------------------------------


def initiative_list(
    *, product: Product, visibility: str, filters: dict[str, Any] | None = None
) -> QuerySet[Initiative]:
    """The product's initiatives in board order (horizon, then rank), filtered by theme
    (a theme, or "none"), status and objective."""
    qs = Initiative.objects.filter(product=product).select_related("theme")
    if visibility == PUBLIC:
        qs = _public(qs)
    else:
        qs = qs.annotate(feature_count=Count("features", distinct=True))
    qs = filtered(InitiativeFilter, qs, filters or {})
    return with_health(qs).order_by("rank", "id")


def health_of(initiative: Initiative) -> Health | None:
    """The latest status update's health of an initiative read through `with_health`."""
    value = getattr(initiative, "health", None)
    return Health(value) if value else None


def with_health(qs: QuerySet[Initiative]) -> QuerySet[Initiative]:
    """Initiatives annotated with their latest status update: `health` (on_track / at_risk /
    off_track, None before the first update) and `health_at` — two subqueries in the one query."""
    latest = InitiativeUpdate.objects.filter(initiative=OuterRef("pk")).order_by(
        "-created_at", "-id"
    )
    return qs.annotate(
        health=Subquery(latest.values("status")[:1]),
        health_at=Subquery(latest.values("created_at")[:1]),
    )


def initiative_updates(*, initiative: Initiative) -> QuerySet[InitiativeUpdate]:
    """An initiative's status updates, newest first (readers who see it see them)."""
    return InitiativeUpdate.objects.filter(initiative=initiative).select_related("author")


# An initiative under way without a status update for this long is due one.
UPDATE_DUE_DAYS = 14


@dataclass
class ObjectiveHealth:
    objective: Objective
    initiatives: list[Initiative]
    counts: dict[str, int]  # health → number of aligned initiatives with that latest update

    @property
    def health(self) -> str | None:
        """The worst latest update among aligned initiatives (None when none has one)."""
        known = [h for h in map(health_of, self.initiatives) if h]
        return min(known, key=lambda h: HEALTH_ORDER[h]) if known else None

    @property
    def health_label(self) -> str:
        return Health(self.health).label if self.health else ""


def okr_health(*, product: Product, visibility: str, today: date | None = None) -> dict[str, Any]:
    """Objectives with their key results' progress and the health of the initiatives aligned
    to them, initiatives at risk or off track with their latest note, and (for the team)
    initiatives in progress whose update is due. Four queries whatever the size."""

    today = today or timezone.localdate()
    objectives = list(objectives_for_product(product))
    open_initiatives = with_health(Initiative.objects.filter(product=product)).exclude(
        status__in=(InitiativeStatus.SHIPPED, InitiativeStatus.CANCELLED)
    )
    if visibility == PUBLIC:
        open_initiatives = _public(open_initiatives)
    initiatives = list(
        open_initiatives.prefetch_related(
            Prefetch("objectives", queryset=Objective.objects.only("id"))
        )
        .select_related("theme")
        .order_by("rank", "id")
    )
    aligned: dict[int, list[Initiative]] = {o.pk: [] for o in objectives}
    for initiative in initiatives:
        for objective in initiative.objectives.all():
            aligned.setdefault(objective.pk, []).append(initiative)
    rows = []
    for objective in objectives:
        mine = aligned.get(objective.pk, [])
        counts = {h.value: 0 for h in Health}
        for initiative in mine:
            if health := health_of(initiative):
                counts[health.value] += 1
        rows.append(ObjectiveHealth(objective, mine, counts))
    troubled = sorted(
        (i for i in initiatives if health_of(i) in (Health.AT_RISK, Health.OFF_TRACK)),
        key=lambda i: (HEALTH_ORDER[health_of(i) or Health.ON_TRACK], i.title.lower()),
    )
    notes: dict[int, str] = {}
    if troubled:
        for update in InitiativeUpdate.objects.filter(
            pk__in=Subquery(
                InitiativeUpdate.objects.filter(initiative=OuterRef("initiative"))
                .order_by("-created_at", "-id")
                .values("pk")[:1]
            ),
            initiative__in=[i.pk for i in troubled],
        ):
            notes[update.initiative_id] = update.note
    due_before = timezone.now() - timedelta(days=UPDATE_DUE_DAYS)
    due = [
        i
        for i in initiatives
        if i.status == InitiativeStatus.IN_PROGRESS
        and ((at := getattr(i, "health_at", None)) is None or at < due_before)
    ]
    return {
        "objectives": rows,
        "troubled": [(i, notes.get(i.pk, "")) for i in troubled],
        "due": due if visibility == INTERNAL else [],
        "due_days": UPDATE_DUE_DAYS,
        "today": today,
    }


def initiatives_by_horizon(
    initiatives: Iterable[Initiative],
) -> list[tuple[str, str, list[Initiative]]]:
    columns: dict[str, list[Initiative]] = {h.value: [] for h in Horizon}
    for initiative in initiatives:
        columns[initiative.horizon].append(initiative)
    return [(h.value, h.label, columns[h.value]) for h in Horizon]


def initiatives_for_timeline(
    initiatives: Iterable[Initiative], *, url_for: Callable[[Initiative], str] | None = None
) -> list[TimelineItem]:
    """Timeline items in lane order: by theme name, then start date, then board order."""
    items = [
        TimelineItem(
            pk=i.pk,
            title=i.title,
            start=i.start,
            end=i.end,
            timeframe=i.timeframe,
            status=i.status,
            status_label=i.get_status_display(),
            horizon_label=i.get_horizon_display(),
            theme_key=i.theme_id,
            theme_name=i.theme.name if i.theme else "",
            theme_colour=i.theme.colour if i.theme else "#5f6682",
            internal=i.visibility != PUBLIC,
            url=url_for(i) if url_for else "",
            health=getattr(i, "health", None) or "",
        )
        for i in initiatives
    ]
    return sorted(
        items, key=lambda t: (t.theme_name == "", t.theme_name.lower(), t.start or date.max)
    )


def release_list(*, product: Product, visibility: str) -> QuerySet[Release]:
    qs = Release.objects.filter(product=product)
    if visibility == PUBLIC:
        qs = _public(qs)
    else:
        qs = qs.annotate(feature_count=Count("features", distinct=True))
    return qs.order_by("target_date", "id")


def release_detail_list(*, product: Product) -> QuerySet[Release]:
    """Releases with their features, for the team's release list."""
    return release_list(product=product, visibility=INTERNAL).prefetch_related(
        Prefetch("features", queryset=Feature.objects.only("id", "title", "status", "shipped_at"))
    )


def features_prefetch(viewer: policy.Viewer | None) -> "Prefetch[str, QuerySet[Feature], str]":
    """An initiative's or release's features, as many as `viewer` sees (pm.visibility)."""
    features = Feature.objects.only("id", "title", "status", "shipped_at", "product_id")
    return Prefetch("features", queryset=policy.visible(features, viewer))


def initiative_detail(
    *, product: Product, pk: int, visibility: str, viewer: policy.Viewer | None = None
) -> Initiative:
    qs = with_health(Initiative.objects.filter(product=product).select_related("theme"))
    if visibility == PUBLIC:
        qs = _public(qs)
    if viewer is None:
        viewer = policy.Viewer(policy.Audience.ADMIN) if visibility == INTERNAL else None
    return qs.prefetch_related(
        Prefetch("objectives", queryset=Objective.objects.order_by("period", "title")),
        features_prefetch(viewer),
    ).get(pk=pk)


def filter_choices(product: Product) -> dict[str, list[Any]]:
    return {
        "themes": list(StrategicTheme.objects.filter(product=product).only("id", "name")),
        "objectives": list(Objective.objects.filter(product=product).only("id", "title")),
        "statuses": InitiativeStatus.choices,
    }


def initiatives_for_feature(*, feature: Feature, visibility: str) -> list[Initiative]:
    qs = Initiative.objects.filter(features=feature).select_related("theme")
    if visibility == PUBLIC:
        qs = _public(qs)
    return list(qs.order_by("rank"))


def releases_for_feature(*, feature: Feature, visibility: str) -> list[Release]:
    qs = Release.objects.filter(features=feature)
    if visibility == PUBLIC:
        qs = _public(qs)
    return list(qs.order_by("target_date"))


def roadmap_glance(*, product: Product, visibility: str) -> dict[str, Any]:
    """Counts per horizon, the first few Now items and the next release: three queries."""
    qs = Initiative.objects.filter(product=product)
    if visibility == PUBLIC:
        qs = qs.filter(visibility=PUBLIC)
    counts = qs.aggregate(
        **{h.value: Count("id", filter=Q(horizon=h.value)) for h in Horizon},
    )
    now = list(qs.filter(horizon=Horizon.NOW).select_related("theme").order_by("rank")[:5])
    releases = Release.objects.filter(product=product, shipped_date__isnull=True)
    if visibility == PUBLIC:
        releases = releases.filter(visibility=PUBLIC)
    next_release = releases.order_by("target_date", "id").first()
    return {
        "counts": [(h.label, counts[h.value]) for h in Horizon],
        "now": now,
        "next_release": next_release,
        "total": sum(counts.values()),
    }


# --- share links ---------------------------------------------------------------------------


def share_links_for_product(product: Product) -> QuerySet[ShareLink]:
    return ShareLink.objects.filter(product=product).select_related("created_by")


@dataclass(frozen=True)
class ResolvedLink:
    """What the public page needs to know about an active share link."""

    id: int
    product_id: int
    expires_at: datetime | None

    def is_active(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


def share_link_for_token(token: str) -> ResolvedLink | None:
    """The active share link for `token`, or None for a wrong, expired or revoked one.

    Read from the database on every request (one indexed query) and never cached: a
    revocation is effective for every request that starts after it commits, whatever the
    cache holds or whichever request wrote it there (roadmap/public.py caches only the
    product's public data, which no revocation changes)."""
    if not token or len(token) > 100:
        return None
    # Plain SQL: on the public page's hot path, the ORM's query building costs more than the
    # query (an index lookup on the unique token hash).
    with connection.cursor() as cursor:
        cursor.execute(_ACTIVE_LINK_SQL, [ShareLink.hash_token(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    link = ResolvedLink(*row)
    return link if link.is_active(timezone.now()) else None


_ACTIVE_LINK_SQL = (
    f"SELECT id, product_id, expires_at FROM {ShareLink._meta.db_table}"  # noqa: S608
    " WHERE token_hash = %s AND revoked_at IS NULL"
)


# --- what changed --------------------------------------------------------------------------


@dataclass(frozen=True)
class RoadmapChange:
    """One thing that changed on the roadmap, for the "What changed" page and digests.

    `kind` is "added", "moved" (between horizons), "redated" or "shipped"; `item_type` is
    "initiative" or "release". `actor` is None in public entries."""

    kind: str
    at: datetime
    item_type: str
    item_id: int
    title: str
    summary: str
    before: str | None
    after: str | None
    actor: str | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


_TRACKED = {
    "roadmap.initiative": [
        "horizon",
        "status",
        "visibility",
        "start",
        "start_precision",
        "end",
        "end_precision",
    ],
    "roadmap.release": ["visibility", "target_date", "shipped_date"],
}
_PRECISION_BY_LABEL = {str(label): value for value, label in Precision.choices}
_PUBLIC_LABEL = str(Visibility.PUBLIC.label)
_SHIPPED_LABEL = str(InitiativeStatus.SHIPPED.label)


def _state_of(obj: Initiative | Release) -> dict[str, Any]:
    """The tracked fields of a row as the activity log writes them (labels, ISO dates)."""
    state = {}
    for name in _TRACKED[obj._meta.label_lower]:
        field = obj._meta.get_field(name)
        value = getattr(obj, name)
        if isinstance(field, Field) and field.choices and value is not None:
            value = str(dict(field.flatchoices).get(value, value))
        elif isinstance(value, date):
            value = value.isoformat()
        state[name] = value
    return state


def _span_of(state: dict[str, Any]) -> str:
    start, end = state.get("start"), state.get("end")
    if not start or not end:
        return "no dates"
    return span_label(
        date.fromisoformat(start),
        _PRECISION_BY_LABEL.get(state.get("start_precision") or "", Precision.MONTH),
        date.fromisoformat(end),
        _PRECISION_BY_LABEL.get(state.get("end_precision") or "", Precision.MONTH),
    )


def _day(iso: str | None) -> str:
    """'2027-02-09' → '9 Feb 2027' (activity-log dates are ISO strings)."""
    if not iso:
        return ""
    day = date.fromisoformat(iso[:10])
    return f"{day.day} {day:%b %Y}"


def _describe(
    entry: ActivityLog,
    obj: Initiative | Release,
    before: dict[str, Any],
    after: dict[str, Any],
    visibility: str,
) -> list[tuple[str, str, str | None, str | None]]:
    """(kind, summary, before, after) for the changes in one log entry worth reporting."""
    is_initiative = isinstance(obj, Initiative)
    found: list[tuple[str, str, str | None, str | None]] = []
    if entry.action == ActivityAction.CREATED:
        if visibility == PUBLIC and after.get("visibility") != _PUBLIC_LABEL:
            return []
        where = after.get("horizon") if is_initiative else _day(after.get("target_date"))
        summary = f"added to {where}" if is_initiative else f"added, targeting {where}"
        return [("added", summary, None, where)]
    changes = entry.changes or {}
    if visibility == PUBLIC and "visibility" in changes and after["visibility"] == _PUBLIC_LABEL:
        found.append(("added", "added to the public roadmap", None, None))
    if is_initiative:
        if "horizon" in changes:
            found.append(
                (
                    "moved",
                    f"moved from {before['horizon']} to {after['horizon']}",
                    before["horizon"],
                    after["horizon"],
                )
            )
        if {"start", "end", "start_precision", "end_precision"} & set(changes):
            old, new = _span_of(before), _span_of(after)
            if old != new:
                found.append(("redated", f"re-dated from {old} to {new}", old, new))
        if (
            "status" in changes
            and after["status"] == _SHIPPED_LABEL
            and before["status"] != _SHIPPED_LABEL
        ):
            found.append(("shipped", "shipped", before["status"], after["status"]))
    else:
        if "target_date" in changes and before["target_date"] and after["target_date"]:
            old, new = _day(before["target_date"]), _day(after["target_date"])
            found.append(("redated", f"re-dated from {old} to {new}", old, new))
        if "shipped_date" in changes and after["shipped_date"] and not before["shipped_date"]:
            day = _day(after["shipped_date"])
            found.append(("shipped", f"shipped on {day}", None, day))
    return found


def roadmap_changes(
    *,
    product: Product,
    since: datetime,
    visibility: str,
    until: datetime | None = None,
    limit: int = 500,
) -> list[RoadmapChange]:
    """What changed on the roadmap since `since`, newest first: initiatives (and releases)
    added, moved between horizons, re-dated and shipped, read from the activity log.

    With visibility "public", only changes to items that were public right after the change
    are reported (an item made public shows up as "added"), without who made them. Each row's
    state at every logged moment is rebuilt by walking the log back from the current values,
    so before/after are exact. `until` (exclusive) bounds the period, for digests. Three queries
    whatever the number of entries."""
    log = ActivityLog.objects.filter(
        product=product,
        created_at__gte=since,
        object_type__in=list(_TRACKED),
        action__in=[ActivityAction.CREATED, ActivityAction.UPDATED],
    )
    # Entries after `until` are read too: the walk back from today's rows needs them.
    entries = list(log.select_related("actor").order_by("-created_at", "-id")[:limit])
    ids: dict[str, set[int]] = {"roadmap.initiative": set(), "roadmap.release": set()}
    for entry in entries:
        ids[entry.object_type].add(entry.object_id)
    objects: dict[tuple[str, int], Initiative | Release] = {}
    if ids["roadmap.initiative"]:
        for initiative in Initiative.objects.filter(
            product=product, pk__in=ids["roadmap.initiative"]
        ):
            objects["roadmap.initiative", initiative.pk] = initiative
    if ids["roadmap.release"]:
        for release in Release.objects.filter(product=product, pk__in=ids["roadmap.release"]):
            objects["roadmap.release", release.pk] = release
    states = {key: _state_of(obj) for key, obj in objects.items()}
    found: list[RoadmapChange] = []
    for entry in entries:
        key = (entry.object_type, entry.object_id)
        obj = objects.get(key)
        if obj is None:  # deleted since: nothing to point at
            continue
        after = states[key]
        before = dict(after)
        for name, pair in (entry.changes or {}).items():
            if name in before and isinstance(pair, list) and len(pair) == 2:
                before[name] = pair[0]
        states[key] = before
        if until is not None and entry.created_at >= until:
            continue
        if visibility == PUBLIC and after.get("visibility") != _PUBLIC_LABEL:
            continue
        actor = None
        if visibility != PUBLIC:
            actor = (
                (entry.actor.get_full_name() or entry.actor.username) if entry.actor else "Someone"
            )
        for kind, summary, old, new in _describe(entry, obj, before, after, visibility):
            found.append(
                RoadmapChange(
                    kind=kind,
                    at=entry.created_at,
                    item_type="initiative" if isinstance(obj, Initiative) else "release",
                    item_id=obj.pk,
                    title=obj.title if isinstance(obj, Initiative) else obj.name,
                    summary=summary,
                    before=old,
                    after=new,
                    actor=actor,
                )
            )
    return found


# --- the public roadmap --------------------------------------------------------------------


def _public_initiative(i: Initiative) -> dict[str, Any]:
    # A whitelist: adding a model field never publishes it by accident.
    return {
        "id": i.pk,
        "title": i.title,
        "description": i.description,
        "theme": {"name": i.theme.name, "colour": i.theme.colour} if i.theme else None,
        "status": i.status,
        "status_label": i.get_status_display(),
        "horizon": i.horizon,
        "horizon_label": i.get_horizon_display(),
        "start": i.start.isoformat() if i.start else None,
        "start_precision": i.start_precision if i.start else None,
        "end": i.end.isoformat() if i.end else None,
        "end_precision": i.end_precision if i.end else None,
        "timeframe": i.timeframe,
        "confidence": i.confidence,
    }


def _public_release(r: Release) -> dict[str, Any]:
    return {
        "id": r.pk,
        "name": r.name,
        "target_date": r.target_date.isoformat(),
        "shipped_date": r.shipped_date.isoformat() if r.shipped_date else None,
        "notes": r.notes,
    }


def public_roadmap(*, product: Product, now: datetime | None = None) -> dict[str, Any]:
    """The public roadmap of `product` as plain data (the JSON API serves it as is, the share
    page renders it): public initiatives and releases, whitelisted fields only, and the last
    30 days of public changes. Five queries."""
    now = now or timezone.now()
    initiatives = Initiative.objects.filter(product=product, visibility=PUBLIC).select_related(
        "theme"
    )
    releases = Release.objects.filter(product=product, visibility=PUBLIC)
    changes = roadmap_changes(
        product=product,
        since=now - timedelta(days=PUBLIC_CHANGES_DAYS),
        visibility=PUBLIC,
        limit=200,
    )
    return {
        "product": {"key": product.key, "name": product.name},
        "generated_at": now.isoformat(),
        "initiatives": [_public_initiative(i) for i in initiatives.order_by("rank", "id")],
        "releases": [_public_release(r) for r in releases.order_by("target_date", "id")],
        "changes": [c.as_dict() for c in changes],
    }


def public_roadmap_for(product_id: int) -> dict[str, Any] | None:
    """`public_roadmap` of a product by id, or None when it no longer exists."""
    product = Product.objects.filter(pk=product_id).first()
    return None if product is None else public_roadmap(product=product)


def public_timeline_items(data: dict[str, Any]) -> list[TimelineItem]:
    items = []
    for i in data["initiatives"]:
        theme = i["theme"] or {}
        items.append(
            TimelineItem(
                pk=i["id"],
                title=i["title"],
                start=date.fromisoformat(i["start"]) if i["start"] else None,
                end=date.fromisoformat(i["end"]) if i["end"] else None,
                timeframe=i["timeframe"],
                status=i["status"],
                status_label=i["status_label"],
                horizon_label=i["horizon_label"],
                theme_key=theme.get("name"),
                theme_name=theme.get("name", ""),
                theme_colour=theme.get("colour", "#5f6682"),
            )
        )
    return sorted(
        items, key=lambda t: (t.theme_name == "", t.theme_name.lower(), t.start or date.max)
    )
