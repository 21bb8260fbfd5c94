"""API authentication: personal access tokens (`Authorization: Token <key>`, or `Bearer <key>`
as OAuth-minded clients send it) and the browser session. Token authentication comes first so
an unauthenticated call gets 401 with a `WWW-Authenticate: Token` challenge rather than 403."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from pm.api.tokens import api_token_for_key


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` (or `Bearer <key>`); refuses unknown, expired and revoked
    tokens (401).

    On success `request.auth` is the ApiToken, whose scope the permission classes check."""

    keyword = "Token"
    keywords = (b"token", b"bearer")

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid token header: use “Authorization: Token <key>” (or “Bearer <key>”)."
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        token = api_token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "pm.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A personal access token from Settings → API tokens, sent as "
                "`Authorization: Token <key>` (`Bearer <key>` is accepted too). Read tokens "
                "may only make GET requests."
            ),
        }
