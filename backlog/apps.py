from django.apps import AppConfig


class BacklogConfig(AppConfig):
    name = "backlog"
    verbose_name = "Backlog"

    def ready(self) -> None:
        from backlog import collab

        collab.register()
        from backlog.demo import load_demo_backlog
        from backlog.views.features import top_of_backlog_panel
        from pm.registry import NavItem, OverviewPanel, registry
        from pm.visibility import Section

        registry.add_nav(NavItem("Ideas", "ideas", order=15, section=Section.IDEAS))
        registry.add_nav(NavItem("Backlog", "backlog", order=20, section=Section.BACKLOG))
        registry.add_nav(NavItem("Sprints", "sprints", order=25, section=Section.SPRINTS))
        registry.add_overview_panel(
            OverviewPanel(
                "backlog/panels/top.html",
                order=20,
                context=top_of_backlog_panel,
                section=Section.BACKLOG,
            )
        )
        if load_demo_backlog not in registry.demo_loaders:
            registry.demo_loaders.append(load_demo_backlog)

        from backlog.digests import shipped_section_build
        from pm.registry import DigestSection

        registry.add_digest_section(
            DigestSection(
                key="shipped",
                title="Shipped and done",
                order=20,
                build=shipped_section_build,
                html_template="backlog/email/section_shipped.html",
                text_template="backlog/email/section_shipped.txt",
            )
        )
