"""Writes for the roadmap. Each service validates, writes, records the activity log and, on
commit, drops the product's cached public roadmap so share links show the change at once."""

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from backlog.models import Feature
from backlog.ranking import key_between
from backlog.selectors import OpenWork, features_with_open_stories
from backlog.services import feature_ship
from pm.choices import ActivityAction
from pm.models import ActivityLog, Objective, Product, Versioned
from pm.services import EditConflict, activity_record, changed_since, field_display, record_create
from roadmap.choices import Horizon
from roadmap.models import Initiative, InitiativeUpdate, Release, ShareLink

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

INITIATIVE_FIELDS = {
    "title",
    "description",
    "theme",
    "status",
    "horizon",
    "start",
    "start_precision",
    "end",
    "end_precision",
    "confidence",
    "visibility",
    "internal_notes",
}
RELEASE_FIELDS = {"name", "target_date", "shipped_date", "notes", "internal_notes", "visibility"}

# How long a share link's last_used_at may lag: one write per link per minute at most.
LAST_USED_RESOLUTION = 60


def public_cache_key(product_id: int) -> str:
    return f"roadmap:public:{product_id}"


def public_stamp_key(product_id: int) -> str:
    """A random version of the product's cached public data (see roadmap/public.py)."""
    return f"roadmap:public-stamp:{product_id}"


def _roadmap_changed(product: Product) -> None:
    """The public roadmap of `product` is stale once this transaction commits."""
    keys = [public_stamp_key(product.pk), public_cache_key(product.pk)]
    transaction.on_commit(lambda: cache.delete_many(keys))


# --- activity log helpers ------------------------------------------------------------------


def _create[M: models.Model](
    instance: M,
    *,
    m2m: dict[str, Iterable[models.Model]],
    actor: User,
    quiet: AbstractSet[str] = frozenset(),
) -> M:
    instance.full_clean()
    instance.save()
    for name, objects in m2m.items():
        getattr(instance, name).set(objects)
    names = [
        f.name
        for f in instance._meta.concrete_fields
        if f.editable and not f.primary_key and f.name not in {"product", "version", *quiet}
    ]
    changes: dict[str, list[Any]] = {}
    for name in [*names, *m2m]:
        value = field_display(instance, name)
        if value not in (None, ""):
            changes[name] = [None, value]
    activity_record(instance=instance, action=ActivityAction.CREATED, actor=actor, changes=changes)
    return instance


def _update[V: Versioned](
    instance: V,
    *,
    data: dict[str, Any],
    m2m: Mapping[str, Iterable[models.Model]] | None = None,
    expected_version: int,
    actor: User,
    quiet: AbstractSet[str] = frozenset(),
) -> V:
    """Apply `data` (fields) and `m2m` (sets of related objects) if nobody saved the row since
    `expected_version`; log what changed, except the `quiet` fields (rank keys are noise).

    The row stays locked until the surrounding transaction ends, so two saves of the same
    version cannot both succeed."""
    model = type(instance)
    current = model._default_manager.select_for_update().get(pk=instance.pk)
    if current.version != expected_version:
        raise EditConflict(current=current, entries=changed_since(current, expected_version))
    changes: dict[str, list[Any]] = {}
    written = []
    for name, value in data.items():
        before = field_display(current, name)
        if getattr(current, name) == value:
            continue
        setattr(current, name, value)
        written.append(name)
        after = field_display(current, name)
        if name not in quiet and before != after:
            changes[name] = [before, after]
    m2m_changed = []
    for name, objects in (m2m or {}).items():
        objects = list(objects)
        if {o.pk for o in getattr(current, name).all()} == {o.pk for o in objects}:
            continue
        before = field_display(current, name)
        getattr(current, name).set(objects)
        m2m_changed.append(name)
        changes[name] = [before, field_display(current, name)]
    if not written and not m2m_changed:
        return current
    current.full_clean()
    current.version += 1
    update_fields = [*written, "version"]
    if any(f.name == "updated_at" for f in current._meta.concrete_fields):
        update_fields.append("updated_at")
    current.save(update_fields=update_fields)
    if changes:
        activity_record(
            instance=current, action=ActivityAction.UPDATED, actor=actor, changes=changes
        )
    return current


