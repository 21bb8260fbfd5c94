"""Single sign-on through an OpenID Connect identity provider (mozilla-django-oidc)."""

from django.conf import settings


def sso_enabled() -> bool:
    """Whether an identity provider is configured (OIDC_RP_CLIENT_ID and its endpoints)."""
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))
