"""Writes for feedback: customers, feedback items and their triage, insights (and the demand they
put on features), CSV imports, research studies and the public ideas portal.

Every service is keyword-only and atomic, validates, writes, records the activity log and
enqueues its tasks on commit. Backlog rows change only through ``backlog.services``.

Activity entries of product records never carry a customer's name, contact or ARR: the product
history is readable by stakeholders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from backlog import services as backlog_services
from backlog.choices import IdeaSource
from backlog.models import Feature, Idea
from feedback import csvimport
from feedback.choices import (
    STUDY_SOURCE,
    FeedbackStatus,
    Importance,
    PostStatus,
    Sentiment,
)
from feedback.models import (
    Customer,
    Embedding,
    FeedbackImport,
    FeedbackItem,
    FeedbackTheme,
    Insight,
    PortalPost,
    PortalSettings,
    PortalVote,
    ResearchStudy,
    SuggestionDecision,
)
from pm.background import STALLED_AFTER, content_hash, run_in_background
from pm.choices import ActivityAction, ImportStatus, NotificationKind
from pm.models import ActivityLog, Product, Workspace
from pm.notifications import notification_create
from pm.services import (
    EditConflict,
    activity_record,
    changed_since,
    field_display,
    versioned_update,
)

__all__ = [
    "EditConflict",
    "customer_create",
    "customer_update",
    "customer_resolve",
    "feedback_create",
    "feedback_update",
    "feedback_set_status",
    "insight_create",
    "insight_update",
    "insight_delete",
    "demand_recompute",
    "feedback_import_upload",
    "feedback_import_run",
    "study_create",
    "study_update",
    "study_add_finding",
    "portal_settings_update",
    "portal_post_submit",
    "portal_post_moderate",
    "portal_post_publish",
    "portal_vote_by_user",
    "portal_vote_request",
    "portal_vote_confirm",
]

CUSTOMER_FIELDS = {"name", "segment", "plan", "arr", "contact"}
FEEDBACK_FIELDS = {"content", "source", "sentiment", "received_at", "customer"}
STUDY_FIELDS = {
    "title",
    "kind",
    "status",
    "goal",
    "participant_notes",
    "summary",
    "started_on",
    "ended_on",
}
PORTAL_FIELDS = {"enabled", "accept_submissions", "title", "intro"}
# Shown in activity entries instead of a customer's identity (see the module docstring).
REDACTED = "(customer details hidden)"


def _reject_unknown(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"These fields cannot be set here: {sorted(unknown)}")


def _excerpt(text: str, length: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


# --- customers ----------------------------------------------------------------------------


def _clean_customer_data(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    for name in ("name", "segment", "plan", "contact"):
        if name in data and isinstance(data[name], str):
            data[name] = data[name].strip()
    if data.get("arr") in (None, ""):
        data.pop("arr", None)
    return data


@transaction.atomic
def customer_create(*, workspace: Workspace, data: dict[str, Any], actor: User | None) -> Customer:
    """Add a customer to the workspace; names are unique per workspace, ignoring case."""
    _reject_unknown(data, CUSTOMER_FIELDS)
    customer = Customer(workspace=workspace, **_clean_customer_data(data))
    customer.full_clean()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:  # created by someone else between the check and the insert
        raise ValidationError({"name": "A customer with this name already exists."}) from exc
    activity_record(
        instance=customer,
        action=ActivityAction.CREATED,
        actor=actor,
        changes={"name": [None, customer.name]},
        workspace=workspace,
    )
    return customer


@transaction.atomic
def customer_update(
    *, customer: Customer, data: dict[str, Any], expected_version: int, actor: User
) -> Customer:
    """Edit a customer unless someone saved it since `expected_version`. A new ARR moves the
    demand of every feature their feedback is linked to."""
    _reject_unknown(data, CUSTOMER_FIELDS)
    before_arr = Customer.objects.values_list("arr", flat=True).get(pk=customer.pk)
    updated = versioned_update(
        instance=customer,
        data=_clean_customer_data(data),
        expected_version=expected_version,
        actor=actor,
    )
    if updated.arr != before_arr:
        demand_recompute(
            feature_ids=Insight.objects.filter(
                feedback_item__customer=updated, feature__isnull=False
            ).values_list("feature_id", flat=True)
        )
    return updated


@transaction.atomic
def customer_resolve(
    *,
    workspace: Workspace,
    name: str,
    actor: User | None,
    details: dict[str, Any] | None = None,
) -> Customer | None:
    """The workspace's customer called `name` (ignoring case), created with `details` if new.
    An empty name means no customer."""
    name = (name or "").strip()
    if not name:
        return None
    existing = Customer.objects.filter(workspace=workspace, name__iexact=name).first()
    if existing:
        return existing
    data = {"name": name, **{k: v for k, v in (details or {}).items() if v not in (None, "")}}
    try:
        return customer_create(workspace=workspace, data=data, actor=actor)
    except ValidationError as exc:
        # Lost a race with another creation of the same name: use theirs.
        existing = Customer.objects.filter(workspace=workspace, name__iexact=name).first()
        if existing:
            return existing
        raise exc


# --- feedback items -----------------------------------------------------------------------


def _check_customer(product: Product, customer: Customer | None) -> None:
    if customer is not None and customer.workspace_id != product.workspace_id:
        raise ValidationError({"customer": "Choose a customer of this workspace."})


@transaction.atomic
def feedback_create(
    *,
    product: Product,
    content: str,
    source: str,
    actor: User | None,
    customer: Customer | None = None,
    sentiment: str = Sentiment.NEUTRAL,
    received_at: datetime | None = None,
    study: ResearchStudy | None = None,
) -> FeedbackItem:
    """Capture one piece of feedback; it starts in the triage inbox as new."""
    _check_customer(product, customer)
    if study is not None and study.product_id != product.pk:
        raise ValidationError({"study": "Choose a study of this product."})
    item = FeedbackItem(
        product=product,
        customer=customer,
        study=study,
        source=source,
        content=(content or "").strip(),
        sentiment=sentiment or Sentiment.NEUTRAL,
        received_at=received_at or timezone.now(),
        created_by=actor,
    )
    item.full_clean()
    item.save()
    changes = {
        "source": [None, item.get_source_display()],
        "sentiment": [None, item.get_sentiment_display()],
        "content": [None, _excerpt(item.content)],
    }
    if study is not None:
        changes["study"] = [None, study.title]
    activity_record(instance=item, action=ActivityAction.CREATED, actor=actor, changes=changes)
    return item


def _feedback_display(item: FeedbackItem, name: str) -> Any:
    if name == "customer":
        return REDACTED if item.customer_id else None
    value = field_display(item, name)
    return _excerpt(value) if name == "content" else value


@transaction.atomic
def feedback_update(
    *, item: FeedbackItem, data: dict[str, Any], expected_version: int, actor: User
) -> FeedbackItem:
    """Edit what was said, by whom, where and when — unless someone saved the item since
    `expected_version` (EditConflict; nothing is written)."""
    _reject_unknown(data, FEEDBACK_FIELDS)
    current = FeedbackItem.objects.select_for_update().get(pk=item.pk)
    if current.version != expected_version:
        raise EditConflict(current=current, entries=changed_since(current, expected_version))
    _check_customer(item.product, data.get("customer"))
    before_customer = current.customer_id
    changes: dict[str, list[Any]] = {}
    for name, value in data.items():
        if name == "content":
            value = (value or "").strip()
        before, before_display = getattr(current, name), _feedback_display(current, name)
        setattr(current, name, value)
        if getattr(current, name) != before:
            changes[name] = [before_display, _feedback_display(current, name)]
    if not changes:
        return current
    current.full_clean()
    current.version += 1
    current.save(update_fields=[*data, "version", "updated_at"])
    activity_record(instance=current, action=ActivityAction.UPDATED, actor=actor, changes=changes)
    if current.customer_id != before_customer:
        demand_recompute(
            feature_ids=current.insights.filter(feature__isnull=False).values_list(
                "feature_id", flat=True
            )
        )
    return current


@transaction.atomic
def feedback_set_status(*, item: FeedbackItem, status: str, actor: User) -> FeedbackItem:
    """Triage: mark triaged, archive, or reopen as new. An item with insights is "linked"
    rather than triaged or new. Archived items stop counting towards feature demand.

    Status is triage bookkeeping, not content: it does not bump the version, so it never makes
    an open edit form conflict."""
    if status not in (FeedbackStatus.NEW, FeedbackStatus.TRIAGED, FeedbackStatus.ARCHIVED):
        raise ValidationError({"status": "Choose new, triaged or archived."})
    current = FeedbackItem.objects.select_for_update().get(pk=item.pk)
    has_insights = current.insights.exists()
    if status != FeedbackStatus.ARCHIVED and has_insights:
        status = FeedbackStatus.LINKED
    before = current.status
    if before == status:
        return current
    current.status = status
    current.save(update_fields=["status", "updated_at"])
    activity_record(
        instance=current,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={
            "status": [FeedbackStatus(before).label, FeedbackStatus(status).label],
        },
    )
    if has_insights and FeedbackStatus.ARCHIVED in (before, status):
        demand_recompute(
            feature_ids=current.insights.filter(feature__isnull=False).values_list(
                "feature_id", flat=True
            )
        )
    item.status = current.status
    return current


# --- insights and demand ------------------------------------------------------------------


def _target_label(insight: Insight) -> str:
    kind = "feature" if insight.feature_id else "idea"
    return f"{kind} “{insight.target}”"


@transaction.atomic
def insight_create(
    *,
    item: FeedbackItem,
    actor: User,
    feature: Feature | None = None,
    idea: Idea | None = None,
    quote: str = "",
    importance: str = Importance.IMPORTANT,
) -> Insight:
    """Link feedback to an idea or a feature, with the quote that matters and its importance.
    The item becomes "linked"; a feature's demand is recomputed."""
    if (feature is None) == (idea is None):
        raise ValidationError({"target": "Link the feedback to one idea or one feature."})
    target = feature or idea
    assert target is not None  # exactly one of them, checked above
    if target.product_id != item.product_id:
        raise ValidationError({"target": "Choose an idea or feature of this product."})
    insight = Insight(
        workspace_id=item.product.workspace_id,
        feedback_item=item,
        feature=feature,
        idea=idea,
        quote=(quote or "").strip(),
        importance=importance,
        created_by=actor,
    )
    insight.full_clean()
    try:
        with transaction.atomic():
            insight.save()
    except IntegrityError as exc:  # a concurrent identical link
        raise ValidationError({"target": "This feedback is already linked there."}) from exc
    FeedbackItem.objects.filter(pk=item.pk).exclude(status=FeedbackStatus.LINKED).update(
        status=FeedbackStatus.LINKED, updated_at=timezone.now()
    )
    item.status = FeedbackStatus.LINKED
    activity_record(
        instance=item,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={
            "linked to": [None, f"{_target_label(insight)} ({insight.get_importance_display()})"]
        },
    )
    if feature is not None:
        demand_recompute(feature_ids=[feature.pk])
        owner = feature.owner if feature.owner_id else None
        if owner is not None:
            who = actor.get_full_name() or actor.username
            notification_create(
                user=owner,
                kind=NotificationKind.FEEDBACK_LINKED,
                message=f"{who} linked feedback ({insight.get_importance_display().lower()}) "
                f"to your feature “{feature.title}”",
                url=reverse("feature_detail", args=[feature.product.key, feature.pk]),
                product=feature.product,
                actor=actor,
            )
    return insight


