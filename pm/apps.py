from django.apps import AppConfig


class PmConfig(AppConfig):
    name = "pm"
    verbose_name = "Lodestar core"

    def ready(self) -> None:
        import pm.mail  # noqa: F401  (registers the deploy check that e-mail is configured)
        from pm.registry import NavItem, registry

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
