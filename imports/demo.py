"""The demo workspace's import history: a small Trello board imported once, its one card the
backlog's first feature (so a trial user sees a finished import and its preview)."""

from __future__ import annotations

import json

from django.utils import timezone

from imports import formats
from imports.choices import Tool
from imports.models import ImportedRecord, ToolImport
from pm.background import content_hash
from pm.choices import ImportStatus


def load(*, workspace, product, users) -> None:
    from backlog.models import Feature

    feature = Feature.objects.filter(product=product).order_by("rank").first()
    if feature is None or ToolImport.objects.filter(product=product).exists():
        return
    board = {
        "id": "6745c1f0a2b3c4d5e6f70812",
        "name": "Acme roadmap (Trello)",
        "lists": [{"id": "6745c1f0a2b3c4d5e6f70a01", "name": "Ideas", "closed": False}],
        "cards": [
            {
                "id": "6745c2a1b2c3d4e5f6071801",
                "name": feature.title,
                "desc": "",
                "closed": False,
                "idList": "6745c1f0a2b3c4d5e6f70a01",
            }
        ],
        "checklists": [],
    }
    text = json.dumps(board, indent=2)
    mapping = formats.default_mapping(Tool.TRELLO, text)
    (record,) = formats.parse(Tool.TRELLO, text, mapping).records
    batch = ToolImport.objects.create(
        product=product,
        uploaded_by=users.get("pm"),
        tool=Tool.TRELLO,
        filename="acme-roadmap.json",
        encoding="utf-8",
        content=text,
        content_hash=content_hash(text),
        mapping=mapping,
        row_count=1,
        status=ImportStatus.DONE,
        imported_at=timezone.now(),
        created_count=1,
    )
    ImportedRecord.objects.create(
        product=product,
        tool=Tool.TRELLO,
        external_key=record.key,
        feature=feature,
        fingerprint=record.fingerprint(),
        last_import=batch,
    )