@transaction.atomic
def insight_update(
    *, insight: Insight, actor: User, importance: str | None = None, quote: str | None = None
) -> Insight:
    """Change how much the linked feedback matters, or its quote."""
    current = Insight.objects.select_for_update().select_related("feedback_item").get(pk=insight.pk)
    changes: dict[str, list[str | None]] = {}
    if importance is not None and importance != current.importance:
        before = current.get_importance_display()
        current.importance = importance
        changes["importance"] = [before, current.get_importance_display()]
    if quote is not None and quote.strip() != current.quote:
        current.quote = quote.strip()
        changes["quote"] = [None, _excerpt(current.quote)]
    if not changes:
        return current
    current.full_clean()
    current.save(update_fields=["importance", "quote"])
    activity_record(
        instance=current.feedback_item,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={f"link to {_target_label(current)}: {k}": v for k, v in changes.items()},
    )
    return current


@transaction.atomic
def insight_delete(*, insight: Insight, actor: User) -> None:
    """Unlink; an item left without links goes back to "triaged"."""
    item = FeedbackItem.objects.select_for_update().get(pk=insight.feedback_item_id)
    feature_id = insight.feature_id
    label = _target_label(insight)
    insight.delete()
    if item.status == FeedbackStatus.LINKED and not item.insights.exists():
        item.status = FeedbackStatus.TRIAGED
        item.save(update_fields=["status", "updated_at"])
    activity_record(
        instance=item,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"linked to": [label, None]},
    )
    if feature_id:
        demand_recompute(feature_ids=[feature_id])


