"""Settings → API tokens: every signed-in user creates, lists and revokes their personal access
tokens. A new token's key is shown once, in the response that created it."""

from datetime import timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from pm.api.tokens import api_token_create, api_token_revoke, tokens_for_user
from pm.htmx import render_page, toast
from pm.http import AuthedHttpRequest, signed_in
from pm.models import ApiToken
from pm.views_support import add_service_errors

EXPIRY_CHOICES = [
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In a year"),
    ("never", "Never"),
]


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What uses it, such as “CI” or “my laptop”.",
        widget=forms.TextInput(attrs={"placeholder": "CI", "autocomplete": "off"}),
    )
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        help_text="Read tokens can only make GET requests.",
    )
    expires = forms.ChoiceField(label="Expires", choices=EXPIRY_CHOICES, initial="90")

    def expires_at(self):
        value = self.cleaned_data["expires"]
        return None if value == "never" else timezone.now() + timedelta(days=int(value))


def _context(request: HttpRequest, form: TokenForm | None = None, **extra) -> dict:
    return {
        "tokens": tokens_for_user(signed_in(request)),
        "form": form or TokenForm(),
        "active_tab": "api_tokens",
        **extra,
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def tokens(request: AuthedHttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, key = api_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(),
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            context = _context(request, new_token=token, new_key=key)
            response = render_page(request, "pm/tokens.html", context, partial="tokens-panel")
            return toast(response, f"Token “{token.name}” created. Copy it now.")
    return render_page(request, "pm/tokens.html", _context(request, form), partial="tokens-panel")


@login_required
@require_POST
def token_revoke(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    api_token_revoke(token=token, actor=request.user)
    response = render_page(request, "pm/tokens.html", _context(request), partial="tokens-panel")
    return toast(response, f"Token “{token.name}” revoked. It no longer works.")
