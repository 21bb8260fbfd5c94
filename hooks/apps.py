from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "hooks"
    verbose_name = "Webhooks and development tools"

    def ready(self) -> None:
        from hooks import demo, receivers
        from pm.registry import FeaturePanel, NavItem, registry

        receivers.connect()
        registry.add_nav(NavItem("Development", "development_settings", order=95, need="admin"))
        if demo.load not in registry.demo_loaders:
            registry.demo_loaders.append(demo.load)
        registry.add_story_panel(
            FeaturePanel(
                "hooks/panels/story.html",
                order=10,
                context=receivers.story_panel,
                need="engineer",
            )
        )
