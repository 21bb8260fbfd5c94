"""Panels that other pages show: the KPIs card on the product overview and the launch impact
of a feature on its detail page. Each runs a constant number of queries."""

from django.http import HttpRequest

from metrics import selectors
from pm.choices import Role
from pm.permissions import membership_for

OVERVIEW_KPIS = 5


def overview(request: HttpRequest, product) -> dict:
    summaries = selectors.kpi_summaries(list(selectors.kpi_list(product=product)))
    return {
        "summaries": summaries[:OVERVIEW_KPIS],
        "more": max(len(summaries) - OVERVIEW_KPIS, 0),
    }


def feature(request: HttpRequest, feature) -> dict:
    product = feature.product
    membership = membership_for(request.user, product.workspace_id)
    impacts = list(selectors.launch_impacts(feature=feature))
    return {
        "product": product,
        "feature": feature,
        "can_edit": membership is not None and membership.allows(Role.PM),
        "measurements": selectors.measure_impacts(impacts),
    }
