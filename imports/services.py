"""Imports from other tools: keep an uploaded export, map it, plan it, import it (all or nothing).

The same machinery as the feedback CSV import (pm.background: run in a worker after commit,
progress in the cache, stalled runs restartable; feedback.csvimport: decoding and its refusals),
with a mapping step in front and a record of which of our rows came from which of theirs, so a
second import of the same export updates or skips instead of duplicating.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backlog.models import Feature, Idea, UserStory
from feedback import csvimport
from feedback.choices import Source
from feedback.csvimport import RowError
from feedback.models import FeedbackItem
from imports import formats
from imports.choices import Action, Tool
from imports.models import ImportedRecord, ToolImport
from pm.background import STALLED_AFTER, content_hash, run_in_background
from pm.choices import ActivityAction, ImportStatus
from pm.models import Product
from pm.services import activity_record

MAX_BYTES = csvimport.MAX_BYTES


def tool_import_upload(
    *, product: Product, tool: str, raw: bytes, filename: str, encoding: str, actor: User
) -> ToolImport:
    """Keep an uploaded export for mapping and preview, with the mapping pre-filled. A file that
    cannot be read, or is not the export it claims to be, is refused with an error on `file`."""
    if tool not in Tool.values:
        raise ValidationError({"tool": "Choose the tool the file comes from."})
    try:
        # Trello writes JSON in UTF-8, whatever the form says.
        text = csvimport.decode(raw, "utf-8" if tool == Tool.TRELLO else encoding)
        formats.check_format(tool, text)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from None
    mapping = formats.default_mapping(tool, text)
    parsed = formats.parse(tool, text, mapping)
    batch = ToolImport(
        product=product,
        uploaded_by=actor,
        tool=tool,
        filename=(filename or "export")[:200],
        encoding=encoding,
        content=text,
        content_hash=content_hash(text),
        mapping=mapping,
        row_count=parsed.row_count,
    )
    batch.save()
    return batch


def tool_import_set_mapping(*, batch: ToolImport, mapping: dict[str, Any]) -> ToolImport:
    """Store the mapping chosen on the preview page (statuses completed for the new columns)."""
    if batch.imported_at or batch.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        raise ValidationError(
            "This file is imported already; upload it again to change the mapping."
        )
    batch.mapping = formats.complete_mapping(batch.tool, batch.content, mapping)
    batch.save(update_fields=["mapping"])
    return batch


@dataclass
class Plan:
    """What an import of the file will do, record by record."""

    parsed: formats.Parsed
    counts: Counter[str] = field(default_factory=Counter)  # action → records
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)  # kind → action → records

    @property
    def records(self) -> list[formats.Record]:
        return self.parsed.records

    @property
    def errors(self) -> list[RowError]:
        return self.parsed.errors

    @property
    def writes(self) -> int:
        return self.counts[Action.CREATE] + self.counts[Action.UPDATE]

    @property
    def summary(self) -> list[tuple[str, int, int, int]]:
        """(kind label, new, updated, unchanged) for each kind of record in the file."""
        return [
            (
                formats.KIND_LABELS[kind] + ("s" if kind != "feedback" else ""),
                c[Action.CREATE],
                c[Action.UPDATE],
                c[Action.UNCHANGED],
            )
            for kind, c in self.by_kind.items()
        ]


def _jira_links(product: Product) -> dict[str, tuple[str, int]]:
    """Features and stories linked to a Jira issue (by hooks.jira's import, or by hand): issue
    key → (kind, id). An import of the CSV recognises them instead of adding them again."""
    links: dict[str, tuple[str, int]] = {}
    for kind, model in (("feature", Feature), ("story", UserStory)):
        rows = model.objects.filter(product=product).exclude(jira_url="")
        for pk, url in rows.values_list("pk", "jira_url"):
            links.setdefault(url.rstrip("/").rsplit("/", 1)[-1], (kind, pk))
    return links


def _target(link: Mapping[str, Any]) -> tuple[str, int | None]:
    for kind, column in (
        ("feature", "feature_id"),
        ("idea", "idea_id"),
        ("story", "story_id"),
        ("feedback", "feedback_item_id"),
    ):
        if link[column]:
            return kind, link[column]
    return "", None


def plan(batch: ToolImport) -> Plan:
    """Read the file through its mapping and decide, per record, create, update or skip: a
    record imported before (same tool, same key) is updated when it changed in their tool
    since, and skipped when it did not."""
    product = batch.product
    parsed = formats.parse(batch.tool, batch.content, batch.mapping)
    links = {
        link["external_key"]: link
        for link in ImportedRecord.objects.filter(product=product, tool=batch.tool).values(
            "external_key", "fingerprint", "feature_id", "idea_id", "story_id", "feedback_item_id"
        )
    }
    jira = _jira_links(product) if batch.tool == Tool.JIRA else {}
    statuses = batch.mapping.get("statuses") or {}
    result = Plan(parsed=parsed)
    features_here = {r.key for r in parsed.records if r.kind == "feature"}
    needs_fallback = False
    for record in parsed.records:
        if record.kind == "story" and record.parent not in features_here:
            known = links.get(record.parent)
            if not (known and known["feature_id"]) and record.parent not in jira:
                record.parent, needs_fallback = formats.FALLBACK_KEY, True
    if needs_fallback and formats.FALLBACK_KEY not in features_here:
        parsed.records.insert(0, formats.fallback_record(batch.tool, parsed.records[0].line))
    for record in parsed.records:
        record.our_status = record.fixed_status or statuses.get(
            record.status_key, formats.guess_status(record.kind, record.status)
        )
        link = links.get(record.key)
        if link:
            kind, pk = _target(link)
            record.existing_id = pk
            if kind != record.kind:
                record.action = Action.IGNORE
                parsed.ignored.append(
                    (record.line, record.key, f"Imported before as a {kind}; left as it is.")
                )
            elif link["fingerprint"] == record.fingerprint():
                record.action = Action.UNCHANGED
            else:
                record.action = Action.UPDATE
        elif record.key in jira and jira[record.key][0] == record.kind:
            # Linked to Jira by the JSON import or by hand: recognised, left as it is.
            record.existing_id, record.action = jira[record.key][1], Action.UNCHANGED
        elif record.key == formats.FALLBACK_KEY:
            fallback = Feature.objects.filter(product=product, title=record.title).first()
            record.existing_id = fallback.pk if fallback else None
            record.action = Action.UNCHANGED if fallback else Action.CREATE
        else:
            record.action = Action.CREATE
        result.counts[record.action] += 1
        result.by_kind.setdefault(record.kind, Counter())[record.action] += 1
    return result


def tool_import_earlier(batch: ToolImport) -> ToolImport | None:
    """The last import of the same file into the same product, if any."""
    return (
        ToolImport.objects.filter(
            product_id=batch.product_id, content_hash=batch.content_hash, imported_at__isnull=False
        )
        .exclude(pk=batch.pk)
        .select_related("uploaded_by")
        .defer("content")
        .order_by("-imported_at")
        .first()
    )


def tool_import_start(*, batch: ToolImport, actor: User) -> ToolImport:
    """Hand the file to a worker (in trial mode, import it now). All or nothing: a file with a
    row in error imports nothing."""
    if batch.imported_at:
        raise ValidationError("This file was already imported. Upload it again to re-import it.")
    planned = plan(batch)
    if planned.errors:
        n = len(planned.parsed.invalid_lines)
        raise ValidationError(
            f"{n} row{'s' if n != 1 else ''} {'have' if n != 1 else 'has'} errors. Nothing is "
            "imported until every row can be: fix the file (or the mapping) and try again."
        )
    if not planned.writes and not planned.counts[Action.UNCHANGED]:
        raise ValidationError("There is nothing to import in this file.")
    now = timezone.now()
    startable = Q(status__in=[ImportStatus.UPLOADED, ImportStatus.FAILED]) | Q(
        status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING], queued_at__lt=now - STALLED_AFTER
    )
    started = ToolImport.objects.filter(startable, pk=batch.pk, imported_at=None).update(
        status=ImportStatus.QUEUED, queued_at=now, error=""
    )
    if not started:
        raise ValidationError("This file is being imported already.")
    from imports.tasks import import_tool_file

    run_in_background(import_tool_file, batch.pk, actor.pk)
    batch.refresh_from_db()
    return batch


@transaction.atomic
def tool_import_run(
    *,
    batch: ToolImport,
    actor: User,
    progress: Callable[[int, int], None] | None = None,
) -> ToolImport:
    """Import every record of the file in one transaction: all of them or none. Imports into
    one product run one at a time (the product row is locked), so two runs of the same export
    cannot both create its records."""
    from backlog import services as backlog

    claimed = ToolImport.objects.filter(pk=batch.pk, imported_at=None).update(
        imported_at=timezone.now()
    )
    if not claimed:
        raise ValidationError("This file was already imported.")
    product = (
        Product.objects.select_for_update().select_related("workspace").get(pk=batch.product_id)
    )
    planned = plan(batch)
    if planned.errors:
        raise ValidationError(
            f"{len(planned.parsed.invalid_lines)} rows have errors; nothing was imported."
        )
    writes = [r for r in planned.records if r.action in (Action.CREATE, Action.UPDATE)]
    by_kind: dict[str, list[int]] = {}
    for r in planned.records:
        if r.existing_id:
            by_kind.setdefault(r.kind, []).append(r.existing_id)
    loaded: dict[str, dict[int, Any]] = {
        kind: model.objects.select_related("product").in_bulk(by_kind.get(kind, []))
        for kind, model in (
            ("feature", Feature),
            ("idea", Idea),
            ("story", UserStory),
            ("feedback", FeedbackItem),
        )
    }
    features: dict[str, Feature] = {
        r.key: loaded["feature"][r.existing_id]
        for r in planned.records
        if r.kind == "feature" and r.existing_id in loaded["feature"]
    }
    # Parents outside the file: features imported before, or (Jira) linked to their epic.
    parents = {r.parent for r in planned.records if r.kind == "story"} - set(features)
    for link in ImportedRecord.objects.filter(
        product=product, tool=batch.tool, external_key__in=parents, feature__isnull=False
    ).select_related("feature__product"):
        features[link.external_key] = link.feature  # type: ignore[assignment]
    if batch.tool == Tool.JIRA:
        linked = {
            pk: key
            for key, (kind, pk) in _jira_links(product).items()
            if kind == "feature" and key in parents and key not in features
        }
        for feature in Feature.objects.select_related("product").filter(pk__in=linked):
            features[linked[feature.pk]] = feature
    source = batch.mapping.get("source") or Source.EMAIL
    done = 0
    for record in planned.records:
        if (
            record.action == Action.UNCHANGED
            and record.existing_id
            and record.key != formats.FALLBACK_KEY
        ):
            # Recognised through its Jira link: remember it, so a later change updates it.
            ImportedRecord.objects.get_or_create(
                product=product,
                tool=batch.tool,
                external_key=record.key,
                defaults={
                    _column(record.kind): loaded[record.kind].get(record.existing_id),
                    "fingerprint": record.fingerprint(),
                    "last_import": batch,
                },
            )
            continue
        if record.action not in (Action.CREATE, Action.UPDATE):
            continue
        obj = _write(record, batch, product, features, loaded, source, actor, backlog)
        if record.kind == "feature":
            features[record.key] = obj
        if record.key == formats.FALLBACK_KEY:
            continue  # found by its title next time, as hooks.jira finds it
        ImportedRecord.objects.update_or_create(
            product=product,
            tool=batch.tool,
            external_key=record.key,
            defaults={
                "feature": None,
                "idea": None,
                "story": None,
                "feedback_item": None,
                _column(record.kind): obj,
                "fingerprint": record.fingerprint(),
                "last_import": batch,
            },
        )
        done += 1
        if progress and (done % 25 == 0 or done == len(writes)):
            progress(done, len(writes))
    batch.imported_at = ToolImport.objects.values_list("imported_at", flat=True).get(pk=batch.pk)
    batch.created_count = planned.counts[Action.CREATE]
    batch.updated_count = planned.counts[Action.UPDATE]
    batch.unchanged_count = planned.counts[Action.UNCHANGED]
    batch.status, batch.error = ImportStatus.DONE, ""
    batch.save(
        update_fields=["created_count", "updated_count", "unchanged_count", "status", "error"]
    )
    activity_record(
        instance=batch,
        action=ActivityAction.CREATED,
        actor=actor,
        changes={
            "tool": [None, batch.get_tool_display()],
            "new": [None, batch.created_count],
            "updated": [None, batch.updated_count],
            "unchanged": [None, batch.unchanged_count],
        },
    )
    return batch


def _column(kind: str) -> str:
    return {"feature": "feature", "idea": "idea", "story": "story", "feedback": "feedback_item"}[
        kind
    ]


def _write(
    record: formats.Record,
    batch: ToolImport,
    product: Product,
    features: dict[str, Feature],
    loaded: dict[str, dict[int, Any]],
    source: str,
    actor: User,
    backlog: ModuleType,
) -> Any:
    """Create or update the row one record becomes, through the owning app's services."""
    from feedback.services.customers import customer_resolve
    from feedback.services.items import feedback_create, feedback_update

    existing = loaded[record.kind].get(record.existing_id) if record.existing_id else None
    if record.action == Action.UPDATE and existing is None:
        raise ValidationError(f"{record.key} was deleted while the file was being imported.")
    data: dict[str, Any]
    if record.kind == "feature":
        data = {
            "title": record.title,
            "description": record.description,
            "status": record.our_status,
        }
        if record.jira_url:
            data["jira_url"] = record.jira_url
        if existing is None:
            return backlog.feature_create(product=product, data=data, actor=actor)
        return backlog.feature_update(
            feature=existing, data=data, expected_version=existing.version, actor=actor
        )
    if record.kind == "idea":
        data = {
            "title": record.title,
            "description": record.description,
            "status": record.our_status,
        }
        if existing is None:
            return backlog.idea_create(product=product, data=data, actor=actor)
        return backlog.idea_update(
            idea=existing, data=data, expected_version=existing.version, actor=actor
        )
    if record.kind == "story":
        feature = features.get(record.parent)
        if feature is None:
            raise ValidationError(f"{record.key}: its feature {record.parent} was not found.")
        data = {
            "title": record.title,
            "i_want": record.description,
            "status": record.our_status,
            "points": record.points,
        }
        if record.jira_url:
            data["jira_url"] = record.jira_url
        if existing is None:
            return backlog.story_create(feature=feature, data=data, actor=actor)
        return backlog.story_update(
            story=existing,
            data={**data, "feature": feature},
            expected_version=existing.version,
            actor=actor,
        )
    customer = customer_resolve(
        workspace=product.workspace,
        name=record.customer,
        actor=actor,
        details={"contact": record.contact},
    )
    if existing is None:
        return feedback_create(
            product=product,
            content=record.description,
            source=source,
            actor=actor,
            customer=customer,
            received_at=record.received_at,
        )
    return feedback_update(
        item=existing,
        data={
            "content": record.description,
            "received_at": record.received_at,
            "customer": customer,
        },
        expected_version=existing.version,
        actor=actor,
    )
