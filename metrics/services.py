"""Writes for the metrics app: KPI definitions, data ingestion, recalculation, key-result links,
launch impacts, experiments and funnels. Each service validates, writes, records the activity log
and enqueues its tasks on commit."""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone

from metrics import partitions, rollups
from metrics.choices import Aggregation, DataSource, EventMeasure
from metrics.events import EventIngestResult, IncomingEvent, insert_events
from metrics.models import (
    KPI,
    DataPoint,
    DirtyRange,
    Experiment,
    Funnel,
    FunnelStep,
    KeyResultKPI,
    LaunchImpact,
    PointsUpload,
    Variant,
)
from metrics.points import Point, PointsError, parse_csv
from pm.background import content_hash, progress_set, run_in_background
from pm.choices import ActivityAction, ImportStatus
from pm.models import KeyResult, Product, Versioned
from pm.services import (
    EditConflict,
    activity_record,
    record_create,
    record_delete,
    versioned_update,
)

log = logging.getLogger(__name__)

# Changing any of these changes what every bucket means: recompute them all.
_RECOMPUTE_FIELDS = {
    "aggregation",
    "numerator",
    "denominator",
    "ratio_multiplier",
    "event_name",
    "event_measure",
    "event_property",
}


def _enqueue_recalculation(kpi_id: int, *, full: bool) -> None:
    from metrics import tasks

    task = tasks.recalculate_kpi_full if full else tasks.recalculate_kpi
    transaction.on_commit(lambda: task.delay(kpi_id))


# --- KPIs ---------------------------------------------------------------------------------


def _events_aggregation(data: dict[str, Any]) -> None:
    """An events KPI's buckets add up its events' values (1 each, or the property): a sum,
    unless the PM asked for the average of the property; unique users are counted per bucket."""
    if not data.get("event_name"):
        data.update(event_measure="", event_property="")
        return
    if data.get("event_measure") == EventMeasure.UNIQUE:
        data["aggregation"] = Aggregation.COUNT
    elif not (
        data.get("event_measure") == EventMeasure.SUM
        and data.get("aggregation") == Aggregation.AVERAGE
    ):
        data["aggregation"] = Aggregation.SUM


def kpi_create(*, product: Product, data: dict[str, Any], actor: User) -> KPI:
    if "event_name" in data:
        _events_aggregation(data)
    kpi = KPI(product=product, **data)
    try:
        with transaction.atomic():
            record_create(instance=kpi, actor=actor)
            if kpi.is_ratio or kpi.from_events:
                _enqueue_recalculation(kpi.pk, full=True)
    except IntegrityError as exc:  # two creations racing for the same name
        raise ValidationError({"name": "A KPI with this name already exists."}) from exc
    return kpi


@transaction.atomic
def kpi_update(*, kpi: KPI, data: dict[str, Any], expected_version: int, actor: User) -> KPI:
    if "event_name" in data:
        _events_aggregation(data)
    before = {name: getattr(kpi, name) for name in _RECOMPUTE_FIELDS & set(data)}
    updated = versioned_update(
        instance=kpi, data=data, expected_version=expected_version, actor=actor
    )
    if any(getattr(updated, name) != value for name, value in before.items()):
        _enqueue_recalculation(updated.pk, full=True)
    return updated


@transaction.atomic
def kpi_delete(*, kpi: KPI, actor: User) -> None:
    users = list(
        KPI.objects.filter(models.Q(numerator=kpi) | models.Q(denominator=kpi)).values_list(
            "name", flat=True
        )
    )
    if users:
        names = ", ".join(f"“{n}”" for n in users)
        raise ValidationError(f"{kpi.name} is part of the ratio KPI {names}; delete that first.")
    record_delete(instance=kpi, actor=actor)


# --- data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    received: int
    stored: int  # new points
    first: datetime
    last: datetime
    recalculation_queued: bool = True
    replaced: int = 0  # points already stored (same time and dimensions) whose value was replaced

    @property
    def counts(self) -> str:
        """ "1,200 points stored" (", 300 replaced" when a re-sent point replaced one)."""
        text = f"{self.stored:,} point{'s' if self.stored != 1 else ''} stored"
        return f"{text}, {self.replaced:,} replaced" if self.replaced else text


