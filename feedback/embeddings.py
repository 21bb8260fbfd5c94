"""Keeping feedback.Embedding in step with the rows it describes, and reading it back as a
per-product index (feedback.semantic has the model and the maths).

Writes: a saved feature, idea, feedback item or insight is noted, and when the transaction
commits the noted rows go to feedback.tasks.embed_rows on the `embeddings` queue in one message
per kind (trial mode and eager tests run it right there). Unchanged texts are skipped by digest,
so a retried or duplicated message costs a query and no model time. `manage.py
embeddings_backfill` does the same for rows written before, or by bulk paths that send no
signals.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backlog.models import Feature, Idea
from feedback import semantic
from feedback.models import Embedding, FeedbackItem, Insight, PortalPost

BATCH = 32
# Feedback items searched by meaning for duplicates and themes: the latest this many of a
# product (full-text search still reaches all of them).
FEEDBACK_WINDOW = 20_000

_pending = threading.local()


def enabled() -> bool:
    return bool(getattr(settings, "SEMANTIC_EMBED_ON_WRITE", True))


def note(kind: str, pk: int) -> None:
    """Embed this row once the current transaction commits (batched per transaction)."""
    if not enabled() or pk is None:
        return
    rows = getattr(_pending, "rows", None)
    if rows is None:
        rows = _pending.rows = defaultdict(set)
        transaction.on_commit(_flush)
    rows[kind].add(int(pk))


def _flush() -> None:
    from feedback.tasks import embed_rows
    from pm.celery import app

    rows = getattr(_pending, "rows", None) or {}
    _pending.rows = None
    for kind, ids in rows.items():
        ordered = sorted(ids)
        if app.conf.task_always_eager:
            embed_rows.apply(args=(kind, ordered), throw=True)
        else:
            embed_rows.delay(kind, ordered)


def _generation_key(product_id: int, group: str) -> str:
    return f"semantic-gen:{product_id}:{group}"


def _bump(product_ids: Iterable[int], kinds: Iterable[str]) -> None:
    """Tell every process that these products' vectors changed (their cached indexes go)."""
    groups = {k if k in ("feedback", "post") else "targets" for k in kinds}
    now = time.time_ns()
    for pid in set(product_ids):
        for group in groups:
            cache.set(_generation_key(pid, group), now, None)


def generation(product_id: int, group: str) -> int:
    key = _generation_key(product_id, group)
    value = cache.get(key)
    if value is None:
        value = time.time_ns()
        cache.add(key, value, None)
        value = cache.get(key, value)
    return int(value)


def _rows(kind: str, ids: list[int]) -> list[tuple[int, int, str, str, int | None]]:
    """(id, product id, text, target kind, target id) of the rows that still exist."""
    if kind == "feature":
        return [
            (f.pk, f.product_id, semantic.feature_text(f), "", None)
            for f in Feature.objects.filter(pk__in=ids).only(
                "id", "product", "title", "description"
            )
        ]
    if kind == "idea":
        return [
            (i.pk, i.product_id, semantic.idea_text(i), "", None)
            for i in Idea.objects.filter(pk__in=ids).only("id", "product", "title", "description")
        ]
    if kind == "feedback":
        return [
            (f.pk, f.product_id, semantic.feedback_text(f), "", None)
            for f in FeedbackItem.objects.filter(pk__in=ids).only("id", "product", "content")
        ]
    if kind == "insight":
        return [
            (
                i.pk,
                i.feedback_item.product_id,
                semantic.insight_text(i),
                "feature" if i.feature_id else "idea",
                i.feature_id or i.idea_id,
            )
            for i in Insight.objects.filter(pk__in=ids).select_related("feedback_item")
        ]
    if kind == "post":
        # The portal's public copy, never the idea's internal description: what a visitor's
        # draft is compared with must be what the portal shows.
        return [
            (p.pk, p.product_id, f"{p.title}. {p.description}", "", None)
            for p in PortalPost.objects.filter(pk__in=ids).only(
                "id", "product", "title", "description"
            )
        ]
    raise ValueError(f"unknown kind {kind!r}")


