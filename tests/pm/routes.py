"""Role-matrix entries for the core app's routes (see tests/test_role_matrix.py)."""

import secrets

from pm.choices import Role
from pm.models import Invitation
from tests.factories import (
    CompetitorFactory,
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    ThemeFactory,
)
from tests.routing import PUBLIC, SIGNED_IN, Route


def _ws(cast):
    return {"slug": cast.workspace.slug}


def _member(cast):
    return {"slug": cast.workspace.slug, "pk": MembershipFactory(workspace=cast.workspace).pk}


def _invitation(cast):
    inv = Invitation.objects.create(
        workspace=cast.workspace,
        email="x@example.com",
        role=Role.PM,
        token_hash=secrets.token_hex(32),
    )
    return {"slug": cast.workspace.slug, "pk": inv.pk}


def _item(section, factory):
    return lambda cast: {
        "key": cast.product.key,
        "section": section,
        "pk": factory(product=cast.product).pk,
    }


def _kr(cast):
    return {"key": cast.product.key, "pk": KeyResultFactory(objective__product=cast.product).pk}


ROUTES: dict[str, Route] = {
    # pm
    "healthz": Route(PUBLIC, kwargs=lambda c: {}),
    "login": Route(PUBLIC, kwargs=lambda c: {}),
    "logout": Route(PUBLIC, kwargs=lambda c: {}, methods=("post",)),
    "admin_login": Route(PUBLIC, kwargs=lambda c: {}),
    "password_reset": Route(PUBLIC, kwargs=lambda c: {}),
    "password_reset_done": Route(PUBLIC, kwargs=lambda c: {}),
    "password_reset_confirm": Route(PUBLIC, kwargs=lambda c: {"uidb64": "MQ", "token": "x-y"}),
    "password_reset_complete": Route(PUBLIC, kwargs=lambda c: {}),
    "password_change": Route(SIGNED_IN, kwargs=lambda c: {}, methods=("get", "post")),
    "two_factor_verify": Route(PUBLIC, kwargs=lambda c: {}),
    "sso_start": Route(PUBLIC, kwargs=lambda c: {}),
    "sso_callback": Route(PUBLIC, kwargs=lambda c: {}),
    "two_factor": Route(SIGNED_IN, kwargs=lambda c: {}),
    "two_factor_setup": Route(SIGNED_IN, kwargs=lambda c: {}, methods=("get", "post")),
    "two_factor_recovery": Route(SIGNED_IN, kwargs=lambda c: {}, methods=("post",)),
    "two_factor_disable": Route(SIGNED_IN, kwargs=lambda c: {}, methods=("post",)),
    "workspace_sign_in": Route(Role.ADMIN, kwargs=_ws, methods=("post",)),
    "invitation_accept": Route(PUBLIC, kwargs=lambda c: {"token": "nope"}),
    "home": Route(SIGNED_IN, kwargs=lambda c: {}),
    "workspace_detail": Route(Role.STAKEHOLDER, kwargs=_ws),
    "workspace_switch": Route(Role.STAKEHOLDER, kwargs=_ws, methods=("post",)),
    "members": Route(Role.ADMIN, kwargs=_ws),
    "membership_role": Route(Role.ADMIN, kwargs=_member, methods=("post",)),
    "membership_remove": Route(Role.ADMIN, kwargs=_member, methods=("post",)),
    "invitation_create": Route(Role.ADMIN, kwargs=_ws, methods=("post",)),
    "workspace_sections": Route(Role.ADMIN, kwargs=_ws, methods=("post",)),
    "invitation_revoke": Route(Role.ADMIN, kwargs=_invitation, methods=("post",)),
    "invitation_resend": Route(Role.ADMIN, kwargs=_invitation, methods=("post",)),
    "product_create": Route(Role.PM, kwargs=_ws, methods=("get", "post")),
    "product_overview": Route(Role.STAKEHOLDER),
    "product_history": Route(Role.STAKEHOLDER),
    "strategy": Route(Role.STAKEHOLDER),
    "vision_show": Route(Role.STAKEHOLDER),
    "vision_edit": Route(Role.PM, methods=("get", "post")),
    "strategy_section": Route(
        Role.STAKEHOLDER, kwargs=lambda c: {"key": c.product.key, "section": "themes"}
    ),
    "strategy_item_new": Route(
        Role.PM,
        kwargs=lambda c: {"key": c.product.key, "section": "personas"},
        methods=("get", "post"),
    ),
    "strategy_item_edit": Route(
        Role.PM, kwargs=_item("competitors", CompetitorFactory), methods=("get", "post")
    ),
    "strategy_item_delete": Route(Role.PM, kwargs=_item("themes", ThemeFactory), methods=("post",)),
    "key_result_new": Route(
        Role.PM,
        kwargs=lambda c: {
            "key": c.product.key,
            "objective_pk": ObjectiveFactory(product=c.product).pk,
        },
        methods=("get", "post"),
    ),
    "key_result_edit": Route(Role.PM, kwargs=_kr, methods=("get", "post")),
    "key_result_delete": Route(Role.PM, kwargs=_kr, methods=("post",)),
}