@transaction.atomic
def datapoints_ingest(
    *, kpi: KPI, points: list[Point], actor: User | None, source: str = "API"
) -> IngestResult:
    """Store a validated batch with one bulk upsert and mark its time span dirty; the
    recalculation runs in a worker once the batch is committed.

    A point is identified by its KPI, timestamp and dimensions: one sent again (a retried
    batch, a CSV uploaded twice) replaces the stored value instead of adding a second point, and
    its bucket is recalculated like any other in the span. Within a batch the last one wins."""
    if kpi.is_ratio:
        raise ValidationError(
            {
                "kpi": [
                    "A ratio KPI is computed from its numerator and denominator; "
                    "send data points to those KPIs."
                ]
            }
        )
    if kpi.from_events:
        raise ValidationError(
            {"kpi": [f"This KPI is computed from “{kpi.event_name}” events; send those events."]}
        )
    if not points:
        raise ValidationError({"points": ["Send at least one point."]})
    stored, replaced = _upsert_points(kpi.pk, kpi.product.workspace_id, points)
    first = min(p.timestamp for p in points)
    last = max(p.timestamp for p in points)
    # Committed together with the points: whoever sees this range also sees its points.
    DirtyRange.objects.create(workspace_id=kpi.product.workspace_id, kpi=kpi, start=first, end=last)
    activity_record(
        instance=kpi,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"data points": [None, _ingest_summary(stored, replaced, source)]},
    )
    _enqueue_recalculation(kpi.pk, full=False)
    return IngestResult(
        received=len(points), stored=stored, first=first, last=last, replaced=replaced
    )


@transaction.atomic
def events_ingest(
    *, product: Product, events: list[IncomingEvent], actor: User
) -> EventIngestResult:
    """Store a validated batch of product-analytics events (metrics.events): one bulk insert that
    skips events already stored, so a retried batch is harmless. Not in the activity log: events
    are the product's telemetry, not an edit anyone made."""
    if not events:
        raise ValidationError({"events": ["Send at least one event."]})
    result = insert_events(product=product, events=events)
    # The events KPIs measuring these events recalculate the batch's span, as for data points.
    kpi_ids = list(
        KPI.objects.filter(product=product, event_name__in=result.names).values_list(
            "pk", flat=True
        )
    )
    if kpi_ids and result.stored:
        DirtyRange.objects.bulk_create(
            [
                DirtyRange(
                    workspace_id=product.workspace_id,
                    kpi_id=pk,
                    start=result.first,
                    end=result.last,
                )
                for pk in kpi_ids
            ]
        )
        for pk in kpi_ids:
            _enqueue_recalculation(pk, full=False)
    return result


def _ingest_summary(stored: int, replaced: int, source: str) -> str:
    if not replaced:
        return f"+{stored:,} from {source}"
    return f"+{stored:,}, {replaced:,} replaced, from {source}"


def _upsert_points(kpi_id: int, workspace_id: int, points: list[Point]) -> tuple[int, int]:
    """One INSERT … ON CONFLICT for the whole batch; returns (new points, replaced points).
    On PostgreSQL the columns travel as arrays that `unnest` turns into rows (no model instance
    per point: ten times faster than bulk_create); DISTINCT ON keeps the batch's last point of
    each (timestamp, dimensions), as one statement may not update a row twice."""
    if connection.vendor != "postgresql":
        latest = {(p.timestamp, json.dumps(p.dimensions)): p for p in points}
        before = DataPoint.objects.filter(kpi_id=kpi_id).count()
        DataPoint.objects.bulk_create(
            [
                DataPoint(
                    workspace_id=workspace_id,
                    kpi_id=kpi_id,
                    timestamp=p.timestamp,
                    value=p.value,
                    dimensions=p.dimensions,
                )
                for p in latest.values()
            ],
            update_conflicts=True,
            unique_fields=["kpi", "timestamp", "dimensions"],
            update_fields=["value"],
        )
        stored = DataPoint.objects.filter(kpi_id=kpi_id).count() - before
        return stored, len(latest) - stored
    # A point in a month without a partition (a backfill, a far date) gets one first.
    partitions.ensure_for(p.timestamp for p in points)
    # One statement: the batch's last point per (timestamp, dimensions), the upsert, and how many
    # of the batch's points were stored before (all parts see the snapshot taken before the
    # insert; RETURNING xmax, the usual "inserted or updated" test, does not work on a
    # partitioned table).
    table = DataPoint._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH batch AS ("  # noqa: S608 - the table's name, values as parameters
            "  SELECT DISTINCT ON (u.t, u.d::jsonb) u.t, u.v, u.d::jsonb AS d "
            "  FROM unnest(%s::timestamptz[], %s::numeric[], %s::text[]) "
            "  WITH ORDINALITY AS u(t, v, d, n) ORDER BY u.t, u.d::jsonb, u.n DESC"
            "), upsert AS ("
            f"  INSERT INTO {table} (workspace_id, kpi_id, timestamp, value, dimensions) "
            "  SELECT %s, %s, b.t, b.v, b.d FROM batch b "
            "  ON CONFLICT (kpi_id, timestamp, dimensions) DO UPDATE SET value = excluded.value "
            "  RETURNING 1"
            ") SELECT (SELECT count(*) FROM upsert), "
            f"(SELECT count(*) FROM batch b JOIN {table} p "
            "  ON p.kpi_id = %s AND p.timestamp = b.t AND p.dimensions = b.d)",
            [
                [p.timestamp for p in points],
                [p.value for p in points],
                [json.dumps(p.dimensions) for p in points],
                workspace_id,
                kpi_id,
                kpi_id,
            ],
        )
        written, replaced = cursor.fetchone()
    return written - replaced, replaced