def refresh(kind: str, ids: Iterable[int]) -> int:
    """Embed the rows of `kind` with these ids whose text changed; forget those that are gone.
    Returns how many were embedded."""
    ids = sorted(set(ids))
    rows = _rows(kind, ids)
    known = dict(
        Embedding.objects.filter(kind=kind, object_id__in=ids).values_list("object_id", "digest")
    )
    gone = set(ids) - {r[0] for r in rows}
    changed = [r for r in rows if known.get(r[0]) != semantic.digest(r[2])]
    embed = semantic.embed_queries if kind == "feedback" else semantic.embed_passages
    now = timezone.now()
    for start in range(0, len(changed), BATCH):
        chunk = changed[start : start + BATCH]
        vectors = embed([text for _pk, _product, text, _tk, _tid in chunk])
        Embedding.objects.bulk_create(
            [
                Embedding(
                    product_id=product,
                    kind=kind,
                    object_id=pk,
                    target_kind=target_kind,
                    target_id=target_id,
                    vector=semantic.pack(vector),
                    digest=semantic.digest(text),
                    updated_at=now,
                )
                for (pk, product, text, target_kind, target_id), vector in zip(
                    chunk, vectors, strict=True
                )
            ],
            update_conflicts=True,
            unique_fields=["kind", "object_id"],
            update_fields=["product", "target_kind", "target_id", "vector", "digest", "updated_at"],
        )
    products = {r[1] for r in changed}
    if kind == "feedback" and changed:
        from feedback import themes

        by_product: dict[int, list[int]] = defaultdict(list)
        for pk, product, *_rest in changed:
            by_product[product].append(pk)
        for product, pks in by_product.items():
            themes.assign(product, pks)
    if gone:
        products |= set(
            Embedding.objects.filter(kind=kind, object_id__in=gone).values_list(
                "product_id", flat=True
            )
        )
        Embedding.objects.filter(kind=kind, object_id__in=gone).delete()
    if products:
        _bump(products, [kind])
    return len(changed)


def forget(kind: str, pk: int, product_id: int) -> None:
    Embedding.objects.filter(kind=kind, object_id=pk).delete()
    _bump([product_id], [kind])


def missing(product_id: int | None = None) -> dict[str, list[int]]:
    """Rows without a current vector (for the backfill command)."""
    out: dict[str, list[int]] = {}
    sources: list[tuple[str, Any, str]] = [
        ("feature", Feature, "product_id"),
        ("idea", Idea, "product_id"),
        ("feedback", FeedbackItem, "product_id"),
        ("insight", Insight, "feedback_item__product_id"),
        ("post", PortalPost, "product_id"),
    ]
    for kind, model, product_field in sources:
        qs = model.objects.all()
        if product_id is not None:
            qs = qs.filter(**{product_field: product_id})
        have = Embedding.objects.filter(kind=kind).values("object_id")
        out[kind] = list(qs.exclude(pk__in=have).values_list("pk", flat=True).order_by("pk"))
    return out


# --- indexes -----------------------------------------------------------------------------------


def _matrix(rows: list[tuple]) -> tuple[list, np.ndarray]:
    if not rows:
        return [], np.zeros((0, semantic.DIM), dtype=np.float32)
    keys = [r[0] for r in rows]
    matrix = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype="<f4").reshape(
        len(rows), semantic.DIM
    )
    return keys, matrix


def target_index(product_id: int) -> semantic.Index:
    """Features and ideas of the product, each as its own vector and the vectors of the quotes
    linked to it (the best of them counts)."""

    def build() -> tuple[list, np.ndarray]:
        rows = Embedding.objects.filter(
            product_id=product_id, kind__in=["feature", "idea", "insight"]
        ).values_list("kind", "object_id", "target_kind", "target_id", "vector")
        out = []
        for kind, object_id, target_kind, target_id, vector in rows.iterator(chunk_size=5000):
            key = (target_kind, target_id) if kind == "insight" else (kind, object_id)
            out.append((key, vector))
        return _matrix(out)

    stamp = (generation(product_id, "targets"),)
    return semantic.cached_index(("targets", product_id), stamp, build)


def feedback_index(product_id: int) -> semantic.Index:
    """The product's latest FEEDBACK_WINDOW feedback items."""

    def build() -> tuple[list, np.ndarray]:
        latest = (
            FeedbackItem.objects.filter(product_id=product_id)
            .order_by("-received_at", "-id")
            .values("id")[:FEEDBACK_WINDOW]
        )
        rows = Embedding.objects.filter(
            product_id=product_id, kind="feedback", object_id__in=latest
        ).values_list("object_id", "vector")
        return _matrix(
            [(("feedback", pk), vector) for pk, vector in rows.iterator(chunk_size=5000)]
        )

    stamp = (generation(product_id, "feedback"),)
    return semantic.cached_index(("feedback", product_id), stamp, build)


def post_index(product_id: int) -> semantic.Index:
    """The portal posts of the product (their public copy); callers keep the published ones."""

    def build() -> tuple[list, np.ndarray]:
        rows = Embedding.objects.filter(product_id=product_id, kind="post").values_list(
            "object_id", "vector"
        )
        return _matrix([(("post", pk), vector) for pk, vector in rows])

    stamp = (generation(product_id, "post"),)
    return semantic.cached_index(("post", product_id), stamp, build)


def vector_of(kind: str, pk: int) -> np.ndarray | None:
    row = Embedding.objects.filter(kind=kind, object_id=pk).values_list("vector", flat=True).first()
    return None if row is None else semantic.unpack(row)


def vectors_of(kind: str, ids: Iterable[int]) -> dict[int, np.ndarray]:
    return {
        pk: semantic.unpack(vector)
        for pk, vector in Embedding.objects.filter(kind=kind, object_id__in=list(ids)).values_list(
            "object_id", "vector"
        )
    }


def has_vectors(product_id: int) -> bool:
    return Embedding.objects.filter(Q(product_id=product_id)).exists()
