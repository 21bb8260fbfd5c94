from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "KPIs and metrics"

    def ready(self) -> None:
        from metrics import collab

        collab.register()
        from metrics import demo, panels
        from pm.registry import FeaturePanel, NavItem, OverviewPanel, registry

        registry.add_nav(NavItem("KPIs", "kpi_list", order=70))
        registry.add_nav(NavItem("Pricing", "pricing", order=72, need="engineer"))
        registry.add_overview_panel(
            OverviewPanel("metrics/panels/overview.html", order=35, context=panels.overview)
        )
        registry.add_feature_panel(
            FeaturePanel("metrics/panels/feature.html", order=40, context=panels.feature)
        )
        if demo.load not in registry.demo_loaders:
            registry.demo_loaders.append(demo.load)
        # import_workspace inserts data points: their months' partitions first.
        registry.before_import["metrics.DataPoint"] = _ensure_partitions
        registry.before_import["metrics.Event"] = _ensure_event_partitions
        from metrics import demo_pricing

        if demo_pricing.load not in registry.demo_loaders:
            registry.demo_loaders.append(demo_pricing.load)

        from metrics.digests import kpi_section_build
        from pm.registry import DigestSection

        registry.add_digest_section(
            DigestSection(
                key="kpis",
                title="KPIs",
                order=15,
                build=kpi_section_build,
                html_template="metrics/email/section_kpis.html",
                text_template="metrics/email/section_kpis.txt",
            )
        )


def _ensure_partitions(points: list) -> None:
    from metrics import partitions

    partitions.ensure_for(point.timestamp for point in points)


def _ensure_event_partitions(events: list) -> None:
    from metrics import partitions

    partitions.ensure_for((event.timestamp for event in events), partitions.EVENTS)