def demand_of(feature_ids: list[int]) -> dict[int, tuple[int, Decimal]]:
    """Distinct customers and their summed ARR per feature, from linked, non-archived feedback.
    One query whatever the number of features."""
    rows = (
        Insight.objects.filter(feature_id__in=feature_ids, feedback_item__customer__isnull=False)
        .exclude(feedback_item__status=FeedbackStatus.ARCHIVED)
        .values_list("feature_id", "feedback_item__customer_id", "feedback_item__customer__arr")
        .distinct()
    )
    customers: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for feature_id, customer_id, arr in rows:
        customers[feature_id][customer_id] = arr
    return {
        fid: (len(customers[fid]), sum(customers[fid].values(), Decimal(0))) for fid in feature_ids
    }


@transaction.atomic
def demand_recompute(*, feature_ids: Iterable[int]) -> int:
    """Recompute and store (through the backlog) the demand of these features; returns how many
    changed. The features are locked first, so of two concurrent links the one that commits
    last counts both."""
    ids = sorted(set(feature_ids))
    if not ids:
        return 0
    features = list(Feature.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    demand = demand_of(ids)
    changed = 0
    for feature in features:
        customers, arr = demand[feature.pk]
        if feature.demand_customers == customers and feature.demand_arr == arr:
            continue
        backlog_services.feature_set_demand(feature=feature, customers=customers, arr=arr)
        changed += 1
    return changed


# --- CSV import ---------------------------------------------------------------------------


def feedback_import_upload(
    *, product: Product, raw: bytes, filename: str, encoding: str, actor: User
) -> FeedbackImport:
    """Keep an uploaded CSV file for preview. A file that cannot be read at all (wrong
    encoding, missing columns) is refused here with a ValidationError on `file`."""
    try:
        text = csvimport.decode(raw, encoding)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from None
    result = csvimport.parse(text)
    if result.missing_columns:
        found = ", ".join(result.columns) or "none"
        raise ValidationError(
            {
                "file": (
                    f"Missing column{'s' if len(result.missing_columns) > 1 else ''}: "
                    f"{', '.join(result.missing_columns)}. The first row must name the columns; "
                    f"found: {found}."
                )
            }
        )
    if not result.row_count:
        raise ValidationError({"file": "The file has a header row but no feedback rows."})
    batch = FeedbackImport(
        product=product,
        uploaded_by=actor,
        filename=(filename or "upload.csv")[:200],
        encoding=encoding,
        content=text,
        content_hash=content_hash(text),
        row_count=result.row_count,
        invalid_count=result.invalid_count,
    )
    batch.save()
    return batch


def feedback_import_earlier(batch: FeedbackImport) -> FeedbackImport | None:
    """The last import of the same file (same text) into the same product, if any."""
    return (
        FeedbackImport.objects.filter(
            product_id=batch.product_id,
            content_hash=batch.content_hash,
            imported_at__isnull=False,
        )
        .exclude(pk=batch.pk)
        .select_related("uploaded_by")
        .defer("content")
        .order_by("-imported_at")
        .first()
    )


def feedback_import_start(
    *, batch: FeedbackImport, skip_invalid: bool, again: bool, actor: User
) -> FeedbackImport:
    """Hand an uploaded file to a worker (or, in trial mode, import it now). The checks that need
    no parsing happen here, so the answer is immediate; the import itself is all or nothing."""
    if batch.imported_at:
        raise ValidationError("This file was already imported.")
    valid = batch.row_count - batch.invalid_count
    if batch.invalid_count and not skip_invalid:
        raise ValidationError(
            f"{batch.invalid_count} row{'s' if batch.invalid_count != 1 else ''} "
            "have errors. Fix the file and upload it again, or choose to skip those rows."
        )
    if valid <= 0:
        raise ValidationError("No valid rows to import.")
    earlier = feedback_import_earlier(batch)
    if earlier and not again:
        raise ValidationError(
            f"This file was already imported on {earlier.imported_at:%-d %b %Y at %H:%M} "
            f"({earlier.imported_count:,} items). Tick “import it again” to add its rows once more."
        )
    now = timezone.now()
    startable = Q(status__in=[ImportStatus.UPLOADED, ImportStatus.FAILED]) | Q(
        status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING], queued_at__lt=now - STALLED_AFTER
    )
    started = FeedbackImport.objects.filter(startable, pk=batch.pk, imported_at=None).update(
        status=ImportStatus.QUEUED, queued_at=now, error=""
    )
    if not started:
        raise ValidationError("This file is being imported already.")
    from feedback.tasks import import_feedback_file

    run_in_background(import_feedback_file, batch.pk, skip_invalid, actor.pk)
    batch.refresh_from_db()
    return batch


