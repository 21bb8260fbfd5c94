"""Invitations (e-mailed, one-time, expiring, revocable) and membership roles, including the rule
that a workspace always keeps an admin."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from pm import services
from pm.choices import Role
from pm.models import ActivityLog, Invitation, Membership
from tests.factories import MembershipFactory, UserFactory
from tests.pm.helpers import HX, field_errors, text_of


@pytest.fixture
def invite(cast, mailoutbox, django_capture_on_commit_callbacks, settings):
    """Invite through the members page as the admin; returns (invitation, token, response)."""
    settings.SITE_URL = "https://pm.example"

    def _invite(email="new.person@example.com", role=Role.PM):
        with django_capture_on_commit_callbacks(execute=True):
            response = cast.client("admin").post(
                reverse("invitation_create", args=[cast.workspace.slug]),
                {"email": email, "role": role},
                headers=HX,
            )
        invitation = Invitation.objects.filter(email=email.lower()).first()
        tokens = re.findall(r"/invite/([\w-]+)/", mailoutbox[-1].body) if mailoutbox else []
        return invitation, (tokens[0] if tokens else None), response

    return _invite


def _accept_url(token):
    return reverse("invitation_accept", args=[token])


def _sign_up(client, token, username="newbie"):
    return client.post(
        _accept_url(token),
        {
            "username": username,
            "first_name": "Nia",
            "last_name": "Newman",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
        },
    )


def test_admin_invites_someone_and_an_email_with_the_link_is_sent(cast, invite, mailoutbox):
    invitation, token, response = invite(email="New.Person@Example.com")

    assert response.status_code == 200
    # The e-mail leaves after the commit: the toast says queued, never "sent" before it is.
    assert "Invitation for new.person@example.com queued for e-mailing" in response["HX-Trigger"]
    assert "new.person@example.com" in text_of(response.content)  # listed as pending
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["new.person@example.com"]
    assert message.subject == "You're invited to Acme on Lodestar"
    assert f"https://pm.example/invite/{token}/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f"https://pm.example/invite/{token}/" in html
    assert invitation.role == Role.PM and invitation.invited_by == cast.admin
    assert invitation.token_hash == Invitation.hash_token(token)  # the token itself is not stored


def test_the_email_is_only_sent_once_the_invitation_is_committed(cast, mailoutbox):
    # Without the on-commit callbacks running, nothing is sent yet.
    services.invitation_create(
        workspace=cast.workspace, email="later@example.com", role=Role.PM, actor=cast.admin
    )
    assert mailoutbox == []


def test_inviting_an_existing_member_is_refused_beside_the_email(cast, invite, mailoutbox):
    _invitation, _token, response = invite(email=cast.pm.email.upper())
    assert field_errors(response.content, "email") == [
        "Someone with this e-mail is already a member."
    ]
    assert mailoutbox == []


def test_a_new_user_accepts_and_joins_with_the_invited_role(cast, invite, client):
    invitation, token, _ = invite(role=Role.ENGINEER)
    page = client.get(_accept_url(token))
    assert page.status_code == 200
    assert "Join Acme" in text_of(page.content)

    response = _sign_up(client, token)

    assert response.status_code == 302
    assert response["Location"] == reverse("workspace_detail", args=["acme"])
    user = User.objects.get(username="newbie")
    assert user.email == "new.person@example.com"
    assert Membership.objects.get(user=user, workspace=cast.workspace).role == Role.ENGINEER
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.state == "accepted"
    # Signed in straight away.
    assert client.get(reverse("workspace_detail", args=["acme"])).status_code == 200
    assert ActivityLog.objects.filter(object_type="pm.membership", action="created").exists()


def test_a_signed_in_user_accepts_with_one_click(cast, invite):
    _invitation, token, _ = invite(email="someone@example.com", role=Role.STAKEHOLDER)
    someone = UserFactory(username="someone")
    client = cast.client("pm").__class__()
    client.force_login(someone)
    response = client.post(_accept_url(token))
    assert response.status_code == 302
    assert Membership.objects.get(user=someone, workspace=cast.workspace).role == Role.STAKEHOLDER


def test_an_invitation_token_works_once(cast, invite, client):
    _invitation, token, _ = invite()
    assert _sign_up(client, token).status_code == 302

    second = cast.client("anonymous")
    assert second.get(_accept_url(token)).status_code == 410
    response = _sign_up(second, token, username="intruder")
    assert response.status_code == 410
    assert "can't be used" in text_of(response.content)
    assert not User.objects.filter(username="intruder").exists()


def test_an_expired_invitation_cannot_be_used(cast, invite, client):
    invitation, token, _ = invite()
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    page = client.get(_accept_url(token))
    assert page.status_code == 410
    assert "It has expired." in text_of(page.content)
    assert _sign_up(client, token).status_code == 410
    assert not User.objects.filter(username="newbie").exists()
    with pytest.raises(ValidationError):
        services.invitation_accept(invitation=invitation, user=cast.outsider)
    assert not Membership.objects.filter(user=cast.outsider, workspace=cast.workspace).exists()


def test_a_revoked_invitation_cannot_be_used(cast, invite, client):
    invitation, token, _ = invite()
    response = cast.client("admin").post(
        reverse("invitation_revoke", args=[cast.workspace.slug, invitation.pk]), headers=HX
    )
    assert response.status_code == 200
    assert "revoked" in response["HX-Trigger"]
    assert "new.person@example.com" not in text_of(response.content)  # no longer pending
    assert client.get(_accept_url(token)).status_code == 410
    assert _sign_up(client, token).status_code == 410
    assert not User.objects.filter(username="newbie").exists()


def test_a_new_invitation_replaces_the_pending_one(cast, invite):
    _first, first_token, _ = invite()
    _second, second_token, _ = invite(role=Role.STAKEHOLDER)
    anonymous = cast.client("anonymous")
    assert anonymous.get(_accept_url(first_token)).status_code == 410
    assert anonymous.get(_accept_url(second_token)).status_code == 200


def test_an_unknown_token_is_404(db, client):
    assert client.get(_accept_url("not-a-token")).status_code == 404


# --- roles --------------------------------------------------------------------------------


def _set_role(client, cast, membership, role):
    return client.post(
        reverse("membership_role", args=[cast.workspace.slug, membership.pk]),
        {"role": role},
        headers=HX,
    )


def _membership(cast, role):
    return Membership.objects.get(workspace=cast.workspace, user=cast.user(role))


def test_admin_changes_a_members_role_and_it_is_logged(cast):
    membership = _membership(cast, "engineer")
    response = _set_role(cast.client("admin"), cast, membership, Role.PM)
    assert response.status_code == 200
    assert "engineer is now pm" in response["HX-Trigger"]
    membership.refresh_from_db()
    assert membership.role == Role.PM
    entry = ActivityLog.objects.get(object_type="pm.membership", action="updated")
    assert entry.changes == {"role": ["engineer", "pm"]} and entry.actor == cast.admin
    # The new role takes effect at once.
    url = reverse("strategy_item_new", args=[cast.product.key, "themes"])
    assert cast.client("engineer").get(url, headers=HX).status_code == 200


def test_an_invalid_role_is_refused(cast):
    membership = _membership(cast, "engineer")
    response = _set_role(cast.client("admin"), cast, membership, "owner")
    assert "Choose a valid role." in response["HX-Trigger"]
    membership.refresh_from_db()
    assert membership.role == Role.ENGINEER


def test_the_last_admin_cannot_be_demoted(cast):
    admin = _membership(cast, "admin")
    response = _set_role(cast.client("admin"), cast, admin, Role.PM)
    assert response.status_code == 200
    assert "A workspace needs at least one admin." in response["HX-Trigger"]
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN
    with pytest.raises(ValidationError):
        services.membership_set_role(membership=admin, role=Role.STAKEHOLDER, actor=cast.admin)


def test_the_last_admin_cannot_be_removed(cast):
    admin = _membership(cast, "admin")
    other_admin_client = cast.client("admin")
    response = other_admin_client.post(
        reverse("membership_remove", args=[cast.workspace.slug, admin.pk]), headers=HX
    )
    assert "A workspace needs at least one admin." in response["HX-Trigger"]
    assert Membership.objects.filter(pk=admin.pk).exists()


def test_an_admin_can_step_down_when_another_admin_remains(cast):
    second = MembershipFactory(workspace=cast.workspace, role=Role.ADMIN)
    admin = _membership(cast, "admin")
    _set_role(cast.client("admin"), cast, admin, Role.PM)
    admin.refresh_from_db()
    assert admin.role == Role.PM
    # ... and now `second` is the last admin.
    with pytest.raises(ValidationError):
        services.membership_remove(membership=second, actor=second.user)


def test_admin_removes_a_member_who_then_gets_404(cast):
    membership = _membership(cast, "engineer")
    response = cast.client("admin").post(
        reverse("membership_remove", args=[cast.workspace.slug, membership.pk]), headers=HX
    )
    assert "engineer was removed" in response["HX-Trigger"]
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert ActivityLog.objects.filter(object_type="pm.membership", action="deleted").exists()
    engineer = cast.client("engineer")
    assert engineer.get(reverse("product_overview", args=[cast.product.key])).status_code == 404


def test_members_of_another_workspace_cannot_be_changed_from_this_one(cast):
    foreign = MembershipFactory(role=Role.PM)  # in another workspace
    response = _set_role(cast.client("admin"), cast, foreign, Role.STAKEHOLDER)
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == Role.PM


def test_members_page_lists_people_and_roles(cast):
    response = cast.client("admin").get(reverse("members", args=[cast.workspace.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    for role in ("admin", "pm", "engineer", "stakeholder"):
        assert f'data-testid="member-{role}"' in html
    assert "outsider" not in html
    assert "No pending invitations." in text_of(html)


def test_revoking_an_accepted_invitation_changes_and_logs_nothing(cast, invite, client):
    invitation, token, _ = invite()
    _sign_up(client, token)
    logged = ActivityLog.objects.count()

    response = cast.client("admin").post(
        reverse("invitation_revoke", args=[cast.workspace.slug, invitation.pk]), headers=HX
    )

    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.state == "accepted" and invitation.revoked_at is None
    assert ActivityLog.objects.count() == logged  # no "pending → revoked" that never happened
    assert "revoked" not in response["HX-Trigger"]


def test_no_account_is_left_behind_when_the_invitation_is_used_up_meanwhile(cast, invite, client):
    from django.db.models.signals import post_save

    invitation, token, _ = invite()

    def used_up_meanwhile(sender, instance, created, **kwargs):
        # Someone else accepts the same link between our check and our claim.
        if created and instance.username == "newbie":
            Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())

    post_save.connect(used_up_meanwhile, sender=User)
    try:
        response = _sign_up(client, token)
    finally:
        post_save.disconnect(used_up_meanwhile, sender=User)

    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert not User.objects.filter(username="newbie").exists()
    assert not Membership.objects.filter(user__username="newbie").exists()
