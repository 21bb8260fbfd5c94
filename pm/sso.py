"""Single sign-on through the company's OpenID Connect identity provider (mozilla-django-oidc),
configured by environment variables (README: Single sign-on).

The flow is the authorization code flow with PKCE (S256) and a nonce: `/accounts/sso/start/`
sends the browser to the provider, `/accounts/sso/callback/` takes the code back, exchanges it
(with the PKCE verifier) for tokens, and verifies the ID token: its RS256 signature against the
provider's JWKS, its expiry, its nonce, its issuer (OIDC_OP_ISSUER) and its audience — a token
minted for another application is refused, which mozilla-django-oidc does not check itself.

Who is signed in: the provider's account is remembered by (issuer, subject) in SsoIdentity. At
the first sign-in it is linked to the Lodestar account with the same e-mail address (when the
provider does not say the address is unverified), or a new account is made — only for people
whose e-mail domain a workspace lists (`Workspace.sso_email_domains`); they join each such
workspace with its `sso_default_role` (just-in-time membership). A disabled Lodestar account
(`is_active` off) is refused, and its existing sessions stop working.
"""

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend  # type: ignore[import-untyped]  # ships no stubs

from pm.choices import ActivityAction
from pm.models import Membership, SsoIdentity, Workspace
from pm.services import activity_record

log = logging.getLogger("lodestar.security")

REFUSAL_KEY = "lodestar_sso_refusal"


def sso_enabled() -> bool:
    """Whether an identity provider is configured (OIDC_RP_CLIENT_ID and its endpoints)."""
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


def password_login_enabled() -> bool:
    return bool(getattr(settings, "PASSWORD_LOGIN", True))


class Refused(Exception):
    """A sign-in the provider vouched for but Lodestar does not accept; the message is shown."""


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


def workspaces_for_domain(domain: str) -> list[Workspace]:
    if not domain:
        return []
    return list(Workspace.objects.filter(sso_email_domains__contains=[domain]))


def join_workspaces(user: Any, workspaces: list[Workspace]) -> list[Membership]:
    """Just-in-time membership: the user joins each workspace they are not in yet, with its
    default role for single sign-on."""
    joined = []
    have = set(Membership.objects.filter(user=user).values_list("workspace_id", flat=True))
    for workspace in workspaces:
        if workspace.pk in have:
            continue
        membership = Membership.objects.create(
            workspace=workspace, user=user, role=workspace.sso_default_role
        )
        activity_record(
            instance=membership,
            action=ActivityAction.CREATED,
            actor=user,
            changes={"joined through single sign-on": [None, membership.get_role_display()]},
            workspace=workspace,
        )
        joined.append(membership)
    return joined


def _new_username(email: str) -> str:
    User = get_user_model()
    base = "".join(c for c in email.split("@", 1)[0].lower() if c.isalnum() or c in "._-")[:30]
    base = base or "user"
    name, n = base, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}{n}"
    return name


class OIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with the audience and issuer checked, accounts found by the
    provider's subject, and just-in-time membership by e-mail domain."""

    def authenticate(self, request, **kwargs):
        try:
            return super().authenticate(request, **kwargs)
        except Refused as exc:
            if request is not None:
                request.session[REFUSAL_KEY] = str(exc)
            log.warning("Single sign-on refused: %s", exc)
            return None

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise Refused("The identity provider's token was issued for another application.")
        if len(audiences) > 1 and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise Refused("The identity provider's token was issued for another application.")
        issuer = self.get_settings("OIDC_OP_ISSUER", "")
        if issuer and payload.get("iss") != issuer:
            raise Refused("The token comes from another identity provider.")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if claims.get("sub") != payload.get("sub"):
            raise Refused("The identity provider's answers do not agree about who you are.")
        issuer, subject = str(payload.get("iss", "")), str(payload["sub"])
        email = str(claims.get("email") or "").strip()
        if claims.get("email_verified") is False:
            raise Refused("Your e-mail address is not verified at the identity provider.")
        with transaction.atomic():
            identity = (
                SsoIdentity.objects.select_related("user")
                .filter(issuer=issuer, subject=subject)
                .first()
            )
            if identity is not None:
                user = identity.user
                if not user.is_active:
                    raise Refused("This account is disabled. Ask an admin of your workspace.")
                self.update_user(user, claims)
                return user
            user = self._first_sign_in(issuer, subject, email, claims)
        return user

    def _first_sign_in(self, issuer: str, subject: str, email: str, claims: dict) -> Any:
        if not email:
            raise Refused("The identity provider did not give an e-mail address.")
        User = get_user_model()
        existing = list(User.objects.filter(email__iexact=email)[:2])
        if len(existing) > 1:
            raise Refused("Several accounts have this e-mail address; ask an admin to fix that.")
        workspaces = workspaces_for_domain(email_domain(email))
        if existing:
            user = existing[0]
            if not user.is_active:
                raise Refused("This account is disabled. Ask an admin of your workspace.")
        elif not workspaces:
            raise Refused(
                f"No workspace here accepts people of {email_domain(email) or 'your domain'} "
                "through single sign-on. Ask an admin for an invitation."
            )
        else:
            user = User.objects.create_user(
                _new_username(email),
                email=email,
                first_name=str(claims.get("given_name") or "")[:150],
                last_name=str(claims.get("family_name") or "")[:150],
            )  # no usable password: this account signs in through the provider
        try:
            SsoIdentity.objects.create(user=user, issuer=issuer, subject=subject, email=email)
        except IntegrityError as exc:  # the same account, signing in twice at once
            raise Refused("Please sign in again.") from exc
        join_workspaces(user, workspaces)
        return user

    def update_user(self, user, claims):
        return user

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None

    def filter_users_by_claims(self, claims):  # not used: accounts are found by subject
        raise SuspiciousOperation("unused")
