"""In the browser: password reset from the sign-in page to signing in with the new password; the
notification bell marking read only through its POST; an invitation whose e-mail failed, resent
from Members."""

import re

import pytest
from playwright.sync_api import expect

from pm.choices import EmailStatus, NotificationKind, Role
from pm.models import Invitation, Notification
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW = "a-brand-new-passphrase-42"


def test_forgot_password_round_trip(page, cast, mailoutbox, screenshot_dir):
    cast.pm.email = "pm@example.com"
    cast.pm.save()
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot password?").click()
    page.fill("#id_email", "pm@example.com")
    page.screenshot(path=screenshot_dir / "password-reset-form.png", full_page=True)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    [path] = re.findall(r"/accounts/reset/\S+/", mailoutbox[-1].body)
    page.goto(path)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.fill("#id_new_password1", NEW)
    page.fill("#id_new_password2", NEW)
    page.screenshot(path=screenshot_dir / "password-reset-confirm.png", full_page=True)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("heading", name="Your password was changed")).to_be_visible()

    sign_in(page, "pm", NEW)
    assert page.url.endswith("/")
    expect(page.locator("[data-testid=user-menu]")).to_be_visible()
    page.locator("[data-testid=user-menu] summary").click()
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    page.screenshot(path=screenshot_dir / "password-change.png", full_page=True)
    assert page.console_errors == []


def test_opening_the_bell_marks_read_by_post(page, cast, screenshot_dir):
    Notification.objects.create(
        workspace=cast.workspace,
        user=cast.engineer,
        kind=NotificationKind.MENTION,
        message="Priya mentioned you",
        url="/",
    )
    sign_in(page, "engineer", PASSWORD)
    badge = page.locator("#notification-count")
    expect(badge).to_have_text("1")
    methods = []
    page.on(
        "request", lambda r: methods.append((r.method, r.url)) if "notifications" in r.url else None
    )
    page.locator("[data-testid=notifications] summary").click()
    expect(page.locator("#notification-panel")).to_contain_text("Priya mentioned you")
    expect(badge).to_have_text("0")
    assert [m for m, url in methods if url.endswith("/notifications/menu/")] == ["GET"]
    assert [m for m, url in methods if url.endswith("/notifications/read/")] == ["POST"]
    assert Notification.objects.get().read_at is not None
    page.screenshot(path=screenshot_dir / "notifications-menu.png")
    assert page.console_errors == []


def test_a_failed_invitation_is_shown_and_resent_from_members(
    page, cast, mailoutbox, screenshot_dir
):
    invitation = Invitation.objects.create(
        workspace=cast.workspace,
        email="late@example.com",
        role=Role.PM,
        token_hash="h" * 64,
        invited_by=cast.admin,
        email_status=EmailStatus.FAILED,
        email_error="The mail server refused the connection (check EMAIL_HOST and EMAIL_PORT).",
    )
    sign_in(page, "admin", PASSWORD)
    page.goto(f"/w/{cast.workspace.slug}/members/")
    item = page.locator(f"[data-testid=invitation-{invitation.pk}]")
    expect(item.locator("[data-testid=email-status]")).to_have_text("e-mail failed")
    expect(item).to_contain_text("refused the connection")
    page.screenshot(path=screenshot_dir / "members-invitation-failed.png", full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Resend").click()
    expect(page.locator(".toast").last).to_contain_text("late@example.com")
    item = page.locator(f"[data-testid=invitation-{invitation.pk}]")
    expect(item.locator("[data-testid=email-status]")).to_have_text(
        re.compile(r"e-mail (queued|sent)")
    )
    page.screenshot(path=screenshot_dir / "members-invitation-resent.png", full_page=True)
    assert page.console_errors == []
