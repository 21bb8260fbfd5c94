from oauth2_provider.oauth2_validators import (  # type: ignore[import-untyped]  # ships no stubs
    OAuth2Validator,
)

# Tokens for this user are minted for another application (a wrong audience), as a token
# stolen from, or mixed up with, another client of the same provider would be.
OTHER_AUDIENCE_USER = "mallory"


class Validator(OAuth2Validator):
    oidc_claim_scope = None  # every claim, whatever the scopes

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            "name": user.get_full_name(),
            "given_name": user.first_name,
            "family_name": user.last_name,
        }

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expires = super().get_id_token_dictionary(token, token_handler, request)
        if request.user.username == OTHER_AUDIENCE_USER:
            claims["aud"] = "another-application"
        return claims, expires