def _delete(instance: Initiative | Release, *, actor: User) -> None:
    product = instance.product
    entry = ActivityLog(
        workspace_id=product.workspace_id,
        product=product,
        actor=actor,
        action=ActivityAction.DELETED,
        object_type=instance._meta.label_lower,
        object_id=instance.pk,
        object_repr=str(instance)[:200],
    )
    instance.delete()
    entry.save()


def _check_same_product[R: Objective | Feature](
    product: Product, objects: Iterable[R], noun: str
) -> list[R]:
    objects = list(objects)
    if any(o.product_id != product.pk for o in objects):
        raise ValidationError({noun: f"Choose {noun} of this product."})
    return objects


# --- initiatives ---------------------------------------------------------------------------


def _lock_ranks(product: Product) -> None:
    """Serialise rank allocation within a product: two moves into one gap would pick one key."""
    Product.objects.select_for_update().filter(pk=product.pk).values_list("pk").get()


def _end_of_column(product: Product, horizon: str, exclude_pk: int | None = None) -> str:
    column = Initiative.objects.filter(product=product, horizon=horizon)
    if exclude_pk:
        column = column.exclude(pk=exclude_pk)
    last = column.order_by("-rank").values_list("rank", flat=True).first()
    return key_between(last, None)


@transaction.atomic
def initiative_create(
    *,
    product: Product,
    data: dict[str, Any],
    objectives: Iterable[Objective] = (),
    features: Iterable[Feature] = (),
    actor: User,
) -> Initiative:
    """Add an initiative at the bottom of its horizon column."""
    unknown = set(data) - INITIATIVE_FIELDS
    if unknown:
        raise ValueError(f"Unknown initiative fields: {sorted(unknown)}")
    objectives = _check_same_product(product, objectives, "objectives")
    features = _check_same_product(product, features, "features")
    _lock_ranks(product)
    initiative = Initiative(product=product, **data)
    initiative.rank = _end_of_column(product, initiative.horizon)
    _create(
        initiative,
        m2m={"objectives": objectives, "features": features},
        actor=actor,
        quiet={"rank"},
    )
    _roadmap_changed(product)
    return initiative


@transaction.atomic
def initiative_update(
    *,
    initiative: Initiative,
    data: dict[str, Any],
    objectives: Iterable[Objective] | None = None,
    features: Iterable[Feature] | None = None,
    expected_version: int,
    actor: User,
) -> Initiative:
    """Edit an initiative; a stale `expected_version` raises EditConflict and writes nothing.
    A new horizon puts it at the bottom of that column."""
    unknown = set(data) - INITIATIVE_FIELDS
    if unknown:
        raise ValueError(f"Unknown initiative fields: {sorted(unknown)}")
    product = initiative.product
    m2m: dict[str, Iterable[models.Model]] = {}
    if objectives is not None:
        m2m["objectives"] = _check_same_product(product, objectives, "objectives")
    if features is not None:
        m2m["features"] = _check_same_product(product, features, "features")
    _lock_ranks(product)
    data = dict(data)
    horizon = data.get("horizon")
    if horizon and horizon != Initiative.objects.values_list("horizon", flat=True).get(
        pk=initiative.pk
    ):
        data["rank"] = _end_of_column(product, horizon, exclude_pk=initiative.pk)
    updated = _update(
        initiative,
        data=data,
        m2m=m2m,
        expected_version=expected_version,
        actor=actor,
        quiet={"rank"},
    )
    _roadmap_changed(product)
    return updated


