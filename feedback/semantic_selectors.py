"""Reads built on the vectors: proposed duplicate pairs, suggestion precision, themes with their
size, ARR and trend. Constant queries per page whatever the number of rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import numpy as np
from django.db.models import Count, Q
from django.utils import timezone

from backlog.choices import IdeaStatus
from backlog.models import Idea
from feedback import embeddings, matching
from feedback.models import Embedding, FeedbackItem, FeedbackTheme, SuggestionDecision
from pm.models import Product

# Passage-to-passage (idea) and query-to-query (feedback) similarity above which two rows are
# proposed as one. On the demo: feedback on one topic scores 0.925-0.99, on different topics
# up to 0.938 (99th percentile 0.906); different demo ideas score up to 0.897. Proposals should
# rather miss a pair than waste a PM's time.
IDEA_DUPLICATE = 0.92
FEEDBACK_DUPLICATE = 0.94
PAIRS_SHOWN = 30
# An idea's page lists other ideas of the product that say something close (not necessarily the
# same): above this similarity, best first; at IDEA_DUPLICATE and above it offers the merge.
SIMILAR_IDEA = 0.86
SIMILAR_SHOWN = 5
SIMILAR_WORD_CANDIDATES = 500  # without vectors: word overlap with the latest ideas
FEEDBACK_SCANNED = 3000  # the latest items compared pairwise (a 3000×3000 product: 36 MB, once)


@dataclass
class Pair:
    source: object  # merged away
    target: object  # kept
    similarity: float


def _decided(product: Product, kind: str) -> set[tuple[int, int]]:
    rows = SuggestionDecision.objects.filter(
        product=product, kind=SuggestionDecision.DUPLICATE, source_kind=kind
    ).values_list("source_id", "target_id")
    return {(a, b) for a, b in rows} | {(b, a) for a, b in rows}


def _pairs(ids: list[int], matrix: np.ndarray, threshold: float, decided: set) -> list:
    if len(ids) < 2:
        return []
    sims = matrix @ matrix.T
    np.fill_diagonal(sims, -1)
    upper = np.triu(sims, 1)
    rows, cols = np.nonzero(upper >= threshold)
    found = sorted(
        ((float(upper[r, c]), ids[r], ids[c]) for r, c in zip(rows, cols, strict=True)),
        reverse=True,
    )
    out, used = [], set()
    for sim, a, b in found:
        if (a, b) in decided or a in used or b in used:
            continue
        used |= {a, b}
        out.append((a, b, sim))
        if len(out) >= PAIRS_SHOWN:
            break
    return out


def duplicate_ideas(product: Product) -> list[Pair]:
    """Open ideas that say the same: the one with fewer votes is proposed to merge into the
    other. Three queries."""
    open_ids = list(
        Idea.objects.filter(product=product)
        .exclude(status__in=[IdeaStatus.MERGED, IdeaStatus.DECLINED])
        .values_list("pk", flat=True)
    )
    vectors = embeddings.vectors_of("idea", open_ids)
    ids = [pk for pk in open_ids if pk in vectors]
    if len(ids) < 2:
        return []
    matrix = np.stack([vectors[pk] for pk in ids])
    found = _pairs(ids, matrix, IDEA_DUPLICATE, _decided(product, "idea"))
    ideas = Idea.objects.in_bulk([pk for a, b, _ in found for pk in (a, b)])
    out = []
    for a, b, sim in found:
        first, second = ideas[a], ideas[b]
        keep, merge = (first, second) if first.votes >= second.votes else (second, first)
        out.append(Pair(source=merge, target=keep, similarity=sim))
    return out


def similar_ideas(
    idea: Idea, viewer, limit: int = SIMILAR_SHOWN
) -> list[tuple[Idea, float | None]]:
    """Other open or decided ideas of the product that are close in meaning to `idea`, best
    first, with their similarity (None when ranked by shared words because the idea has no
    vector yet). Ideas merged away are left out. Three queries, as `viewer` may read them."""
    from pm import visibility

    ideas = Idea.objects.filter(product_id=idea.product_id).exclude(pk=idea.pk)
    ideas = ideas.exclude(status=IdeaStatus.MERGED).only(
        "id", "product_id", "title", "description", "status", "votes", "submitter_name"
    )
    vector = embeddings.vector_of("idea", idea.pk)
    if vector is not None:
        index = embeddings.target_index(idea.product_id)
        hits: list[tuple[int, float | None]] = [
            (pk, sim)
            for (kind, pk), sim in index.top(vector, limit * 4 + 1)
            if kind == "idea" and pk != idea.pk and sim >= SIMILAR_IDEA
        ]
        found = visibility.apply(
            ideas.filter(pk__in=[pk for pk, _ in hits]), viewer, idea.product
        ).in_bulk()
        return [(found[pk], sim) for pk, sim in hits if pk in found][:limit]
    latest = list(
        visibility.apply(ideas, viewer, idea.product).order_by("-created_at")[
            :SIMILAR_WORD_CANDIDATES
        ]
    )
    ranked = matching.rank_by_overlap(
        f"{idea.title} {idea.description}",
        [matching.Candidate(i, i.title, i.description) for i in latest],
        limit=limit,
    )
    return [(i, None) for i, _score in ranked]


def dismissed_for(item: FeedbackItem) -> set[tuple[str, int]]:
    """Targets a PM said this item is not about (one query)."""
    rows = SuggestionDecision.objects.filter(
        kind=SuggestionDecision.LINK,
        source_kind="feedback",
        source_id=item.pk,
        accepted=False,
    ).values_list("target_kind", "target_id")
    return set(rows)


def duplicate_feedback(product: Product) -> list[Pair]:
    """Feedback items, among the latest FEEDBACK_SCANNED not archived, that say the same: the
    newer is proposed as a duplicate of the older. Three queries."""
    latest = list(
        FeedbackItem.objects.filter(product=product)
        .exclude(status="archived")
        .order_by("-received_at", "-id")
        .values_list("pk", flat=True)[:FEEDBACK_SCANNED]
    )
    vectors = embeddings.vectors_of("feedback", latest)
    ids = [pk for pk in latest if pk in vectors]
    if len(ids) < 2:
        return []
    matrix = np.stack([vectors[pk] for pk in ids])
    found = _pairs(ids, matrix, FEEDBACK_DUPLICATE, _decided(product, "feedback"))
    items = FeedbackItem.objects.in_bulk([pk for a, b, _ in found for pk in (a, b)])
    out = []
    for a, b, sim in found:
        first, second = items[a], items[b]
        older, newer = sorted((first, second), key=lambda i: (i.received_at, i.pk))
        out.append(Pair(source=newer, target=older, similarity=sim))
    return out


@dataclass
class Precision:
    accepted: int
    rejected: int

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def percent(self) -> int | None:
        return round(100 * self.accepted / self.decided) if self.decided else None


def precision(product: Product) -> dict[str, Precision]:
    """Of the suggestions a PM answered, how many were right: links (triage) and duplicates."""
    rows = (
        SuggestionDecision.objects.filter(product=product)
        .values("kind")
        .annotate(
            yes=Count("id", filter=Q(accepted=True)), no=Count("id", filter=Q(accepted=False))
        )
    )
    out = {kind: Precision(0, 0) for kind, _label in SuggestionDecision.KINDS}
    for row in rows:
        out[row["kind"]] = Precision(row["yes"], row["no"])
    return out


# --- themes ---------------------------------------------------------------------------------------

TREND_MONTHS = 6


@dataclass
class ThemeRow:
    theme: FeedbackTheme
    size: int
    customers: int
    arr: Decimal | None
    trend: list[int] = field(default_factory=list)  # items per month, oldest first
    examples: list[str] = field(default_factory=list)

    @property
    def trend_max(self) -> int:
        return max(self.trend or [0]) or 1


def _month_starts(now) -> list:
    first = now.date().replace(day=1)
    months = [first]
    for _ in range(TREND_MONTHS - 1):
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    return list(reversed(months))


def theme_rows(product: Product, *, with_arr: bool, limit: int = 40) -> list[ThemeRow]:
    """The product's biggest themes (two or more items), each with its size, distinct customers,
    their ARR (team only), items per month over the last six months and a few examples. Three
    queries."""
    themes = list(
        FeedbackTheme.objects.filter(product=product, size__gte=2)
        .select_related("feature")
        .order_by("-size", "id")[:limit]
    )
    if not themes:
        return []
    members = (
        Embedding.objects.filter(theme__in=themes, kind="feedback")
        .values_list("theme_id", "object_id")
        .order_by()
    )
    item_theme: dict[int, int] = {}
    for theme_id, object_id in members:
        item_theme[object_id] = theme_id
    items = FeedbackItem.objects.filter(pk__in=list(item_theme), product=product).values_list(
        "pk", "received_at", "customer_id", "customer__arr", "content"
    )
    months = _month_starts(timezone.now())
    stats: dict[int, dict] = defaultdict(
        lambda: {"size": 0, "customers": {}, "trend": [0] * TREND_MONTHS, "examples": []}
    )
    for pk, received_at, customer_id, arr, content in items:
        row = stats[item_theme[pk]]
        row["size"] += 1
        if customer_id:
            row["customers"][customer_id] = arr or Decimal(0)
        month = received_at.date().replace(day=1)
        if month >= months[0]:
            row["trend"][months.index(month)] += 1
        if len(row["examples"]) < 2:
            row["examples"].append(content)
    out = []
    for theme in themes:
        row = stats[theme.pk]
        out.append(
            ThemeRow(
                theme=theme,
                size=row["size"],
                customers=len(row["customers"]),
                arr=sum(row["customers"].values(), Decimal(0)) if with_arr else None,
                trend=row["trend"],
                examples=row["examples"],
            )
        )
    return out


def month_labels() -> list[str]:
    return [m.strftime("%b") for m in _month_starts(timezone.now())]
