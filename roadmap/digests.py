"""The roadmap's section of the digest e-mail (registered in pm.registry from apps.py)."""

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from pm.models import Product
from pm.permissions import role_allows
from roadmap.selectors import INTERNAL, PUBLIC, roadmap_changes

MAX_ENTRIES = 15


def roadmap_section_build(*, product: Product, since: datetime, until: datetime, role: str):
    """What changed on the roadmap in the period (added, moved, re-dated, shipped); for a
    stakeholder only public items, without names. None when nothing changed. Three queries."""
    visibility = INTERNAL if role_allows(role, "engineer") else PUBLIC
    changes = roadmap_changes(product=product, since=since, until=until, visibility=visibility)
    if not changes:
        return None
    return {
        "changes": changes[:MAX_ENTRIES],
        "more": max(0, len(changes) - MAX_ENTRIES),
        "url": settings.SITE_URL
        + reverse("roadmap_changes", args=[product.key])
        + f"?since={since.date().isoformat()}",
    }
