from django.apps import AppConfig


class PmConfig(AppConfig):
    name = "pm"
    verbose_name = "Lodestar core"

    def ready(self) -> None:
        import pm.mail  # noqa: F401  (registers the deploy check that e-mail is configured)
        from pm.registry import GenericRef, NavItem, registry

        # History, comments and watches name their row by model and id (pm.workspace_io).
        registry.add_generic_ref(GenericRef("pm.ActivityLog", "object_id", _object_type))
        registry.add_generic_ref(GenericRef("pm.Comment", "object_id", _content_type))
        registry.add_generic_ref(GenericRef("pm.Watch", "object_id", _content_type))

        registry.add_nav(NavItem("Overview", "product_overview", order=0))
        from pm.search import register_strategy_kinds

        register_strategy_kinds()
        registry.add_nav(NavItem("Strategy", "strategy", order=10))
        registry.add_nav(NavItem("Digest", "digest_preview", order=900))
        registry.add_nav(NavItem("History", "product_history", order=1000))

        from pm.digests import strategy_section_build
        from pm.registry import DigestSection

        registry.add_digest_section(
            DigestSection(
                key="strategy",
                title="Strategy updates",
                order=50,
                build=strategy_section_build,
                html_template="pm/email/section_strategy.html",
                text_template="pm/email/section_strategy.txt",
            )
        )


def _object_type(row: dict) -> str | None:
    return row.get("object_type")


def _content_type(row: dict) -> str | None:
    return row.get("content_type")