def _import_customers(
    product: Product, result: csvimport.ParseResult, actor: User
) -> dict[str, Customer]:
    """The customers the rows name, by lower-case name; new names are created in bulk."""
    wanted = result.customer_names
    if not wanted:
        return {}
    existing = {
        c.name.lower(): c
        for c in Customer.objects.filter(workspace_id=product.workspace_id)
        if c.name.lower() in wanted
    }
    details: dict[str, dict[str, Any]] = {}
    for row in result.rows:
        key = row.customer.lower()
        if row.customer and key not in existing:
            merged = details.setdefault(key, {})
            for name, value in row.customer_details.items():
                merged.setdefault(name, value)
    new = [
        Customer(workspace_id=product.workspace_id, name=wanted[key], **details[key])
        for key in details
    ]
    if new:
        Customer.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
        names = [c.name.lower() for c in new]
        created = [
            c
            for c in Customer.objects.filter(workspace_id=product.workspace_id)
            if c.name.lower() in names
        ]
        ActivityLog.objects.bulk_create(
            [
                ActivityLog(
                    workspace_id=product.workspace_id,
                    actor=actor,
                    action=ActivityAction.CREATED,
                    object_type=Customer._meta.label_lower,
                    object_id=c.pk,
                    object_repr=c.name[:200],
                    changes={"name": [None, c.name], "via": [None, "CSV import"]},
                    object_version=c.version,
                )
                for c in created
            ],
            batch_size=500,
        )
        existing.update({c.name.lower(): c for c in created})
    return existing


