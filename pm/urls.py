from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from pm import (
    api_journeys,
    views,
    views_account,
    views_collab,
    views_digests,
    views_journeys,
    views_search,
    views_sso,
    views_tokens,
    views_twofactor,
    views_workspace_io,
)
from pm.api import views as api_views

urlpatterns = [
    path("healthz", views_account.healthz, name="healthz"),
    path("accounts/login/", views_account.RateLimitedLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_reset/",
        views_account.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views_account.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path(
        "accounts/password/",
        views_account.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path("accounts/sso/start/", views_sso.sso_start, name="sso_start"),
    path("accounts/sso/callback/", views_sso.sso_callback, name="sso_callback"),
    path("accounts/login/code/", views_twofactor.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/", views_twofactor.two_factor, name="two_factor"),
    path("accounts/two-factor/setup/", views_twofactor.two_factor_setup, name="two_factor_setup"),
    path(
        "accounts/two-factor/recovery-codes/",
        views_twofactor.two_factor_recovery,
        name="two_factor_recovery",
    ),
    path(
        "accounts/two-factor/disable/",
        views_twofactor.two_factor_disable,
        name="two_factor_disable",
    ),
    # The admin's sign-in goes through the same lockout as the site's (before admin.site.urls).
    path("admin/login/", views_account.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("settings/tokens/", views_tokens.tokens, name="api_tokens"),
    path("settings/tokens/<int:pk>/revoke/", views_tokens.token_revoke, name="api_token_revoke"),
    # The REST API: core and backlog resources; other apps add theirs through their urls.py.
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_views.api_docs, name="api-docs"),
    path("api/v1/", include("pm.api.urls")),
    path("api/v1/", include("backlog.api_urls")),
    path("", views.home, name="home"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("w/<slug:slug>/", views.workspace_detail, name="workspace_detail"),
    path("w/<slug:slug>/switch/", views.workspace_switch, name="workspace_switch"),
    path("w/<slug:slug>/members/", views.members, name="members"),
    path("w/<slug:slug>/export/", views_workspace_io.workspace_export, name="workspace_export"),
    path("w/<slug:slug>/import/", views_workspace_io.workspace_import, name="workspace_import"),
    path("w/<slug:slug>/members/<int:pk>/role/", views.membership_role, name="membership_role"),
    path(
        "w/<slug:slug>/members/<int:pk>/remove/",
        views.membership_remove,
        name="membership_remove",
    ),
    path("w/<slug:slug>/invitations/", views.invitation_create, name="invitation_create"),
    path(
        "w/<slug:slug>/invitations/<int:pk>/resend/",
        views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "w/<slug:slug>/stakeholder-sections/",
        views.workspace_sections,
        name="workspace_sections",
    ),
    path("w/<slug:slug>/sign-in/", views.workspace_sign_in, name="workspace_sign_in"),
    path(
        "w/<slug:slug>/invitations/<int:pk>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("w/<slug:slug>/products/new/", views.product_create, name="product_create"),
    path("p/<str:key>/", views.product_overview, name="product_overview"),
    path("p/<str:key>/history/", views.product_history, name="product_history"),
    path("p/<str:key>/digest/", views_digests.digest_preview, name="digest_preview"),
    path(
        "p/<str:key>/digest/email/",
        views_digests.digest_email_preview,
        name="digest_email_preview",
    ),
    path(
        "digests/unsubscribe/<str:token>/",
        views_digests.digest_unsubscribe,
        name="digest_unsubscribe",
    ),
    path("notifications/", views_digests.notification_list, name="notification_list"),
    path("notifications/menu/", views_digests.notification_menu, name="notification_menu"),
    path(
        "notifications/read/",
        views_digests.notification_mark_read,
        name="notification_mark_read",
    ),
    path(
        "notifications/read-all/",
        views_digests.notification_read_all,
        name="notification_read_all",
    ),
    path(
        "notifications/settings/",
        views_collab.notification_settings,
        name="notification_settings",
    ),
    path(
        "p/<str:key>/comments/<slug:kind>/<int:object_id>/",
        views_collab.comment_thread,
        name="comment_thread",
    ),
    path("comments/<int:pk>/edit/", views_collab.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete/", views_collab.comment_delete, name="comment_delete"),
    path(
        "p/<str:key>/follow/<slug:kind>/<int:object_id>/",
        views_collab.watch_toggle,
        name="watch_toggle",
    ),
    path("p/<str:key>/mentions/", views_collab.mention_suggest, name="mention_suggest"),
    path("search/", views_search.search, name="search"),
    path("search/quick/", views_search.quick_jump, name="search_quick"),
    path("p/<str:key>/strategy/", views.strategy, name="strategy"),
    path("p/<str:key>/strategy/vision/", views.vision_show, name="vision_show"),
    path("p/<str:key>/strategy/vision/edit/", views.vision_edit, name="vision_edit"),
    path(
        "p/<str:key>/strategy/objectives/<int:objective_pk>/key-results/new/",
        views.key_result_new,
        name="key_result_new",
    ),
    path(
        "p/<str:key>/strategy/key-results/<int:pk>/edit/",
        views.key_result_edit,
        name="key_result_edit",
    ),
    path(
        "p/<str:key>/strategy/key-results/<int:pk>/delete/",
        views.key_result_delete,
        name="key_result_delete",
    ),
    path("p/<str:key>/strategy/<slug:section>/", views.strategy_section, name="strategy_section"),
    path(
        "p/<str:key>/strategy/<slug:section>/new/",
        views.strategy_item_new,
        name="strategy_item_new",
    ),
    path(
        "p/<str:key>/strategy/<slug:section>/<int:pk>/edit/",
        views.strategy_item_edit,
        name="strategy_item_edit",
    ),
    path(
        "p/<str:key>/strategy/<slug:section>/<int:pk>/delete/",
        views.strategy_item_delete,
        name="strategy_item_delete",
    ),
]

# User journey maps (pm.views_journeys).
J = "p/<str:key>/journeys/"
urlpatterns += [
    path(J, views_journeys.journey_list, name="journey_list"),
    path(J + "<int:pk>/", views_journeys.journey_detail, name="journey_detail"),
    path(J + "<int:pk>/edit/", views_journeys.journey_edit, name="journey_edit"),
    path(J + "<int:pk>/delete/", views_journeys.journey_delete, name="journey_delete"),
    path(J + "<int:pk>/stages/", views_journeys.stage_add, name="journey_stage_add"),
    path(
        J + "<int:pk>/stages/<int:stage>/edit/",
        views_journeys.stage_edit,
        name="journey_stage_edit",
    ),
    path(
        J + "<int:pk>/stages/<int:stage>/move/",
        views_journeys.stage_move,
        name="journey_stage_move",
    ),
    path(
        J + "<int:pk>/stages/<int:stage>/delete/",
        views_journeys.stage_delete,
        name="journey_stage_delete",
    ),
    path(
        J + "<int:pk>/stages/<int:stage>/opportunities/",
        views_journeys.opportunity_add,
        name="journey_opportunity_add",
    ),
    path(
        J + "<int:pk>/opportunities/<int:item>/delete/",
        views_journeys.opportunity_delete,
        name="journey_opportunity_delete",
    ),
]

journey_api = SimpleRouter()
journey_api.register("api/v1/journeys", api_journeys.JourneyViewSet, basename="api-journey")
urlpatterns += journey_api.urls

# Each domain app mounts its own pages under the product.
urlpatterns += [
    path("", include("backlog.urls")),
    path("", include("roadmap.urls")),
    path("", include("feedback.urls")),
    path("", include("metrics.urls")),
    path("", include("hooks.urls")),
    path("", include("imports.urls")),
]

handler500 = "pm.views_account.server_error"

# Unknown API paths get a JSON 404 in the API's error shape (after every app's routes).
urlpatterns += [re_path(r"^api/(?P<path>.*)$", api_views.api_not_found)]
