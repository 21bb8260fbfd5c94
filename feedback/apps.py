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
