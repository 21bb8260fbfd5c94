"""Two-factor sign-in pages (pm.twofactor): the code step of signing in, the user's own
settings (set up with a QR code, recovery codes, turn off), and the admin's requirement."""

import base64

import segno
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from pm import lockout, twofactor
from pm.http import AuthedHttpRequest

WRONG_CODE = "That code is not right. Enter the 6 digits your app shows now, or a recovery code."


def _locked(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "registration/two_factor_verify.html",
        {"locked_minutes": lockout.lockout_minutes()},
        status=429,
    )


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: the password was right, now a code."""
    data = twofactor.pending(request)
    user = None
    if data is not None:
        user = get_user_model().objects.filter(pk=data["user"], is_active=True).first()
    if data is None or user is None:
        twofactor.clear_pending(request)
        messages.info(request, "Sign in with your password first.")
        return redirect("login")
    username = user.get_username()
    error = ""
    if request.method == "POST":
        if lockout.is_locked(request, username):
            return _locked(request)
        device = twofactor.verify(user, request.POST.get("code", ""))
        if device is None:
            lockout.record_failure(request, username)
            error = WRONG_CODE
        else:
            lockout.record_success(request, username)
            twofactor.clear_pending(request)
            login(request, user, backend=data["backend"])
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = twofactor.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. "
                    "Make new ones under Two-factor sign-in if you are running low.",
                )
            return redirect(twofactor.safe_next(request, data["next"]))
    return render(
        request,
        "registration/two_factor_verify.html",
        {"error": error},
        status=400 if error else 200,
    )


def _settings_context(request: AuthedHttpRequest, **extra) -> dict:
    user = request.user
    device = twofactor.totp_device(user)
    return {
        "device": device,
        "codes_left": twofactor.recovery_codes_left(user) if device else 0,
        "required_by": twofactor.requiring_workspaces(user),
        "password_account": user.has_usable_password(),
        **extra,
    }


@login_required
@never_cache
@require_http_methods(["GET"])
def two_factor(request: AuthedHttpRequest) -> HttpResponse:
    """The user's two-factor settings: on or off, recovery codes left, who requires it."""
    return render(request, "pm/two_factor.html", _settings_context(request))


def _qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(
        scale=4, light=None, title="QR code to scan"
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: AuthedHttpRequest) -> HttpResponse:
    """Scan the QR code (or type the key) into an authenticator app, confirm with a code; the
    recovery codes are then shown once."""
    user = request.user
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if twofactor.totp_device(user) is not None:
        messages.info(request, "Two-factor sign-in is already on.")
        return redirect("two_factor")
    device = twofactor.totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=twofactor.APP_NAME, confirmed=False)
    error = ""
    if request.method == "POST":
        if device.verify_token("".join(request.POST.get("code", "").split())[:10]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = twofactor.new_recovery_codes(user)
            request.session.pop(twofactor.ENROL_KEY, None)
            otp_login(request, device)
            context: dict[str, object] = {
                "codes": codes,
                "next": twofactor.safe_next(request, next_url),
            }
            return render(request, "pm/two_factor_codes.html", context)
        error = "That code is not right. Check the time on your phone and enter the code now shown."
    context = {
        "qr": _qr_svg(device),
        "secret": base64.b32encode(device.bin_key).decode(),
        "error": error,
        "next": next_url,
        "required_by": twofactor.requiring_workspaces(user),
        "enrolling": twofactor.ENROL_KEY in request.session,
    }
    return render(request, "pm/two_factor_setup.html", context, status=400 if error else 200)


def _code_ok(request: AuthedHttpRequest) -> bool:
    device = twofactor.totp_device(request.user)
    code = "".join(request.POST.get("code", "").split())[:10]
    return device is not None and bool(code) and device.verify_token(code)


@login_required
@require_POST
def two_factor_recovery(request: AuthedHttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), after a code from the app."""
    if twofactor.totp_device(request.user) is None:
        return redirect("two_factor")
    if not _code_ok(request):
        context = _settings_context(request, recovery_error=WRONG_CODE)
        return render(request, "pm/two_factor.html", context, status=400)
    codes = twofactor.new_recovery_codes(request.user)
    return render(request, "pm/two_factor_codes.html", {"codes": codes, "next": ""})


@login_required
@require_POST
def two_factor_disable(request: AuthedHttpRequest) -> HttpResponse:
    """Turn two-factor sign-in off, after a code from the app; refused while a workspace of the
    user requires it."""
    if twofactor.totp_device(request.user) is None:
        return redirect("two_factor")
    required_by = twofactor.requiring_workspaces(request.user)
    if required_by:
        context = _settings_context(
            request,
            disable_error=f"{', '.join(required_by)} require{'s' if len(required_by) == 1 else ''}"
            " two-factor sign-in: it cannot be turned off while you are a member.",
        )
        return render(request, "pm/two_factor.html", context, status=400)
    if not _code_ok(request):
        context = _settings_context(request, disable_error=WRONG_CODE)
        return render(request, "pm/two_factor.html", context, status=400)
    twofactor.disable(request.user)
    messages.success(request, "Two-factor sign-in is off. You sign in with your password alone.")
    return redirect("two_factor")