@transaction.atomic
def feedback_import_run(
    *,
    batch: FeedbackImport,
    skip_invalid: bool,
    actor: User,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> FeedbackImport:
    """Import every valid row of an uploaded file in one transaction: all rows or none.

    A file with invalid rows imports nothing unless `skip_invalid` says to leave those rows out.
    A file is imported at most once (claimed with a conditional update). `progress(done,
    total)` hears of each slice of rows written."""
    claimed = FeedbackImport.objects.filter(pk=batch.pk, imported_at=None).update(
        imported_at=timezone.now()
    )
    if not claimed:
        raise ValidationError("This file was already imported.")
    product = batch.product
    result = csvimport.parse(batch.content)
    if result.missing_columns:
        raise ValidationError(f"Missing columns: {', '.join(result.missing_columns)}.")
    if result.errors and not skip_invalid:
        raise ValidationError(
            f"{result.invalid_count} row{'s' if result.invalid_count != 1 else ''} "
            "have errors. Fix the file and upload it again, or choose to skip those rows."
        )
    if not result.rows:
        raise ValidationError("No valid rows to import.")
    customers = _import_customers(product, result, actor)
    items = [
        FeedbackItem(
            product=product,
            customer=customers.get(row.customer.lower()) if row.customer else None,
            source=row.source,
            content=row.content,
            sentiment=row.sentiment,
            received_at=row.received_at,
            import_batch=batch,
            created_by=actor,
        )
        for row in result.rows
    ]
    for start in range(0, len(items), batch_size):
        FeedbackItem.objects.bulk_create(items[start : start + batch_size])
        if progress:
            progress(min(start + batch_size, len(items)), len(items))
    batch.imported_at = FeedbackImport.objects.values_list("imported_at", flat=True).get(
        pk=batch.pk
    )
    batch.imported_count = len(items)
    batch.skipped_count = result.invalid_count
    batch.status, batch.error = ImportStatus.DONE, ""
    batch.save(update_fields=["imported_count", "skipped_count", "status", "error"])
    changes = {"items": [None, len(items)]}
    if result.invalid_count:
        changes["skipped rows"] = [None, result.invalid_count]
    activity_record(instance=batch, action=ActivityAction.CREATED, actor=actor, changes=changes)
    return batch


# --- research studies ---------------------------------------------------------------------


def _check_participants(
    product: Product, participants: Iterable[Customer] | None
) -> list[Customer]:
    participants = list(participants or [])
    if any(c.workspace_id != product.workspace_id for c in participants):
        raise ValidationError({"participants": "Choose customers of this workspace."})
    return participants


@transaction.atomic
def study_create(
    *,
    product: Product,
    data: dict[str, Any],
    actor: User,
    participants: Iterable[Customer] | None = None,
) -> ResearchStudy:
    _reject_unknown(data, STUDY_FIELDS)
    participants = _check_participants(product, participants)
    study = ResearchStudy(product=product, created_by=actor, **data)
    study.full_clean()
    study.save()
    study.participants.set(participants)
    changes = {
        "title": [None, study.title],
        "kind": [None, study.get_kind_display()],
        "status": [None, study.get_status_display()],
    }
    activity_record(instance=study, action=ActivityAction.CREATED, actor=actor, changes=changes)
    return study


@transaction.atomic
def study_update(
    *,
    study: ResearchStudy,
    data: dict[str, Any],
    expected_version: int,
    actor: User,
    participants: Iterable[Customer] | None = None,
) -> ResearchStudy:
    """Edit a study unless it changed since `expected_version`. Participants (customers) are
    replaced when given; their names stay out of the activity log."""
    _reject_unknown(data, STUDY_FIELDS)
    current = versioned_update(
        instance=study, data=data, expected_version=expected_version, actor=actor
    )
    if participants is not None:
        participants = _check_participants(study.product, participants)
        before = set(current.participants.values_list("pk", flat=True))
        if before != {c.pk for c in participants}:
            current.participants.set(participants)
            activity_record(
                instance=current,
                action=ActivityAction.UPDATED,
                actor=actor,
                changes={"participants": [len(before), len(participants)]},
            )
    return current


def study_add_finding(
    *,
    study: ResearchStudy,
    content: str,
    actor: User,
    customer: Customer | None = None,
    sentiment: str = Sentiment.NEUTRAL,
    received_at: datetime | None = None,
) -> FeedbackItem:
    """A finding is feedback from the study (source = the study's kind): it is triaged and
    linked to features like any other feedback."""
    return feedback_create(
        product=study.product,
        content=content,
        source=STUDY_SOURCE[study.kind],
        sentiment=sentiment,
        received_at=received_at,
        customer=customer,
        study=study,
        actor=actor,
    )


# --- ideas portal -------------------------------------------------------------------------


def portal_settings_get(product: Product) -> PortalSettings:
    settings, _ = PortalSettings.objects.get_or_create(product=product)
    return settings


@transaction.atomic
def portal_settings_update(
    *, product: Product, data: dict[str, Any], expected_version: int, actor: User
) -> PortalSettings:
    _reject_unknown(data, PORTAL_FIELDS)
    settings = portal_settings_get(product)
    if data.get("enabled") and not settings.enabled:
        # The public address is /portal/<key>/; another workspace may use the same key.
        taken = (
            PortalSettings.objects.filter(product__key=product.key, enabled=True)
            .exclude(product=product)
            .exists()
        )
        if taken:
            raise ValidationError(
                {
                    "enabled": f"The public address /portal/{product.key}/ is already used by "
                    "another ideas portal on this server, so this one cannot be switched on."
                }
            )
    return versioned_update(
        instance=settings, data=data, expected_version=expected_version, actor=actor
    )


@transaction.atomic
def portal_post_submit(
    *,
    product: Product,
    title: str,
    description: str,
    email: str = "",
    user: User | None = None,
) -> PortalPost:
    """A visitor's idea: waits for a PM's approval before anyone else sees it."""
    settings = PortalSettings.objects.filter(product=product).first()
    if settings is None or not settings.enabled or not settings.accept_submissions:
        raise ValidationError("This portal does not take submissions.")
    post = PortalPost(
        product=product,
        title=(title or "").strip(),
        description=(description or "").strip(),
        author_email=(email or "").strip().lower(),
        author_user=user if user is not None and user.is_authenticated else None,
        status=PostStatus.PENDING,
    )
    post.full_clean(exclude=["idea"])
    post.save()
    return post


@transaction.atomic
def portal_post_moderate(
    *, post: PortalPost, approve: bool, actor: User, title: str = "", description: str = ""
) -> PortalPost:
    """Approve (optionally with edited public copy: the idea lands in the backlog's Ideas list)
    or reject a pending submission."""
    current = PortalPost.objects.select_for_update().get(pk=post.pk)
    if current.status != PostStatus.PENDING:
        raise ValidationError("This submission was already moderated.")
    if title.strip():
        current.title = title.strip()
    if description.strip():
        current.description = description.strip()
    current.moderated_at = timezone.now()
    current.moderated_by = actor
    if approve:
        current.idea = backlog_services.idea_create(
            product=current.product,
            data={
                "title": current.title,
                "description": current.description,
                "source": IdeaSource.PORTAL,
                "submitter_name": "Ideas portal visitor",
            },
            actor=actor,
        )
        current.status = PostStatus.PUBLISHED
    else:
        current.status = PostStatus.REJECTED
    current.full_clean()
    current.save()
    activity_record(
        instance=current.idea or current.product,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"ideas portal": [None, f"{current.get_status_display()}: {current.title}"]},
    )
    return current