@transaction.atomic
def datapoints_delete(
    *, kpi: KPI, start: datetime, end: datetime, actor: User, source: str = "the KPI page"
) -> int:
    """Delete the KPI's points with start <= timestamp < end; the buckets they were in are
    recalculated (marked dirty with the deletion, like an ingest). Returns how many."""
    if end <= start:
        raise ValidationError({"end": ["The end must be after the start."]})
    span = DataPoint.objects.filter(kpi=kpi, timestamp__gte=start, timestamp__lt=end).aggregate(
        first=models.Min("timestamp"), last=models.Max("timestamp")
    )
    if span["first"] is None:
        return 0
    deleted, _ = DataPoint.objects.filter(kpi=kpi, timestamp__gte=start, timestamp__lt=end).delete()
    DirtyRange.objects.create(
        workspace_id=kpi.product.workspace_id, kpi=kpi, start=span["first"], end=span["last"]
    )
    activity_record(
        instance=kpi,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={
            "data points": [
                None,
                f"−{deleted:,} from {span['first']:%Y-%m-%d %H:%M} to "
                f"{span['last']:%Y-%m-%d %H:%M} UTC, deleted through {source}",
            ]
        },
    )
    _enqueue_recalculation(kpi.pk, full=False)
    return deleted


def kpi_recalculate(*, kpi_id: int, full: bool = False) -> rollups.Result | None:
    """Recompute a KPI's rollups (incrementally from its dirty ranges, or all of them), then
    bring the key results it measures up to date. Returns None if the KPI is gone."""
    with transaction.atomic():
        result = rollups.recalculate(KPI(pk=kpi_id), full=full)  # loads it under its lock
    if not result.kpi_ids:  # deleted meanwhile
        return None
    if result.changed:
        key_results_sync(kpi_ids=result.kpi_ids)
    return result


@transaction.atomic
def kpi_recalculation_request(*, kpi: KPI, actor: User) -> None:
    """A PM asks for every bucket to be recomputed (after a time-zone change, say)."""
    activity_record(
        instance=kpi,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"rollups": [None, "full recalculation requested"]},
    )
    _enqueue_recalculation(kpi.pk, full=True)


# --- CSV uploads --------------------------------------------------------------------------


def points_upload_earlier(*, kpi: KPI, raw: bytes) -> PointsUpload | None:
    """The last completed upload of the same file (same bytes) to this KPI, if any."""
    return (
        PointsUpload.objects.filter(
            kpi=kpi, content_hash=content_hash(raw), status=ImportStatus.DONE
        )
        .select_related("uploaded_by")
        .defer("content")
        .order_by("-finished_at")
        .first()
    )


def points_upload_start(*, kpi: KPI, raw: bytes, filename: str, actor: User) -> PointsUpload:
    """Keep the file and hand it to a worker (in trial mode, import it now)."""
    from metrics.tasks import import_points_file

    upload = PointsUpload.objects.create(
        workspace_id=kpi.product.workspace_id,
        kpi=kpi,
        uploaded_by=actor,
        filename=(filename or "upload.csv")[:200],
        content=raw,
        content_hash=content_hash(raw),
    )
    run_in_background(import_points_file, upload.pk)
    upload.refresh_from_db()
    return upload


