"""Role-matrix entries for the core app's routes (see tests/test_role_matrix.py)."""

import secrets

from pm.choices import Role
from pm.models import Invitation
from tests.factories import (
    CompetitorFactory,
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    PersonaFactory,
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


def _journey(cast):
    from pm import journeys

    persona = PersonaFactory(product=cast.product)
    journey = journeys.journey_create(
        product=cast.product, persona_id=persona.pk, name="Buy", actor=cast.pm
    )
    stage = journeys.stage_add(journey=journey, name="Evaluate", actor=cast.pm)
    journeys.stage_add(journey=journey, name="Sign up", actor=cast.pm)
    opportunity = journeys.opportunity_add(stage=stage, text="Free trial", actor=cast.pm)
    return {
        "key": cast.product.key,
        "pk": journey.pk,
        "stage": stage.pk,
        "item": opportunity.pk,
    }


def _journey_only(cast):
    return {k: v for k, v in _journey(cast).items() if k in ("key", "pk")}


def _journey_stage(cast):
    return {k: v for k, v in _journey(cast).items() if k in ("key", "pk", "stage")}


def _journey_item(cast):
    return {k: v for k, v in _journey(cast).items() if k in ("key", "pk", "item")}


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
    # The whole workspace out and in (pm.workspace_io): admins only.
    "workspace_export": Route(Role.ADMIN, kwargs=_ws),
    "workspace_import": Route(Role.ADMIN, kwargs=_ws, methods=("get", "post")),
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
            "objective_pk": ObjectiveFactory.create(product=c.product).pk,
        },
        methods=("get", "post"),
    ),
    "key_result_edit": Route(Role.PM, kwargs=_kr, methods=("get", "post")),
    "key_result_delete": Route(Role.PM, kwargs=_kr, methods=("post",)),
    # user journeys: everyone who reads strategy reads them; product managers write
    "journey_list": Route(Role.STAKEHOLDER),
    "journey_detail": Route(Role.STAKEHOLDER, kwargs=_journey_only),
    "journey_edit": Route(Role.PM, kwargs=_journey_only, methods=("get", "post")),
    "journey_delete": Route(Role.PM, kwargs=_journey_only, methods=("post",)),
    "journey_stage_add": Route(Role.PM, kwargs=_journey_only, methods=("post",)),
    "journey_stage_edit": Route(Role.PM, kwargs=_journey_stage, methods=("get", "post")),
    "journey_stage_move": Route(Role.PM, kwargs=_journey_stage, methods=("post",)),
    "journey_stage_delete": Route(Role.PM, kwargs=_journey_stage, methods=("post",)),
    "journey_opportunity_add": Route(Role.PM, kwargs=_journey_stage, methods=("post",)),
    "journey_opportunity_delete": Route(Role.PM, kwargs=_journey_item, methods=("post",)),
    "api-journey-list": Route(SIGNED_IN, kwargs=lambda c: {}, htmx=False),
    "api-journey-detail": Route(
        Role.STAKEHOLDER, kwargs=lambda c: {"pk": _journey(c)["pk"]}, htmx=False
    ),
}
