from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from metrics import api, api_events, api_pricing, views, views_pricing

router = SimpleRouter()
router.register("api/v1/kpis", api.KPIViewSet, basename="api-kpi")
router.register("api/v1/price-plans", api_pricing.PricePlanViewSet, basename="api-price-plan")
router.register("api/v1/price-surveys", api_pricing.PriceSurveyViewSet, basename="api-price-survey")

_KPIS = "p/<str:key>/kpis/"

_PRICING = "p/<str:key>/pricing/"

urlpatterns: list[URLPattern | URLResolver] = [
    path(_PRICING, views_pricing.pricing, name="pricing"),
    path(_PRICING + "plans/new/", views_pricing.plan_new, name="plan_new"),
    path(_PRICING + "plans/<int:pk>/edit/", views_pricing.plan_edit, name="plan_edit"),
    path(_PRICING + "plans/<int:pk>/delete/", views_pricing.plan_delete, name="plan_delete"),
    path(
        _PRICING + "competitors/", views_pricing.competitor_price_add, name="competitor_price_add"
    ),
    path(
        _PRICING + "competitors/<int:pk>/delete/",
        views_pricing.competitor_price_delete,
        name="competitor_price_delete",
    ),
    path(_PRICING + "surveys/", views_pricing.survey_upload, name="survey_upload"),
    path(_PRICING + "surveys/<int:pk>/delete/", views_pricing.survey_delete, name="survey_delete"),
    path(_KPIS, views.kpi_list, name="kpi_list"),
    path(_KPIS + "new/", views.kpi_new, name="kpi_new"),
    path(_KPIS + "export/", views.kpi_export, name="kpi_export"),
    path(_KPIS + "<int:pk>/", views.kpi_detail, name="kpi_detail"),
    path(_KPIS + "<int:pk>/edit/", views.kpi_edit, name="kpi_edit"),
    path(_KPIS + "<int:pk>/delete/", views.kpi_delete, name="kpi_delete"),
    path(_KPIS + "<int:pk>/upload/", views.kpi_upload, name="kpi_upload"),
    path(
        _KPIS + "<int:pk>/upload/<int:upload>/",
        views.kpi_upload_progress,
        name="kpi_upload_progress",
    ),
    path(_KPIS + "<int:pk>/recalculate/", views.kpi_recalculate, name="kpi_recalculate"),
    path(_KPIS + "<int:pk>/points/delete/", views.kpi_points_delete, name="kpi_points_delete"),
    path(_KPIS + "<int:pk>/key-results/", views.kpi_link_key_result, name="kpi_link_key_result"),
    path(
        _KPIS + "<int:pk>/key-results/<int:link_pk>/unlink/",
        views.kpi_unlink_key_result,
        name="kpi_unlink_key_result",
    ),
    path(_KPIS + "launch-impact/", views.launch_impact_list, name="launch_impact_list"),
    path(_KPIS + "launch-impact/new/", views.launch_impact_new, name="launch_impact_new"),
    path(
        _KPIS + "launch-impact/<int:pk>/edit/",
        views.launch_impact_edit,
        name="launch_impact_edit",
    ),
    path(
        _KPIS + "launch-impact/<int:pk>/delete/",
        views.launch_impact_delete,
        name="launch_impact_delete",
    ),
    path(_KPIS + "experiments/", views.experiment_list, name="experiment_list"),
    path(_KPIS + "experiments/new/", views.experiment_new, name="experiment_new"),
    path(_KPIS + "experiments/<int:pk>/", views.experiment_detail, name="experiment_detail"),
    path(_KPIS + "experiments/<int:pk>/edit/", views.experiment_edit, name="experiment_edit"),
    path(_KPIS + "experiments/<int:pk>/delete/", views.experiment_delete, name="experiment_delete"),
    path(_KPIS + "funnels/", views.funnel_list, name="funnel_list"),
    path(_KPIS + "funnels/new/", views.funnel_new, name="funnel_new"),
    path(_KPIS + "funnels/<int:pk>/", views.funnel_detail, name="funnel_detail"),
    path(_KPIS + "funnels/<int:pk>/edit/", views.funnel_edit, name="funnel_edit"),
    path(_KPIS + "funnels/<int:pk>/delete/", views.funnel_delete, name="funnel_delete"),
    # The REST API (mounted here, under the shared /api/v1/ prefix).
    path("api/v1/kpis/<int:pk>/datapoints/", api.datapoints_create, name="api-kpi-datapoints"),
    path("api/v1/events/", api_events.events_create, name="api-events"),
]

urlpatterns += router.urls
