"""The KPI section of the digest e-mail: the KPIs that moved most in their latest period, and the
ones off target. KPIs are visible to every role."""

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from metrics.selectors import kpi_list, kpi_summaries
from metrics.templatetags.metrics_tags import kpi_value
from pm.models import Product

TOP = 3
MOVED = 5.0  # percent: smaller changes are noise in a digest


def kpi_section_build(*, product: Product, since: datetime, until: datetime, role: str):
    """Two queries: the KPIs and their latest rollups."""
    summaries = [s for s in kpi_summaries(list(kpi_list(product=product))) if s.latest is not None]
    if not summaries:
        return None
    site = settings.SITE_URL
    moved = sorted(
        (s for s in summaries if s.change is not None and abs(s.change) >= MOVED),
        key=lambda s: abs(s.change or 0),
        reverse=True,
    )[:TOP]
    # Off target: a target is set, not met, and less than 90% of the way there.
    off_target = [
        s for s in summaries if not s.target_met and s.progress is not None and s.progress < 0.9
    ][:TOP]
    if not moved and not off_target:
        return None

    def row(s):
        return {
            "name": s.kpi.name,
            # Formatted as the KPI pages show them: “€69,947”, “69.7%”, “495 ms”.
            "latest_text": kpi_value(s.latest, s.kpi),
            "target_text": kpi_value(s.kpi.target_value, s.kpi),
            "latest": s.latest,
            "unit": s.kpi.unit,
            "change": s.change,
            "good": s.change_is_good,
            "target": s.kpi.target_value,
            "progress": s.progress_percent,
            "url": site + reverse("kpi_detail", args=[product.key, s.kpi.pk]),
        }

    return {
        "moved": [row(s) for s in moved],
        "off_target": [row(s) for s in off_target],
        "url": site + reverse("kpi_list", args=[product.key]),
    }