@transaction.atomic
def portal_post_publish(*, idea: Idea, title: str, description: str, actor: User) -> PortalPost:
    """Show an existing backlog idea on the portal, with public copy written for it (the idea's
    internal description is not published by itself)."""
    post = PortalPost.objects.select_for_update().filter(idea=idea).first()
    if post is None:
        post = PortalPost(product=idea.product, idea=idea, submitted_at=timezone.now())
    post.title = (title or idea.title).strip()
    post.description = (description or "").strip()
    post.status = PostStatus.PUBLISHED
    post.moderated_at = timezone.now()
    post.moderated_by = actor
    post.full_clean()
    post.save()
    activity_record(
        instance=idea,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"ideas portal": [None, f"Published as “{post.title}”"]},
    )
    return post


@transaction.atomic
def portal_post_unpublish(*, post: PortalPost, actor: User) -> PortalPost:
    PortalPost.objects.filter(pk=post.pk).update(status=PostStatus.REJECTED)
    post.status = PostStatus.REJECTED
    activity_record(
        instance=post.idea or post.product,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"ideas portal": ["Published", "Removed from the portal"]},
    )
    return post


def _count_vote(post: PortalPost, delta: int) -> None:
    """Move the post's confirmed-vote count and its idea's votes by `delta`, in step."""
    PortalPost.objects.filter(pk=post.pk).update(votes=F("votes") + delta)
    if post.idea_id and post.idea is not None:
        backlog_services.idea_add_votes(idea=post.idea, delta=delta)


