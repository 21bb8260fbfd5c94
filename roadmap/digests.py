"""The roadmap's section of the digest e-mail (registered in pm.registry from apps.py)."""

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from pm.models import Product
from pm.permissions import role_allows
from pm.visibility import viewer_for_role, visible
from roadmap.choices import HEALTH_ORDER, Health
from roadmap.models import InitiativeUpdate
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


def status_section_build(*, product: Product, since: datetime, until: datetime, role: str):
    """Initiative status updates posted in the period, the least healthy first; a stakeholder
    gets those on public initiatives only (pm.visibility, as on the roadmap). One query."""
    viewer = viewer_for_role(role, product.workspace)
    updates = list(
        visible(
            InitiativeUpdate.objects.filter(
                product=product, created_at__gte=since, created_at__lt=until
            ),
            viewer,
        )
        .select_related("initiative")
        .order_by("-created_at", "-id")
    )
    if not updates:
        return None
    latest: dict[int, InitiativeUpdate] = {}
    for update in updates:  # newest first: keep each initiative's latest in the period
        latest.setdefault(update.initiative_id, update)
    entries = sorted(
        latest.values(), key=lambda u: (HEALTH_ORDER[Health(u.status)], u.initiative.title.lower())
    )
    return {
        "updates": [
            {
                "title": u.initiative.title,
                "status": u.get_status_display(),
                "note": u.note,
                "url": settings.SITE_URL
                + reverse("initiative_detail", args=[product.key, u.initiative_id]),
            }
            for u in entries[:MAX_ENTRIES]
        ],
        "more": max(0, len(entries) - MAX_ENTRIES),
    }
