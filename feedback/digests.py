"""The feedback section of the digest e-mail: how much new feedback came in, from where, how it
felt, and which features and ideas it was linked to. Never customer names, contacts or ARR: the
digest goes to every role."""

from datetime import datetime

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse

from feedback.models import FeedbackItem, Insight
from pm.models import Product
from pm.visibility import Section, through, viewer_for_role

TOP = 3


def feedback_section_build(*, product: Product, since: datetime, until: datetime, role: str):
    """Three queries: counts by source, by sentiment, and the most-linked features and ideas —
    for readers who browse feedback (pm.visibility), naming only features and ideas they see."""
    viewer = viewer_for_role(role, product.workspace)
    if viewer is None or not viewer.browses(Section.FEEDBACK):
        return None
    period = Q(product=product, received_at__gte=since, received_at__lt=until)
    by_source = list(
        FeedbackItem.objects.filter(period)
        .values("source")
        .annotate(n=Count("pk"))
        .order_by("-n", "source")
    )
    total = sum(row["n"] for row in by_source)
    if not total:
        return None
    sentiments = dict(
        FeedbackItem.objects.filter(period)
        .values_list("sentiment")
        .annotate(n=Count("pk"))
        .values_list("sentiment", "n")
    )
    source_labels = dict(FeedbackItem._meta.get_field("source").flatchoices)
    sentiment_labels = dict(FeedbackItem._meta.get_field("sentiment").flatchoices)
    top = list(
        Insight.objects.filter(
            feedback_item__product=product,
            feedback_item__received_at__gte=since,
            feedback_item__received_at__lt=until,
        )
        .filter(Q(feature__isnull=True) | through("feature", "backlog.feature", viewer))
        .filter(Q(idea__isnull=True) | through("idea", "backlog.idea", viewer))
        .values("feature_id", "feature__title", "idea_id", "idea__title")
        .annotate(n=Count("pk"))
        .order_by("-n")[:TOP]
    )
    return {
        "total": total,
        "sources": [(source_labels.get(r["source"], r["source"]), r["n"]) for r in by_source],
        "sentiments": [
            (sentiment_labels.get(key, key), n) for key, n in sentiments.items() if key and n
        ],
        "top": [
            {"title": row["feature__title"] or row["idea__title"], "count": row["n"]}
            for row in top
            if row["feature__title"] or row["idea__title"]
        ],
        "url": settings.SITE_URL + reverse("feedback_inbox", args=[product.key]),
    }
