from django.apps import AppConfig


class RoadmapConfig(AppConfig):
    name = "roadmap"

    def ready(self) -> None:
        from roadmap import collab

        collab.register()
        from pm.registry import DigestSection, FeaturePanel, NavItem, OverviewPanel, registry
        from pm.visibility import Section
        from roadmap import panels
        from roadmap.demo import load_demo_roadmap
        from roadmap.digests import roadmap_section_build, status_section_build

        registry.add_nav(NavItem("Roadmap", "roadmap", order=30))
        registry.add_overview_panel(
            OverviewPanel("roadmap/panels/glance.html", order=30, context=panels.glance)
        )
        registry.add_overview_panel(
            OverviewPanel(
                "roadmap/panels/okr_health.html",
                order=5,
                context=panels.okr_health,
                section=Section.STRATEGY,
            )
        )
        registry.add_feature_panel(
            FeaturePanel("roadmap/panels/feature.html", order=30, context=panels.feature)
        )
        registry.add_digest_section(
            DigestSection(
                key="roadmap",
                title="Roadmap changes",
                order=10,
                build=roadmap_section_build,
                html_template="roadmap/email/section_roadmap.html",
                text_template="roadmap/email/section_roadmap.txt",
            )
        )
        registry.add_digest_section(
            DigestSection(
                key="initiative_status",
                title="Initiative status",
                order=12,
                build=status_section_build,
                html_template="roadmap/email/section_status.html",
                text_template="roadmap/email/section_status.txt",
            )
        )
        if load_demo_roadmap not in registry.demo_loaders:
            registry.demo_loaders.append(load_demo_roadmap)
