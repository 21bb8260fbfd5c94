"""The backlog's section of the digest e-mail: features shipped and stories finished in the
period. Stakeholders see released features only (their role's view of the backlog)."""

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from backlog.choices import FeatureStatus, StoryStatus
from backlog.models import Feature
from pm.models import ActivityLog, Product
from pm.permissions import role_allows

MAX_ENTRIES = 10


def shipped_section_build(*, product: Product, since: datetime, until: datetime, role: str):
    """Features shipped in the period and, for the team, stories moved to done. Two queries."""
    shipped = list(
        Feature.objects.filter(
            product=product,
            status=FeatureStatus.SHIPPED,
            shipped_at__gte=since,
            shipped_at__lt=until,
        )
        .select_related("theme")
        .order_by("-shipped_at")
    )
    done: dict[int, str] = {}
    if role_allows(role, "engineer"):
        entries = ActivityLog.objects.filter(
            product=product,
            object_type="backlog.userstory",
            created_at__gte=since,
            created_at__lt=until,
            changes__status__1=StoryStatus.DONE.label,
        ).order_by("-created_at")
        for entry in entries.only("object_id", "object_repr"):
            done.setdefault(entry.object_id, entry.object_repr)
    if not shipped and not done:
        return None
    site = settings.SITE_URL
    return {
        "shipped": [
            {
                "title": f.title,
                "theme": f.theme.name if f.theme else "",
                "url": site + reverse("feature_detail", args=[product.key, f.pk]),
            }
            for f in shipped[:MAX_ENTRIES]
        ],
        "shipped_more": max(0, len(shipped) - MAX_ENTRIES),
        "done": list(done.values())[:MAX_ENTRIES],
        "done_count": len(done),
        "done_more": max(0, len(done) - MAX_ENTRIES),
        "backlog_url": site + reverse("backlog", args=[product.key]),
    }
