"""Role-matrix entries for the feedback app's routes (see tests/test_role_matrix.py).

The public ideas portal and the REST API are PUBLIC here: the portal needs no sign-in and the
API answers anonymous callers with 401/403 rather than a sign-in redirect. Their own tests
(tests/feedback/test_portal.py, tests/feedback/test_api.py) cover who sees what."""

from feedback.models import FeedbackImport, Insight, PortalPost, ResearchStudy
from pm.choices import Role
from tests.feedback.factories import CustomerFactory, FeedbackItemFactory, make_feature
from tests.routing import PUBLIC, Route


def _key(cast):
    return {"key": cast.product.key}


def _item(cast):
    return {"key": cast.product.key, "pk": FeedbackItemFactory(product=cast.product).pk}


def _customer(cast):
    return {"key": cast.product.key, "pk": CustomerFactory(workspace=cast.workspace).pk}


def _insight(cast):
    feature = make_feature(cast.product, "Dark mode", actor=cast.pm)
    item = FeedbackItemFactory(product=cast.product)
    insight = Insight.objects.create(
        workspace_id=cast.workspace.pk, feedback_item=item, feature=feature
    )
    return {"key": cast.product.key, "pk": insight.pk}


def _feature(cast):
    # Shipped: stakeholders read the demand on released features (pm.visibility).
    feature = make_feature(cast.product, "SSO", actor=cast.pm, status="shipped")
    return {"key": cast.product.key, "pk": feature.pk}


def _import(cast):
    batch = FeedbackImport.objects.create(
        product=cast.product,
        filename="f.csv",
        encoding="utf-8",
        content="content,source,received_at\nHello,email,2026-01-02\n",
        row_count=1,
    )
    return {"key": cast.product.key, "pk": batch.pk}


def _study(cast):
    study = ResearchStudy.objects.create(
        product=cast.product, title="Interviews", kind="interview", goal="Learn"
    )
    return {"key": cast.product.key, "pk": study.pk}


def _post(cast):
    post = PortalPost.objects.create(product=cast.product, title="An idea from a visitor")
    return {"key": cast.product.key, "pk": post.pk}


def _theme(cast):
    from feedback.models import FeedbackTheme

    theme = FeedbackTheme.objects.create(product=cast.product, label="x", centroid=b"", size=2)
    return {"key": cast.product.key, "pk": theme.pk}


# The inbox, feedback items and research are a section stakeholders do not browse unless the
# workspace shares it (pm.visibility): 403.
def _initiative(cast):
    from tests.roadmap.factories import InitiativeFactory

    return {"key": cast.product.key, "pk": InitiativeFactory(product=cast.product).pk}


ROUTES: dict[str, Route] = {
    # "use the suggested confidence" (feedback.evidence)
    "feature_confidence_apply": Route(Role.PM, kwargs=_feature, methods=("post",)),
    "initiative_confidence_apply": Route(Role.PM, kwargs=_initiative, methods=("post",)),
    "feedback_inbox": Route(Role.ENGINEER, kwargs=_key),
    "feedback_export": Route(Role.ENGINEER, kwargs=_key),
    "feedback_new": Route(Role.PM, kwargs=_key, methods=("get", "post")),
    "feedback_detail": Route(Role.ENGINEER, kwargs=_item),
    "feedback_edit": Route(Role.PM, kwargs=_item, methods=("get", "post")),
    "feedback_values": Route(Role.PM, kwargs=_item, methods=("get", "post")),
    "feedback_status": Route(Role.PM, kwargs=_item, methods=("post",)),
    "feedback_link": Route(Role.PM, kwargs=_item, methods=("post",)),
    "feedback_link_targets": Route(Role.PM, kwargs=_key),
    "insight_unlink": Route(Role.PM, kwargs=_insight, methods=("post",)),
    "feedback_import": Route(Role.PM, kwargs=_key, methods=("get", "post")),
    "feedback_import_preview": Route(Role.PM, kwargs=_import),
    "feedback_import_run": Route(Role.PM, kwargs=_import, methods=("post",)),
    "feedback_import_progress": Route(Role.PM, kwargs=_import),
    "customer_list": Route(Role.ENGINEER, kwargs=_key),
    "customer_export": Route(Role.ENGINEER, kwargs=_key),
    "customer_new": Route(Role.PM, kwargs=_key, methods=("get", "post")),
    "customer_detail": Route(Role.ENGINEER, kwargs=_customer),
    "customer_edit": Route(Role.PM, kwargs=_customer, methods=("get", "post")),
    "feature_feedback": Route(Role.STAKEHOLDER, kwargs=_feature),
    "study_list": Route(Role.ENGINEER, kwargs=_key),
    "study_new": Route(Role.PM, kwargs=_key, methods=("get", "post")),
    "study_detail": Route(Role.ENGINEER, kwargs=_study),
    "study_edit": Route(Role.PM, kwargs=_study, methods=("get", "post")),
    "study_finding_new": Route(Role.PM, kwargs=_study, methods=("post",)),
    "portal_admin": Route(Role.PM, kwargs=_key, methods=("get", "post")),
    "portal_publish": Route(Role.PM, kwargs=_key, methods=("post",)),
    "portal_moderate": Route(Role.PM, kwargs=_post, methods=("post",)),
    "portal_unpublish": Route(Role.PM, kwargs=_post, methods=("post",)),
    # suggestions by meaning (tests/feedback/test_semantic_pages.py)
    "feedback_similar": Route(Role.PM, kwargs=_key),
    "feedback_suggestion_dismiss": Route(Role.PM, kwargs=_item, methods=("post",)),
    "feedback_duplicates": Route(Role.PM, kwargs=_key),
    "feedback_duplicates_decide": Route(Role.PM, kwargs=_key, methods=("post",)),
    "feedback_themes": Route(Role.ENGINEER, kwargs=_key),
    "feedback_theme_link": Route(Role.PM, kwargs=_theme, methods=("post",)),
    "feedback_themes_recluster": Route(Role.PM, kwargs=_key, methods=("post",)),
    "portal_similar": Route(PUBLIC, kwargs=_key),
    # public (tested in test_portal.py) and the API (tested in test_api.py)
    "portal_home": Route(PUBLIC, kwargs=_key),
    "portal_submit": Route(PUBLIC, kwargs=_key, methods=("get", "post")),
    "portal_idea": Route(PUBLIC, kwargs=lambda c: {"key": c.product.key, "pk": 1}),
    "portal_vote": Route(PUBLIC, kwargs=lambda c: {"key": c.product.key, "pk": 1}),
    "portal_vote_confirm": Route(PUBLIC, kwargs=lambda c: {"key": c.product.key, "token": "x"}),
    "api-feedback-list": Route(PUBLIC, kwargs=lambda c: {}),
    "api-feedback-export": Route(PUBLIC, kwargs=lambda c: {}),
    "api-feedback-detail": Route(PUBLIC, kwargs=lambda c: {"pk": 1}),
}
