"""Role-matrix entries for the metrics app (see tests/test_role_matrix.py)."""

from metrics.models import KeyResultKPI
from pm.choices import Role
from tests.factories import KeyResultFactory
from tests.metrics.factories import (
    ExperimentFactory,
    FunnelFactory,
    KPIFactory,
    LaunchImpactFactory,
)
from tests.routing import SIGNED_IN, Route


def _kpi(cast):
    return {"key": cast.product.key, "pk": KPIFactory(product=cast.product).pk}


def _upload(cast):
    from metrics.models import PointsUpload

    kpi = KPIFactory(product=cast.product)
    upload = PointsUpload.objects.create(
        workspace_id=cast.workspace.pk, kpi=kpi, filename="a.csv", content=b"", content_hash="x"
    )
    return {"key": cast.product.key, "pk": kpi.pk, "upload": upload.pk}


def _link(cast):
    kpi = KPIFactory(product=cast.product)
    kr = KeyResultFactory(objective__product=cast.product)
    link = KeyResultKPI.objects.create(workspace_id=cast.workspace.pk, key_result=kr, kpi=kpi)
    return {"key": cast.product.key, "pk": kpi.pk, "link_pk": link.pk}


def _made_by(factory):
    return lambda cast: {"key": cast.product.key, "pk": factory(product=cast.product).pk}


def _plan(cast):
    from decimal import Decimal

    from metrics import price_plans

    plan = price_plans.plan_create(
        product=cast.product,
        data={"name": "Team", "currency": "EUR", "monthly_price": Decimal(29)},
        features=[],
        actor=cast.pm,
    )
    return {"key": cast.product.key, "pk": plan.pk}


def _competitor_price(cast):
    from decimal import Decimal

    from metrics import price_plans
    from tests.factories import CompetitorFactory

    price = price_plans.competitor_price_add(
        product=cast.product,
        competitor=CompetitorFactory(product=cast.product),
        plan_name="Pro",
        monthly_price=Decimal(75),
        currency="EUR",
        actor=cast.pm,
    )
    return {"key": cast.product.key, "pk": price.pk}


def _survey(cast):
    from metrics import price_plans
    from metrics.demo_pricing import _survey_csv

    survey = price_plans.survey_upload(
        product=cast.product, name="S", data=_survey_csv(respondents=10), actor=cast.pm
    )
    return {"key": cast.product.key, "pk": survey.pk}


def _api(make):
    return lambda cast: {"pk": make(cast)["pk"]}


ROUTES: dict[str, Route] = {
    "pricing": Route(Role.ENGINEER),
    "plan_new": Route(Role.PM, methods=("get", "post")),
    "plan_edit": Route(Role.PM, kwargs=_plan, methods=("get", "post")),
    "plan_delete": Route(Role.PM, kwargs=_plan, methods=("post",)),
    "competitor_price_add": Route(Role.PM, methods=("post",)),
    "competitor_price_delete": Route(Role.PM, kwargs=_competitor_price, methods=("post",)),
    "survey_upload": Route(Role.PM, methods=("post",)),
    "survey_delete": Route(Role.PM, kwargs=_survey, methods=("post",)),
    "api-price-plan-list": Route(SIGNED_IN, kwargs=lambda c: {}, htmx=False),
    "api-price-plan-detail": Route(Role.ENGINEER, kwargs=_api(_plan), htmx=False),
    "api-price-survey-list": Route(SIGNED_IN, kwargs=lambda c: {}, htmx=False),
    "api-price-survey-detail": Route(Role.ENGINEER, kwargs=_api(_survey), htmx=False),
    "kpi_list": Route(Role.STAKEHOLDER),
    "kpi_export": Route(Role.STAKEHOLDER),
    "kpi_new": Route(Role.PM, methods=("get", "post")),
    "kpi_detail": Route(Role.STAKEHOLDER, kwargs=_kpi),
    "kpi_edit": Route(Role.PM, kwargs=_kpi, methods=("get", "post")),
    "kpi_delete": Route(Role.PM, kwargs=_kpi, methods=("post",)),
    "kpi_upload": Route(Role.PM, kwargs=_kpi, methods=("post",)),
    "kpi_upload_progress": Route(Role.PM, kwargs=_upload),
    "kpi_recalculate": Route(Role.PM, kwargs=_kpi, methods=("post",)),
    "kpi_points_delete": Route(Role.PM, kwargs=_kpi, methods=("post",)),
    "kpi_link_key_result": Route(Role.PM, kwargs=_kpi, methods=("post",)),
    "kpi_unlink_key_result": Route(Role.PM, kwargs=_link, methods=("post",)),
    "launch_impact_list": Route(Role.STAKEHOLDER),
    "launch_impact_new": Route(Role.PM, methods=("get", "post")),
    "launch_impact_edit": Route(
        Role.PM, kwargs=_made_by(LaunchImpactFactory), methods=("get", "post")
    ),
    "launch_impact_delete": Route(Role.PM, kwargs=_made_by(LaunchImpactFactory), methods=("post",)),
    "experiment_list": Route(Role.STAKEHOLDER),
    "experiment_new": Route(Role.PM, methods=("get", "post")),
    "experiment_detail": Route(Role.STAKEHOLDER, kwargs=_made_by(ExperimentFactory)),
    "experiment_edit": Route(Role.PM, kwargs=_made_by(ExperimentFactory), methods=("get", "post")),
    "experiment_delete": Route(Role.PM, kwargs=_made_by(ExperimentFactory), methods=("post",)),
    "funnel_list": Route(Role.STAKEHOLDER),
    "funnel_new": Route(Role.PM, methods=("get", "post")),
    "funnel_detail": Route(Role.STAKEHOLDER, kwargs=_made_by(FunnelFactory)),
    "funnel_edit": Route(Role.PM, kwargs=_made_by(FunnelFactory), methods=("get", "post")),
    "funnel_delete": Route(Role.PM, kwargs=_made_by(FunnelFactory), methods=("post",)),
    # The REST API: anonymous callers get 401 (the matrix knows /api/ paths). Lists show what
    # the caller can see, so they are open to any signed-in user.
    "api-kpi-list": Route(SIGNED_IN, kwargs=lambda cast: {}, methods=("get", "post"), htmx=False),
    "api-kpi-export": Route(SIGNED_IN, kwargs=lambda cast: {}, htmx=False),
    "api-kpi-detail": Route(
        Role.STAKEHOLDER,
        kwargs=lambda cast: {"pk": KPIFactory.create(product=cast.product).pk},
        htmx=False,
    ),
    "api-kpi-datapoints": Route(
        Role.PM,
        kwargs=lambda cast: {"pk": KPIFactory.create(product=cast.product).pk},
        methods=("post", "delete"),
        htmx=False,
    ),
    # The product is in the body: roles below pm are refused in tests/metrics/test_events_api.py.
    "api-events": Route(SIGNED_IN, kwargs=lambda cast: {}, methods=("post",), htmx=False),
}