@transaction.atomic
def initiative_move(
    *,
    initiative: Initiative,
    horizon: str,
    above: Initiative | None,
    below: Initiative | None,
    expected_version: int,
    actor: User,
) -> Initiative:
    """Drop an initiative into `horizon`, just below `above` (None: at the top) — or, without
    `above`, just above `below` (both None: at the bottom). Writes one row.

    Neighbour ranks are read fresh, and the gap is the real one in the whole column, so a drop
    made from a filtered or slightly stale board still lands beside the card it was dropped on."""
    if horizon not in Horizon.values:
        raise ValidationError({"horizon": "Choose now, next or later."})
    product = initiative.product
    _lock_ranks(product)
    column = Initiative.objects.filter(product=product, horizon=horizon).exclude(pk=initiative.pk)
    ranks = column.order_by("rank").values_list("rank", flat=True)
    for neighbour in (above, below):
        if neighbour is not None and neighbour.product_id != product.pk:
            raise ValidationError("The neighbouring card belongs to another product.")
    lo: str | None
    hi: str | None
    if above is not None and column.filter(pk=above.pk).exists():
        lo = column.values_list("rank", flat=True).get(pk=above.pk)
        hi = ranks.filter(rank__gt=lo).first()
    elif below is not None and column.filter(pk=below.pk).exists():
        hi = column.values_list("rank", flat=True).get(pk=below.pk)
        lo = ranks.filter(rank__lt=hi).order_by("-rank").first()
    else:
        lo, hi = ranks.order_by("-rank").first(), None
    moved = _update(
        initiative,
        data={"horizon": horizon, "rank": key_between(lo, hi)},
        expected_version=expected_version,
        actor=actor,
        quiet={"rank"},
    )
    _roadmap_changed(product)
    return moved


@transaction.atomic
def initiative_delete(*, initiative: Initiative, actor: User) -> None:
    product = initiative.product
    _delete(initiative, actor=actor)
    _roadmap_changed(product)


# --- releases ------------------------------------------------------------------------------


@transaction.atomic
def release_create(
    *, product: Product, data: dict[str, Any], features: Iterable[Feature] = (), actor: User
) -> Release:
    unknown = set(data) - RELEASE_FIELDS
    if unknown:
        raise ValueError(f"Unknown release fields: {sorted(unknown)}")
    features = _check_same_product(product, features, "features")
    release = _create(Release(product=product, **data), m2m={"features": features}, actor=actor)
    _roadmap_changed(product)
    return release


@transaction.atomic
def release_update(
    *,
    release: Release,
    data: dict[str, Any],
    features: Iterable[Feature] | None = None,
    expected_version: int,
    actor: User,
) -> Release:
    unknown = set(data) - RELEASE_FIELDS
    if unknown:
        raise ValueError(f"Unknown release fields: {sorted(unknown)}")
    m2m = {}
    if features is not None:
        m2m["features"] = _check_same_product(release.product, features, "features")
    updated = _update(release, data=data, m2m=m2m, expected_version=expected_version, actor=actor)
    _roadmap_changed(release.product)
    return updated


def _shipped_at(on: date) -> datetime:
    """When a release shipped on `on` counts as shipped: now if today, else noon that day in
    the workspace's time zone (a date alone would land on the wrong day in UTC)."""
    now = timezone.now()
    if on == timezone.localdate(now):
        return now
    return timezone.make_aware(datetime.combine(on, time(12)))


class ReleaseHasOpenWork(ValidationError):
    """Shipping would mark features shipped whose stories are not done; `features` lists them
    (see backlog.selectors.features_with_open_stories). Ship anyway with `with_open_work`."""

    def __init__(self, features: "list[WithAnnotations[Feature, OpenWork]]") -> None:
        self.features = features
        parts = []
        for f in features:
            if f.total_points:
                parts.append(f"“{f.title}” ({f.open_points} of {f.total_points} points open)")
            else:
                n = f.open_stories
                parts.append(f"“{f.title}” ({n} stor{'y' if n == 1 else 'ies'} open)")
        count = len(features)
        super().__init__(
            f"{count} feature{'s' if count != 1 else ''} in this release still "
            f"{'has' if count == 1 else 'have'} open stories: {', '.join(parts)}. "
            "Finish them first, or ship anyway.",
            code="open_stories",
        )


@transaction.atomic
def release_ship(
    *,
    release: Release,
    shipped_on: date | None = None,
    expected_version: int,
    actor: User,
    with_open_work: bool = False,
) -> Release:
    """Mark the release shipped and every feature in it shipped (with shipped_at), through the
    backlog's service, so launch-impact measurement starts from the right moment.

    A feature with stories not done is not silently marked shipped: unless `with_open_work`
    says the PM saw the list and ships anyway, ReleaseHasOpenWork is raised and nothing is
    written."""
    shipped_on = shipped_on or timezone.localdate()
    if shipped_on > timezone.localdate() + timedelta(days=1):
        raise ValidationError({"shipped_date": "A release cannot ship in the future."})
    if release.shipped_date is not None:
        raise ValidationError({"shipped_date": "This release has already shipped."})
    if not with_open_work:
        unfinished = features_with_open_stories(release.features.filter(shipped_at__isnull=True))
        if unfinished:
            raise ReleaseHasOpenWork(unfinished)
    shipped = _update(
        release,
        data={"shipped_date": shipped_on},
        expected_version=expected_version,
        actor=actor,
    )
    shipped_at = _shipped_at(shipped_on)
    for feature in shipped.features.filter(shipped_at__isnull=True).order_by("pk"):
        feature_ship(feature=feature, shipped_at=shipped_at, actor=actor)
    _roadmap_changed(release.product)
    return shipped