def _votable(post: PortalPost) -> None:
    settings = PortalSettings.objects.filter(product_id=post.product_id).first()
    if post.status != PostStatus.PUBLISHED or settings is None or not settings.enabled:
        raise ValidationError("Voting is closed for this idea.")


@transaction.atomic
def portal_vote_by_user(*, post: PortalPost, user: User) -> tuple[PortalVote, bool]:
    """A signed-in user's vote counts at once; a second vote by them changes nothing.
    Returns the vote and whether it is new."""
    _votable(post)
    vote, created = PortalVote.objects.get_or_create(
        post=post,
        user=user,
        defaults={"confirmed_at": timezone.now(), "workspace_id": post.product.workspace_id},
    )
    if created:
        _count_vote(post, +1)
    return vote, created


@transaction.atomic
def portal_vote_request(*, post: PortalPost, email: str) -> tuple[PortalVote, bool]:
    """An e-mail vote: recorded unconfirmed, and a signed confirmation link is e-mailed (on
    commit). Returns the vote and whether a confirmation e-mail was sent; an address that
    already confirmed its vote on this idea gets no second e-mail and no second vote."""
    _votable(post)
    email = (email or "").strip().lower()
    if not email:
        raise ValidationError({"email": "Enter your e-mail address."})
    vote, created = PortalVote.objects.get_or_create(
        post=post, email=email, defaults={"workspace_id": post.product.workspace_id}
    )
    if vote.confirmed_at is not None:
        return vote, False
    from feedback.tasks import send_vote_confirmation

    transaction.on_commit(lambda: send_vote_confirmation.delay(vote.pk))
    return vote, True


@transaction.atomic
def portal_vote_confirm(*, vote: PortalVote) -> bool:
    """Count an e-mail vote once its owner followed the link. Claimed with a conditional
    update, so following the link twice (or two clicks at once) counts one vote."""
    claimed = PortalVote.objects.filter(pk=vote.pk, confirmed_at=None).update(
        confirmed_at=timezone.now()
    )
    if claimed:
        post = PortalPost.objects.select_related("idea").get(pk=vote.post_id)
        _count_vote(post, +1)
    return bool(claimed)