def points_upload_run(*, upload_id: int) -> PointsUpload | None:
    """Parse and store an uploaded file in one transaction, with the upload marked done in the
    same one: a worker killed halfway leaves nothing, and a file is stored at most once. A file
    that cannot be stored is marked failed with the reason. None if it was done already."""
    PointsUpload.objects.filter(pk=upload_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING
    )
    with transaction.atomic():
        upload = (
            PointsUpload.objects.select_for_update(of=("self",))
            .select_related("kpi__product__workspace", "uploaded_by")
            .filter(pk=upload_id, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING])
            .first()
        )
        if upload is None:
            return None
        progress_set("points", upload.pk, done=0, total=2, stage="Reading the file")
        try:
            with transaction.atomic():
                points = parse_csv(bytes(upload.content), rollups.kpi_time_zone(upload.kpi))
                progress_set(
                    "points", upload.pk, done=1, total=2, stage=f"Storing {len(points):,} points"
                )
                result = datapoints_ingest(
                    kpi=upload.kpi,
                    points=points,
                    actor=upload.uploaded_by,
                    source=f"the CSV file {upload.filename}",
                )
        except (PointsError, ValidationError) as exc:
            upload.status = ImportStatus.FAILED
            upload.error = (str(exc) if isinstance(exc, PointsError) else " ".join(exc.messages))[
                :4000
            ]
        else:
            upload.status, upload.error = ImportStatus.DONE, ""
            # The file's points (new or replacing stored ones) and what happened to them.
            upload.stored_count, upload.summary = result.received, result.counts
            upload.first, upload.last = result.first, result.last
        upload.finished_at = timezone.now()
        upload.save(
            update_fields=[
                "status",
                "error",
                "stored_count",
                "summary",
                "first",
                "last",
                "finished_at",
            ]
        )
    progress_set("points", upload.pk, done=2, total=2, stage="Done")
    return upload


def kpis_with_stale_dirty_ranges(*, older_than: timedelta) -> list[int]:
    """KPIs whose dirty ranges have waited longer than `older_than` and that no recalculation is
    working on. A running recalculation holds the KPI's row lock (FOR NO KEY UPDATE) until it
    commits, so the KPIs this cannot lock are the ones in progress: they are left alone."""
    cutoff = timezone.now() - older_than
    stale = DirtyRange.objects.filter(created_at__lt=cutoff).values("kpi_id")
    with transaction.atomic():
        return list(
            KPI.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk__in=stale)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def kpi_ids_for_nightly() -> list[int]:
    """Every KPI with its own data; ratio KPIs are recomputed along with their parts."""
    return list(
        KPI.objects.exclude(aggregation=Aggregation.RATIO)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- key results --------------------------------------------------------------------------

CENT = Decimal("0.01")


def key_results_sync(*, kpi_ids: list[int]) -> int:
    """Set each linked key result's current value to its KPI's latest value, through the core
    app's versioned update (so the change is logged and never overwrites a concurrent edit
    silently: on a conflict it re-reads and tries once more). Returns how many changed."""
    from metrics.selectors import latest_values

    links = list(
        KeyResultKPI.objects.filter(kpi_id__in=kpi_ids).select_related(
            "key_result", "kpi__owner", "kpi__product__workspace", "linked_by"
        )
    )
    if not links:
        return 0
    latest = latest_values([link.kpi for link in links])
    changed = 0
    for link in links:
        value = latest.get(link.kpi_id)
        if value is None:
            continue
        value = value.quantize(CENT)
        kr = link.key_result
        for _attempt in range(2):
            if kr.current_value == value:
                break
            try:
                versioned_update(
                    instance=kr,
                    data={"current_value": value},
                    expected_version=kr.version,
                    actor=link.linked_by or link.kpi.owner,
                )
                changed += 1
                break
            except EditConflict as conflict:
                assert isinstance(conflict.current, KeyResult)
                kr = conflict.current
            except ValidationError as exc:
                log.warning("key result %s not updated from KPI %s: %s", kr.pk, link.kpi_id, exc)
                break
    return changed


@transaction.atomic
def key_result_link(*, key_result: KeyResult, kpi: KPI, actor: User) -> KeyResultKPI:
    """Measure a key result by a KPI (replacing any KPI it was measured by)."""
    if key_result.objective.product_id != kpi.product_id:
        raise ValidationError({"key_result": "Choose a key result of this product."})
    link, _ = KeyResultKPI.objects.update_or_create(
        key_result=key_result,
        defaults={"kpi": kpi, "linked_by": actor, "workspace_id": key_result.workspace_id},
    )
    activity_record(
        instance=key_result,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"measured by KPI": [None, kpi.name]},
    )
    transaction.on_commit(lambda: key_results_sync(kpi_ids=[kpi.pk]))
    return link


