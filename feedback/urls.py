from django.urls import include, path
from rest_framework.routers import SimpleRouter

from backlog import views_fields as fields_views
from backlog.choices import CustomFieldTarget
from feedback import api, portal_views, semantic_views, views, views_evidence

P = "p/<str:key>/feedback/"

router = SimpleRouter()
router.register("feedback", api.FeedbackViewSet, basename="api-feedback")

urlpatterns = [
    # confidence from evidence (feedback.evidence), on the feature and initiative pages
    path(
        "p/<str:key>/features/<int:pk>/confidence/",
        views_evidence.feature_confidence_apply,
        name="feature_confidence_apply",
    ),
    path(
        "p/<str:key>/roadmap/initiatives/<int:pk>/confidence/",
        views_evidence.initiative_confidence_apply,
        name="initiative_confidence_apply",
    ),
    # triage
    path(P, views.inbox, name="feedback_inbox"),
    path(P + "new/", views.feedback_new, name="feedback_new"),
    path(P + "export/", views.feedback_export, name="feedback_export"),
    path(P + "<int:pk>/", views.feedback_detail, name="feedback_detail"),
    path(P + "<int:pk>/edit/", views.feedback_edit, name="feedback_edit"),
    path(
        P + "<int:pk>/fields/",
        fields_views.item_values,
        {"target": CustomFieldTarget.FEEDBACK},
        name="feedback_values",
    ),
    path(P + "<int:pk>/status/", views.feedback_status, name="feedback_status"),
    path(P + "<int:pk>/link/", views.feedback_link, name="feedback_link"),
    path(P + "link-targets/", views.feedback_link_targets, name="feedback_link_targets"),
    path(P + "insights/<int:pk>/unlink/", views.insight_unlink, name="insight_unlink"),
    # suggestions by meaning (issue 16)
    path(P + "similar/", semantic_views.similar_targets, name="feedback_similar"),
    path(
        P + "<int:pk>/dismiss/",
        semantic_views.suggestion_dismiss,
        name="feedback_suggestion_dismiss",
    ),
    path(P + "duplicates/", semantic_views.duplicates, name="feedback_duplicates"),
    path(
        P + "duplicates/decide/",
        semantic_views.duplicates_decide,
        name="feedback_duplicates_decide",
    ),
    path(P + "themes/", semantic_views.themes, name="feedback_themes"),
    path(P + "themes/<int:pk>/link/", semantic_views.theme_link, name="feedback_theme_link"),
    path(
        P + "themes/recluster/", semantic_views.themes_recluster, name="feedback_themes_recluster"
    ),
    # CSV import
    path(P + "import/", views.feedback_import, name="feedback_import"),
    path(P + "import/<int:pk>/", views.feedback_import_preview, name="feedback_import_preview"),
    path(P + "import/<int:pk>/run/", views.feedback_import_run, name="feedback_import_run"),
    path(
        P + "import/<int:pk>/progress/",
        views.feedback_import_progress,
        name="feedback_import_progress",
    ),
    # customers
    path(P + "customers/", views.customer_list, name="customer_list"),
    path(P + "customers/new/", views.customer_new, name="customer_new"),
    path(P + "customers/export/", views.customer_export, name="customer_export"),
    path(P + "customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path(P + "customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    # demand on a feature
    path(P + "features/<int:pk>/", views.feature_feedback, name="feature_feedback"),
    # research
    path(P + "research/", views.study_list, name="study_list"),
    path(P + "research/new/", views.study_new, name="study_new"),
    path(P + "research/<int:pk>/", views.study_detail, name="study_detail"),
    path(P + "research/<int:pk>/edit/", views.study_edit, name="study_edit"),
    path(P + "research/<int:pk>/findings/", views.study_finding_new, name="study_finding_new"),
    # ideas portal, the team's side
    path(P + "portal/", views.portal_admin, name="portal_admin"),
    path(P + "portal/publish/", views.portal_publish, name="portal_publish"),
    path(P + "portal/<int:pk>/moderate/", views.portal_moderate, name="portal_moderate"),
    path(P + "portal/<int:pk>/unpublish/", views.portal_unpublish, name="portal_unpublish"),
    # ideas portal, public
    path("portal/<str:key>/", portal_views.portal_home, name="portal_home"),
    path("portal/<str:key>/ideas/new/", portal_views.portal_submit, name="portal_submit"),
    path("portal/<str:key>/ideas/similar/", semantic_views.portal_similar, name="portal_similar"),
    path("portal/<str:key>/ideas/<int:pk>/", portal_views.portal_idea, name="portal_idea"),
    path("portal/<str:key>/ideas/<int:pk>/vote/", portal_views.portal_vote, name="portal_vote"),
    path(
        "portal/<str:key>/votes/<str:token>/",
        portal_views.portal_vote_confirm,
        name="portal_vote_confirm",
    ),
    # REST API
    path("api/v1/", include(router.urls)),
]