def merge_portal_and_insights(*, source: Idea, target: Idea) -> int:
    """Receiver work for backlog's ``idea_merged``: move insights and portal votes from the
    merged idea to the one it went into, without counting any voter twice. Returns how many
    confirmed voters had voted on both (the backlog counts them once in the idea's votes)."""
    # Insights: re-point, dropping those whose feedback is already linked to the target.
    already = Insight.objects.filter(idea=target).values_list("feedback_item_id", flat=True)
    Insight.objects.filter(idea=source, feedback_item_id__in=list(already)).delete()
    Insight.objects.filter(idea=source).update(idea=target)

    source_post = PortalPost.objects.select_for_update().filter(idea=source).first()
    if source_post is None:
        return 0
    target_post = PortalPost.objects.select_for_update().filter(idea=target).first()
    if target_post is None:
        # The target takes over the public post (the backlog moves the vote count).
        PortalPost.objects.filter(pk=source_post.pk).update(idea=target)
        return 0
    # Both are on the portal: move the source's voters, dropping the ones who voted on both.
    target_votes = PortalVote.objects.filter(post=target_post)
    duplicates = Q(email__in=target_votes.exclude(email="").values("email")) | Q(
        user__in=target_votes.filter(user__isnull=False).values("user")
    )
    dropped = (
        PortalVote.objects.filter(post=source_post, confirmed_at__isnull=False)
        .filter(duplicates)
        .count()
    )
    PortalVote.objects.filter(post=source_post).filter(duplicates).delete()
    moved = PortalVote.objects.filter(post=source_post, confirmed_at__isnull=False).count()
    PortalVote.objects.filter(post=source_post).update(post=target_post)
    PortalPost.objects.filter(pk=target_post.pk).update(votes=F("votes") + moved)
    PortalPost.objects.filter(pk=source_post.pk).update(
        votes=0, status=PostStatus.REJECTED, idea=None
    )
    return dropped


# --- suggestions by meaning: merges, decisions, themes ------------------------------------------


@transaction.atomic
def feedback_merge(*, item: FeedbackItem, into: FeedbackItem, actor: User) -> FeedbackItem:
    """`item` says what `into` says: it is archived as a duplicate, and linked to every feature
    and idea `into` is linked to that it was not, so its customer still counts as demand (each
    item keeps its customer and its own links). History on both items."""
    if item.pk == into.pk:
        raise ValidationError({"into": "Feedback cannot be merged into itself."})
    if item.product_id != into.product_id:
        raise ValidationError({"into": "Choose feedback of the same product."})
    locked = {
        i.pk: i
        for i in FeedbackItem.objects.select_for_update()
        .select_related("product")
        .filter(pk__in=[item.pk, into.pk])
        .order_by("pk")
    }
    source, target = locked[item.pk], locked[into.pk]
    have = {(i.feature_id, i.idea_id) for i in source.insights.all()}
    added = 0
    for insight in target.insights.select_related("feature", "idea"):
        if (insight.feature_id, insight.idea_id) in have:
            continue
        insight_create(
            item=source,
            feature=insight.feature,
            idea=insight.idea,
            quote=_excerpt(source.content, 300),
            importance=insight.importance,
            actor=actor,
        )
        added += 1
    FeedbackItem.objects.filter(pk=source.pk).update(
        status=FeedbackStatus.ARCHIVED, updated_at=timezone.now()
    )
    source.status = FeedbackStatus.ARCHIVED
    activity_record(
        instance=source,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"merged into": [None, f"feedback #{target.pk}"], "status": [None, "Archived"]},
    )
    activity_record(
        instance=target,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"duplicate merged in": [None, f"feedback #{source.pk} ({added} links copied)"]},
    )
    return target


def suggestion_decide(
    *,
    product: Product,
    kind: str,
    source: tuple[str, int],
    target: tuple[str, int],
    accepted: bool,
    actor: User | None,
) -> SuggestionDecision:
    """Remember a PM's answer to a suggestion (the last answer counts)."""
    decision, _ = SuggestionDecision.objects.update_or_create(
        kind=kind,
        source_kind=source[0],
        source_id=source[1],
        target_kind=target[0],
        target_id=target[1],
        defaults={"product": product, "accepted": accepted, "decided_by": actor},
    )
    return decision


@transaction.atomic
def theme_link_feature(*, theme: FeedbackTheme, feature: Feature, actor: User) -> int:
    """Link every feedback item of `theme` to `feature` (as insights, quote = the text), and
    remember the feature on the theme. Items already linked to it are left alone. Returns how
    many were linked."""
    if feature.product_id != theme.product_id:
        raise ValidationError({"feature": "Choose a feature of this product."})
    member_ids = list(
        Embedding.objects.filter(theme=theme, kind="feedback").values_list("object_id", flat=True)
    )
    already = set(
        Insight.objects.filter(feature=feature, feedback_item_id__in=member_ids).values_list(
            "feedback_item_id", flat=True
        )
    )
    linked = 0
    for item in FeedbackItem.objects.filter(
        pk__in=member_ids, product_id=theme.product_id
    ).select_related("product"):
        if item.pk in already:
            continue
        insight_create(item=item, feature=feature, quote=_excerpt(item.content, 300), actor=actor)
        linked += 1
    theme.feature = feature
    theme.save(update_fields=["feature", "updated_at"])
    return linked