@transaction.atomic
def key_result_unlink(*, link: KeyResultKPI, actor: User) -> None:
    activity_record(
        instance=link.key_result,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"measured by KPI": [link.kpi.name, None]},
    )
    link.delete()


# --- launch impact ------------------------------------------------------------------------


def launch_impact_create(*, product: Product, data: dict[str, Any], actor: User) -> LaunchImpact:
    impact = LaunchImpact(product=product, **data)
    try:
        return record_create(instance=impact, actor=actor)
    except IntegrityError as exc:
        raise ValidationError(
            {"kpi": "This feature already has a prediction for this KPI."}
        ) from exc


def launch_impact_update(
    *, impact: LaunchImpact, data: dict[str, Any], expected_version: int, actor: User
) -> LaunchImpact:
    return versioned_update(
        instance=impact, data=data, expected_version=expected_version, actor=actor
    )


def launch_impact_delete(*, impact: LaunchImpact, actor: User) -> None:
    record_delete(instance=impact, actor=actor)


# --- experiments and funnels (a parent with ordered children) -----------------------------


def _children_text(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> str:
    # A missing optional value (a variant without a price) is left out rather than shown as None.
    return "; ".join(
        ", ".join(str(row[f]) for f in fields if row.get(f) is not None) for row in rows
    )


def _create_with_children[P: Experiment | Funnel](
    parent: P,
    model: type[Variant] | type[FunnelStep],
    link: str,
    rows: list[dict[str, Any]],
    actor: User,
) -> P:
    """A new experiment or funnel and its variants or steps, in the order given."""
    created = record_create(instance=parent, actor=actor)
    children: list[Any] = [
        model(workspace_id=parent.product.workspace_id, position=i, **{link: created}, **row)
        for i, row in enumerate(rows)
    ]
    model.objects.bulk_create(children)
    return created


def _replace_children(
    *,
    parent: Versioned,
    expected_version: int,
    related: str,
    model: type[models.Model],
    rows: list[dict[str, Any]],
    fields: tuple[str, ...],
    label: str,
    actor: User,
) -> None:
    """Replace the children when they changed; the parent's version moves with them, so a
    concurrent edit of the children conflicts like an edit of the parent's fields."""
    current = list(getattr(parent, related).order_by("position").values(*fields))
    before, after = _children_text(current, fields), _children_text(rows, fields)
    if before == after:
        return
    fk = str(parent._meta.model_name)
    workspace_id = parent.product.workspace_id  # type: ignore[attr-defined]
    model._default_manager.filter(**{fk: parent}).delete()
    model._default_manager.bulk_create(
        [
            model(**{fk: parent}, workspace_id=workspace_id, position=i, **row)
            for i, row in enumerate(rows)
        ]
    )
    if parent.version == expected_version:  # the parent's own fields did not change
        type(parent)._default_manager.filter(pk=parent.pk).update(version=F("version") + 1)
        parent.version += 1
    activity_record(
        instance=parent,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={label: [before, after]},
    )


_VARIANT_FIELDS = ("name", "exposures", "conversions", "price")
_CENT = Decimal("0.01")
_MAX_PRICE = Decimal("9999999999.99")  # the column's 12 digits, 2 of them decimals


def _price(value: Any) -> Decimal | None:
    # Rounded to the cent as stored, so an unchanged price reads the same in the history text.
    if value is None or value == "":
        return None
    return Decimal(str(value)).quantize(_CENT)


def _clean_variants(variants: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    """Typed-in variants, checked across rows. A pricing experiment gives every variant a
    price (all or none), each a different one."""
    if source == DataSource.EVENTS:
        return []  # read from events: no typed-in variants are kept
    rows = [
        {
            "name": v["name"].strip(),
            "exposures": int(v["exposures"]),
            "conversions": int(v["conversions"]),
            "price": _price(v.get("price")),
        }
        for v in variants
    ]
    if len(rows) < 2:
        raise ValidationError({"variants": "Add the control and at least one variant."})
    names = [r["name"].lower() for r in rows]
    if len(set(names)) != len(names):
        raise ValidationError({"variants": "Give each variant a different name."})
    for row in rows:
        if row["exposures"] < 0 or row["conversions"] < 0:
            raise ValidationError({"variants": "Counts cannot be negative."})
        if row["conversions"] > row["exposures"]:
            raise ValidationError(
                {"variants": f"{row['name']}: conversions cannot exceed exposures."}
            )
    prices = [r["price"] for r in rows]
    if any(p is not None for p in prices):
        if any(p is None for p in prices):
            raise ValidationError(
                {
                    "variants": "Give every variant a price, or none: a pricing experiment "
                    "compares the prices of all its variants."
                }
            )
        if any(p < 0 or p > _MAX_PRICE for p in prices):
            raise ValidationError({"variants": "Prices go from 0 to 9,999,999,999.99."})
        if len(set(prices)) != len(prices):
            raise ValidationError({"variants": "Give each variant a different price."})
    return rows


@transaction.atomic
def experiment_create(
    *, product: Product, data: dict[str, Any], variants: list[dict[str, Any]], actor: User
) -> Experiment:
    rows = _clean_variants(variants, data.get("source", DataSource.MANUAL))
    return _create_with_children(
        Experiment(product=product, **data), Variant, "experiment", rows, actor
    )


@transaction.atomic
def experiment_update(
    *,
    experiment: Experiment,
    data: dict[str, Any],
    variants: list[dict[str, Any]],
    expected_version: int,
    actor: User,
) -> Experiment:
    rows = _clean_variants(variants, data.get("source", experiment.source))
    updated = versioned_update(
        instance=experiment, data=data, expected_version=expected_version, actor=actor
    )
    _replace_children(
        parent=updated,
        expected_version=expected_version,
        related="variants",
        model=Variant,
        rows=rows,
        fields=_VARIANT_FIELDS,
        label="variants",
        actor=actor,
    )
    return updated


def experiment_delete(*, experiment: Experiment, actor: User) -> None:
    record_delete(instance=experiment, actor=actor)


_STEP_FIELDS = ("name", "count", "event", "property_name", "property_value")


def _clean_steps(steps: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    if source == DataSource.EVENTS:
        return _clean_event_steps(steps)
    if any(s.get("count") is None for s in steps):
        raise ValidationError({"steps": "Enter how many reached each step."})
    rows = [
        {
            "name": s["name"].strip(),
            "count": int(s["count"]),
            "event": "",
            "property_name": "",
            "property_value": "",
        }
        for s in steps
    ]
    if len(rows) < 2:
        raise ValidationError({"steps": "A funnel needs at least two steps."})
    for previous, row in zip(rows, rows[1:], strict=False):
        if row["count"] < 0:
            raise ValidationError({"steps": "Counts cannot be negative."})
        if row["count"] > previous["count"]:
            raise ValidationError(
                {
                    "steps": (
                        f"“{row['name']}” ({row['count']:,}) has more than the step before it "
                        f"(“{previous['name']}”, {previous['count']:,}); a funnel only narrows."
                    )
                }
            )
    return rows


def _clean_event_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An events funnel's steps: each names its event; a property filter has a name and a
    value, or neither. Counts are computed, never stored."""
    rows = []
    for s in steps:
        event = (s.get("event") or "").strip()
        prop = (s.get("property_name") or "").strip()
        value = (s.get("property_value") or "").strip()
        name = s["name"].strip()
        if not event:
            raise ValidationError({"steps": f"Step “{name}”: enter the event that marks it."})
        if bool(prop) != bool(value):
            raise ValidationError(
                {"steps": f"Step “{name}”: a property filter needs a property name and a value."}
            )
        rows.append(
            {
                "name": name,
                "count": 0,
                "event": event,
                "property_name": prop,
                "property_value": value,
            }
        )
    if len(rows) < 2:
        raise ValidationError({"steps": "A funnel needs at least two steps."})
    return rows


@transaction.atomic
def funnel_create(
    *, product: Product, data: dict[str, Any], steps: list[dict[str, Any]], actor: User
) -> Funnel:
    rows = _clean_steps(steps, data.get("source", DataSource.MANUAL))
    return _create_with_children(Funnel(product=product, **data), FunnelStep, "funnel", rows, actor)


@transaction.atomic
def funnel_update(
    *,
    funnel: Funnel,
    data: dict[str, Any],
    steps: list[dict[str, Any]],
    expected_version: int,
    actor: User,
) -> Funnel:
    rows = _clean_steps(steps, data.get("source", funnel.source))
    updated = versioned_update(
        instance=funnel, data=data, expected_version=expected_version, actor=actor
    )
    _replace_children(
        parent=updated,
        expected_version=expected_version,
        related="steps",
        model=FunnelStep,
        rows=rows,
        fields=_STEP_FIELDS,
        label="steps",
        actor=actor,
    )
    return updated


def funnel_delete(*, funnel: Funnel, actor: User) -> None:
    record_delete(instance=funnel, actor=actor)
