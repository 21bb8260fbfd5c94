from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"

    def ready(self) -> None:
        from feedback import collab

        collab.register()
        from backlog.signals import idea_merged
        from feedback import demo, panels, receivers
        from pm.registry import FeaturePanel, NavItem, OverviewPanel, registry
        from pm.visibility import Section

        registry.add_nav(NavItem("Feedback", "feedback_inbox", order=60, section=Section.FEEDBACK))
        registry.add_overview_panel(
            OverviewPanel(
                "feedback/panels/overview.html",
                order=40,
                context=panels.overview,
                section=Section.FEEDBACK,
            )
        )
        registry.add_feature_panel(
            FeaturePanel("feedback/panels/feature.html", order=20, context=panels.feature)
        )
        registry.add_feature_panel(
            FeaturePanel(
                "feedback/panels/confidence.html",
                order=25,
                context=panels.confidence,
                need="engineer",
            )
        )
        registry.add_initiative_panel(
            FeaturePanel(
                "feedback/panels/confidence.html",
                order=25,
                context=panels.confidence,
                need="engineer",
            )
        )
        registry.add_idea_panel(
            FeaturePanel("feedback/panels/idea.html", order=20, context=panels.idea)
        )
        registry.add_idea_panel(
            FeaturePanel(
                "feedback/panels/similar_ideas.html", order=30, context=panels.similar_ideas
            )
        )
        if demo.load not in registry.demo_loaders:
            registry.demo_loaders.append(demo.load)
        _register_generic_refs(registry)
        idea_merged.connect(receivers.on_idea_merged, dispatch_uid="feedback.idea_merged")

        from django.db.models.signals import post_delete, post_save

        from backlog.models import Feature, Idea
        from feedback.models import FeedbackItem, Insight, PortalPost

        for model in (Feature, Idea, FeedbackItem, Insight, PortalPost):
            label = model._meta.label_lower
            post_save.connect(receivers.on_row_saved, sender=model, dispatch_uid=f"emb.s.{label}")
            post_delete.connect(
                receivers.on_row_deleted, sender=model, dispatch_uid=f"emb.d.{label}"
            )

        from feedback.digests import feedback_section_build
        from pm.registry import DigestSection

        registry.add_digest_section(
            DigestSection(
                key="feedback",
                title="New feedback",
                order=30,
                build=feedback_section_build,
                html_template="feedback/email/section_feedback.html",
                text_template="feedback/email/section_feedback.txt",
            )
        )


# The kinds embeddings and suggestion decisions name their rows by (feedback.models).
KIND_MODELS = {
    "feature": "backlog.Feature",
    "idea": "backlog.Idea",
    "feedback": "feedback.FeedbackItem",
    "insight": "feedback.Insight",
    "post": "feedback.PortalPost",
}


def _by_kind(field: str):
    def target(row: dict) -> str | None:
        return KIND_MODELS.get(row.get(field) or "")

    return target


def _register_generic_refs(registry) -> None:
    """Ids that pm.workspace_io remaps when a workspace moves (they name rows by kind)."""
    from pm.registry import GenericRef

    for model, id_field, kind_field in (
        ("feedback.Embedding", "object_id", "kind"),
        ("feedback.Embedding", "target_id", "target_kind"),
        ("feedback.SuggestionDecision", "source_id", "source_kind"),
        ("feedback.SuggestionDecision", "target_id", "target_kind"),
    ):
        registry.add_generic_ref(GenericRef(model, id_field, _by_kind(kind_field)))
