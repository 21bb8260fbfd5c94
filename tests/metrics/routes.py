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


ROUTES: dict[str, Route] = {
    "kpi_list": Route(Role.STAKEHOLDER),
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
    "experiment_edit": Route(Role.PM, kwargs=_made_by(ExperimentFactory), methods=("get", "post")),
    "experiment_delete": Route(Role.PM, kwargs=_made_by(ExperimentFactory), methods=("post",)),
    "funnel_list": Route(Role.STAKEHOLDER),
    "funnel_new": Route(Role.PM, methods=("get", "post")),
    "funnel_edit": Route(Role.PM, kwargs=_made_by(FunnelFactory), methods=("get", "post")),
    "funnel_delete": Route(Role.PM, kwargs=_made_by(FunnelFactory), methods=("post",)),
    # The REST API: anonymous callers get 401 (the matrix knows /api/ paths). Lists show what
    # the caller can see, so they are open to any signed-in user.
    "api-kpi-list": Route(SIGNED_IN, kwargs=lambda cast: {}, methods=("get", "post"), htmx=False),
    "api-kpi-detail": Route(
        Role.STAKEHOLDER,
        kwargs=lambda cast: {"pk": KPIFactory(product=cast.product).pk},
        htmx=False,
    ),
    "api-kpi-datapoints": Route(
        Role.PM,
        kwargs=lambda cast: {"pk": KPIFactory(product=cast.product).pk},
        methods=("post", "delete"),
        htmx=False,
    ),
}
