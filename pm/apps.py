from django.apps import AppConfig


class PmConfig(AppConfig):
    name = "pm"
    verbose_name = "Lodestar core"

    def ready(self) -> None:
        from pm.registry import NavItem, registry

        registry.add_nav(NavItem("Overview", "product_overview", order=0))
        registry.add_nav(NavItem("Strategy", "strategy", order=10))
        registry.add_nav(NavItem("History", "product_history", order=1000))
