from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "KPIs and metrics"

    def ready(self) -> None:
        from metrics import demo, panels
        from pm.registry import FeaturePanel, NavItem, OverviewPanel, registry

        registry.add_nav(NavItem("KPIs", "kpi_list", order=70))
        registry.add_overview_panel(
            OverviewPanel("metrics/panels/overview.html", order=35, context=panels.overview)
        )
        registry.add_feature_panel(
            FeaturePanel("metrics/panels/feature.html", order=40, context=panels.feature)
        )
        if demo.load not in registry.demo_loaders:
            registry.demo_loaders.append(demo.load)