@transaction.atomic
def release_delete(*, release: Release, actor: User) -> None:
    product = release.product
    _delete(release, actor=actor)
    _roadmap_changed(product)


# --- share links ---------------------------------------------------------------------------


@transaction.atomic
def share_link_create(
    *, product: Product, label: str, expires_at: datetime | None = None, actor: User
) -> tuple[ShareLink, str]:
    """A new share link; returns it with its token, which is not stored and cannot be shown
    again."""
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": "Say who the link is for."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    for _attempt in range(3):
        token = ShareLink.new_token()
        link = ShareLink(
            product=product,
            label=label,
            token_hash=ShareLink.hash_token(token),
            token_hint=token[:6],
            created_by=actor,
            expires_at=expires_at,
        )
        try:
            with transaction.atomic():
                link.full_clean()
                link.save()
        except IntegrityError:  # a 256-bit collision: astronomically unlikely, but not a 500
            continue
        break
    else:
        raise ValidationError("Could not create a unique link; try again.")
    activity_record(
        instance=link,
        action=ActivityAction.CREATED,
        actor=actor,
        changes={
            "label": [None, label],
            "expires_at": [None, expires_at.isoformat() if expires_at else None],
        },
    )
    return link, token


@transaction.atomic
def share_link_revoke(*, link: ShareLink, actor: User) -> ShareLink:
    """Revoke a link; it answers 404 to every request that starts after this commits (the
    public page reads the link's state from the database on each request, see
    selectors.share_link_for_token; nothing about the link is cached)."""
    revoked = ShareLink.objects.filter(pk=link.pk, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    link.refresh_from_db()
    if revoked:
        activity_record(
            instance=link,
            action=ActivityAction.UPDATED,
            actor=actor,
            changes={"state": ["active", "revoked"]},
        )
    return link


def share_link_touch(*, link_id: int, now: datetime | None = None) -> bool:
    """Record that a link was used. At most one write per link per LAST_USED_RESOLUTION
    seconds (the cache claims the slot), so a busy public page does not write on every hit."""
    if not cache.add(f"roadmap:link-used:{link_id}", 1, timeout=LAST_USED_RESOLUTION):
        return False
    ShareLink.objects.filter(pk=link_id).update(last_used_at=now or timezone.now())
    return True


# --- status updates ------------------------------------------------------------------------


RETRY_WINDOW = timedelta(minutes=10)


def initiative_post_update(
    *, initiative: Initiative, status: str, note: str, actor: User
) -> InitiativeUpdate:
    """Post a status update: it becomes the initiative's health (roadmap, overview, digests)
    and an entry in its history. The same update posted again by the same person within
    RETRY_WINDOW while it is still the latest (a retried submit, a double click) is that
    update, not a second one; the same words next week are a new update."""
    note = note.strip()
    with transaction.atomic():
        # Serialise posts on the initiative so two retries cannot both miss the first.
        Initiative.objects.select_for_update().filter(pk=initiative.pk).first()
        latest = (
            InitiativeUpdate.objects.filter(initiative=initiative)
            .order_by("-created_at", "-id")
            .first()
        )
        if (
            latest is not None
            and latest.author_id == actor.pk
            and (latest.status, latest.note) == (status, note)
            and latest.created_at > timezone.now() - RETRY_WINDOW
        ):
            return latest
        return _post_update(initiative, status, note, actor)


def _post_update(initiative: Initiative, status: str, note: str, actor: User) -> InitiativeUpdate:
    update = InitiativeUpdate(
        product=initiative.product,
        initiative=initiative,
        status=status,
        note=note,
        author=actor,
    )
    record_create(instance=update, actor=actor)
    return update
