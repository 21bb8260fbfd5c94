"""What the metrics app gives global search (pm.search): KPIs. Registered from
MetricsConfig.ready()."""

from django.urls import reverse

from pm.registry import registry
from pm.search import model_kind


def register() -> None:
    registry.add_search_kind(
        model_kind(
            key="kpi",
            label="KPIs",
            order=80,
            model="metrics.KPI",
            fields=("name", "description"),
            title=lambda k: k.name,
            url=lambda k, scope: reverse("kpi_detail", args=[k.product.key, k.pk]),
            detail=lambda k: f"KPI{' · ' + k.unit if k.unit else ''}",
            only=("id", "name", "unit", "product__key"),
        )
    )
