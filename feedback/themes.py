"""Themes: a product's feedback clustered by meaning, incrementally, without any cloud model.

- A newly embedded feedback item joins the theme whose centroid is nearest, if the similarity is
  at least JOIN; otherwise it starts a theme of its own. The centroid moves to the running mean.
- `recluster` (nightly, and from the Themes page) starts over on the latest items: one pass of the
  same rule in time order, then two rounds of reassignment to the nearest centroid (k-means
  steps), so early arrivals do not fix the clusters forever. Themes keep their row (and their
  feature link) when most of their members stay together.
- Labels: the words most distinctive of each theme against the others (class-based TF-IDF,
  c-TF-IDF: a word's frequency in the theme times log(1 + average words per theme / the word's
  frequency over all themes)).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np
from django.db import transaction

from feedback import matching, semantic
from feedback.models import Embedding, FeedbackItem, FeedbackTheme

JOIN = 0.92  # e5 query-to-query: same demo topic ≥ 0.925, other topics ≤ 0.906 (99th pct)
LABEL_WORDS = 4
RECLUSTER_WINDOW = 20_000


def _normalised(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


@transaction.atomic
def assign(product_id: int, item_ids: list[int]) -> int:
    """Put freshly embedded feedback items into themes (the embedding task calls this). Returns
    how many themes were created."""
    rows = list(
        Embedding.objects.select_for_update()
        .filter(kind="feedback", object_id__in=item_ids, product_id=product_id, theme=None)
        .only("id", "object_id", "vector")
    )
    if not rows:
        return 0
    themes = list(
        FeedbackTheme.objects.select_for_update().filter(product_id=product_id).order_by("id")
    )
    centroids = [semantic.unpack(t.centroid).copy() for t in themes]
    created = 0
    touched: set[int] = set()
    for row in rows:
        vector = semantic.unpack(row.vector)
        best, sim = -1, -1.0
        if centroids:
            sims = np.stack(centroids) @ vector
            best = int(np.argmax(sims))
            sim = float(sims[best])
        if best >= 0 and sim >= JOIN:
            theme = themes[best]
            centroids[best] = _normalised(centroids[best] * theme.size + vector)
            theme.size += 1
        else:
            theme = FeedbackTheme(
                product_id=product_id, label="", centroid=semantic.pack(vector), size=1
            )
            theme.save()
            themes.append(theme)
            centroids.append(vector.copy())
            created += 1
        row.theme = theme
        touched.add(theme.pk)
    Embedding.objects.bulk_update(rows, ["theme"])
    for theme, centroid in zip(themes, centroids, strict=True):
        if theme.pk in touched:
            theme.centroid = semantic.pack(centroid)
            theme.save(update_fields=["centroid", "size", "updated_at"])
    relabel(product_id, [t for t in themes if t.pk in touched])
    return created


def relabel(product_id: int, themes: list[FeedbackTheme] | None = None) -> None:
    """c-TF-IDF labels for `themes` (all of the product's by default), against all themes."""
    members = Embedding.objects.filter(
        product_id=product_id, kind="feedback", theme__isnull=False
    ).values_list("theme_id", "object_id")
    theme_of = dict((object_id, theme_id) for theme_id, object_id in members)
    if not theme_of:
        return
    counts: dict[int, Counter] = defaultdict(Counter)
    for pk, content in FeedbackItem.objects.filter(pk__in=list(theme_of)).values_list(
        "pk", "content"
    ):
        counts[theme_of[pk]].update(matching.words(content))
    total: Counter[str] = Counter()
    for counter in counts.values():
        total.update(counter)
    average = sum(total.values()) / max(1, len(counts))
    wanted = (
        themes if themes is not None else list(FeedbackTheme.objects.filter(product_id=product_id))
    )
    for theme in wanted:
        counter = counts.get(theme.pk) or Counter()
        if not counter:
            continue
        size = sum(counter.values())
        scored = sorted(
            counter,
            key=lambda w: -(counter[w] / size) * math.log(1 + average / total[w]),
        )
        words = scored[:LABEL_WORDS]
        theme.words = words
        theme.label = ", ".join(words)[:200] or "(no words)"
        theme.save(update_fields=["words", "label", "updated_at"])


@transaction.atomic
def recluster(product_id: int) -> int:
    """Cluster the product's latest RECLUSTER_WINDOW embedded feedback items from scratch.
    Returns the number of themes."""
    rows = list(
        Embedding.objects.filter(product_id=product_id, kind="feedback")
        .select_for_update()
        .order_by("object_id")
        .only("id", "object_id", "vector", "theme_id")[:RECLUSTER_WINDOW]
    )
    if not rows:
        FeedbackTheme.objects.filter(product_id=product_id).delete()
        return 0
    matrix = np.frombuffer(b"".join(bytes(r.vector) for r in rows), dtype="<f4").reshape(
        len(rows), semantic.DIM
    )
    # One leader pass in arrival order…
    labels = np.full(len(rows), -1)
    centroids: list[np.ndarray] = []
    sizes: list[int] = []
    for i, vector in enumerate(matrix):
        if centroids:
            sims = np.stack(centroids) @ vector
            best = int(np.argmax(sims))
            if sims[best] >= JOIN:
                labels[i] = best
                centroids[best] = _normalised(centroids[best] * sizes[best] + vector)
                sizes[best] += 1
                continue
        labels[i] = len(centroids)
        centroids.append(vector.copy())
        sizes.append(1)
    # …then two k-means rounds over the whole set.
    for _ in range(2):
        stacked = np.stack(centroids)
        labels = np.argmax(matrix @ stacked.T, axis=1)
        for k in range(len(centroids)):
            members = matrix[labels == k]
            if len(members):
                centroids[k] = _normalised(members.sum(axis=0))
    clusters: dict[int, list[int]] = defaultdict(list)
    for i, k in enumerate(labels):
        clusters[int(k)].append(i)
    # Keep a theme's row (and its feature link) for the new cluster most of its members joined.
    old_members: dict[int, set[int]] = defaultdict(set)
    for i, row in enumerate(rows):
        if row.theme_id:
            old_members[row.theme_id].add(i)
    existing = {t.pk: t for t in FeedbackTheme.objects.filter(product_id=product_id)}
    reused: set[int] = set()
    kept: list[FeedbackTheme] = []
    for k, indexes in sorted(clusters.items(), key=lambda kv: -len(kv[1])):
        members = set(indexes)
        best_old, best_overlap = None, 0
        for theme_id, olds in old_members.items():
            overlap = len(olds & members)
            if theme_id not in reused and overlap * 2 > len(members) and overlap > best_overlap:
                best_old, best_overlap = theme_id, overlap
        theme = existing.get(best_old) if best_old else None
        if theme is None:
            theme = FeedbackTheme(product_id=product_id, label="")
        else:
            reused.add(theme.pk)
        theme.centroid = semantic.pack(centroids[k])
        theme.size = len(indexes)
        theme.save()
        kept.append(theme)
        for i in indexes:
            rows[i].theme = theme
    Embedding.objects.bulk_update(rows, ["theme"], batch_size=2000)
    FeedbackTheme.objects.filter(product_id=product_id).exclude(
        pk__in=[t.pk for t in kept]
    ).delete()
    relabel(product_id, kept)
    return len(kept)
