from django.urls import include, path
from rest_framework.routers import SimpleRouter

from roadmap import api, api_planning, views

router = SimpleRouter()
router.register("initiatives", api.InitiativeViewSet, basename="api-initiative")
router.register("releases", api.ReleaseViewSet, basename="api-release")
router.register("share-links", api.ShareLinkViewSet, basename="api-share-link")
router.register(
    "initiative-updates", api_planning.InitiativeUpdateViewSet, basename="api-initiative-update"
)

urlpatterns = [
    path("p/<str:key>/roadmap/", views.roadmap, name="roadmap"),
    path("p/<str:key>/roadmap/board/", views.roadmap_board, name="roadmap_board"),
    path(
        "p/<str:key>/roadmap/initiatives/export/",
        views.initiatives_export,
        name="initiatives_export",
    ),
    path("p/<str:key>/roadmap/changes/", views.roadmap_changes, name="roadmap_changes"),
    path("p/<str:key>/roadmap/initiatives/new/", views.initiative_new, name="initiative_new"),
    path(
        "p/<str:key>/roadmap/initiatives/<int:pk>/",
        views.initiative_detail,
        name="initiative_detail",
    ),
    path(
        "p/<str:key>/roadmap/initiatives/<int:pk>/edit/",
        views.initiative_edit,
        name="initiative_edit",
    ),
    path(
        "p/<str:key>/roadmap/initiatives/<int:pk>/updates/",
        views.initiative_post_update,
        name="initiative_post_update",
    ),
    path(
        "p/<str:key>/roadmap/initiatives/<int:pk>/move/",
        views.initiative_move,
        name="initiative_move",
    ),
    path(
        "p/<str:key>/roadmap/initiatives/<int:pk>/delete/",
        views.initiative_delete,
        name="initiative_delete",
    ),
    path("p/<str:key>/roadmap/forecast/", views.forecast, name="roadmap_forecast"),
    path("p/<str:key>/roadmap/releases/", views.releases, name="releases"),
    path("p/<str:key>/roadmap/releases/new/", views.release_new, name="release_new"),
    path("p/<str:key>/roadmap/releases/export/", views.releases_export, name="releases_export"),
    path("p/<str:key>/roadmap/releases/<int:pk>/edit/", views.release_edit, name="release_edit"),
    path("p/<str:key>/roadmap/releases/<int:pk>/ship/", views.release_ship, name="release_ship"),
    path(
        "p/<str:key>/roadmap/releases/<int:pk>/delete/",
        views.release_delete,
        name="release_delete",
    ),
    path("p/<str:key>/roadmap/share-links/", views.share_links, name="share_links"),
    path(
        "p/<str:key>/roadmap/share-links/<int:pk>/revoke/",
        views.share_link_revoke,
        name="share_link_revoke",
    ),
    # Public: the token is the credential.
    path("share/<str:token>/", views.share_roadmap, name="share_roadmap"),
    path("share/<str:token>/roadmap.json", views.share_roadmap_json, name="share_roadmap_json"),
    path(
        "api/v1/roadmap/<str:token>/",
        api.PublicRoadmapView.as_view(),
        name="api_public_roadmap",
    ),
    path("api/v1/forecast/", api_planning.ForecastView.as_view(), name="api_forecast"),
    path("api/v1/", include(router.urls)),
]
