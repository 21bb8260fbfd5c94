from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Imports from other tools"

    def ready(self) -> None:
        from imports import demo
        from pm.registry import registry

        if demo.load not in registry.demo_loaders:
            registry.demo_loaders.append(demo.load)
