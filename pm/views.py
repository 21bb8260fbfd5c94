"""Core pages: home and workspaces, members and invitations, product overview, strategy, history."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from pm import selectors, services, visibility
from pm.choices import EmailStatus, Role
from pm.forms import (
    CompetitorForm,
    InvitationForm,
    KeyResultForm,
    ObjectiveForm,
    PersonaForm,
    ProductCreateForm,
    ProductForm,
    RoleForm,
    SignInSettingsForm,
    SignUpForm,
    ThemeForm,
    VersionedForm,
    WorkspaceForm,
)
from pm.htmx import is_partial, render_fragment, render_page, replace, toast
from pm.http import AuthedHttpRequest
from pm.mail import email_configured
from pm.models import (
    Competitor,
    KeyResult,
    Membership,
    Objective,
    Persona,
    StrategicTheme,
)
from pm.permissions import get_product_for_user, get_workspace_for_user
from pm.registry import registry
from pm.sso import sso_enabled
from pm.twofactor import two_factor_user_ids
from pm.views_support import add_service_errors, product_page, remember_workspace, versioned_edit
from pm.views_workspace_io import WorkspaceImportForm
from pm.visibility import viewer_of

# --- home and workspaces ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def home(request: AuthedHttpRequest) -> HttpResponse:
    memberships = list(selectors.workspaces_for_user(request.user))
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workspace = services.workspace_create(
            name=form.cleaned_data["name"],
            time_zone=form.cleaned_data["time_zone"],
            actor=request.user,
        )
        remember_workspace(request, workspace.pk)
        messages.success(request, f"Workspace “{workspace.name}” created. Add its first product.")
        return redirect("product_create", slug=workspace.slug)
    return render_page(request, "pm/home.html", {"memberships": memberships, "form": form})


@login_required
@require_GET
def workspace_detail(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    workspace = get_workspace_for_user(request.user, slug)
    remember_workspace(request, workspace.pk)
    request.lodestar_workspace = workspace
    products = selectors.products_for_workspace(workspace)
    return render_page(request, "pm/workspace.html", {"workspace": workspace, "products": products})


@login_required
@require_POST
def workspace_switch(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    workspace = get_workspace_for_user(request.user, slug)
    remember_workspace(request, workspace.pk)
    return redirect("workspace_detail", slug=workspace.slug)


def _members_context(workspace, invite_form=None, new_link=None, sign_in_form=None) -> dict:
    invitations = list(selectors.pending_invitations(workspace))
    sign_in_form = sign_in_form or SignInSettingsForm(
        initial={
            "require_two_factor": workspace.require_two_factor,
            "sso_email_domains": ", ".join(workspace.sso_email_domains or []),
            "sso_default_role": workspace.sso_default_role,
        }
    )
    shared = set(workspace.stakeholder_sections or [])
    return {
        "stakeholder_sections": [
            (s.value, visibility.SECTION_LABELS[s], s.value in shared)
            for s in visibility.WIDENABLE_SECTIONS
        ],
        "workspace": workspace,
        "members": selectors.members_for_workspace(workspace),
        "invitations": invitations,
        "emails_queued": any(i.email_status == EmailStatus.QUEUED for i in invitations),
        "new_link": new_link,
        "invite_form": invite_form or InvitationForm(),
        "roles": Role.choices,
        "email_configured": email_configured(),
        "import_form": WorkspaceImportForm(),
        "sign_in_form": sign_in_form,
        "sso_enabled": sso_enabled(),
        "two_factor_users": two_factor_user_ids(workspace),
    }


@login_required
@require_GET
def members(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    workspace = get_workspace_for_user(request.user, slug, need=Role.ADMIN)
    request.lodestar_workspace = workspace
    return render_page(request, "pm/members.html", _members_context(workspace))


@login_required
@require_POST
def workspace_sections(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    """The admin's choice of what stakeholders may browse beyond PRODUCT.md's default."""
    workspace = get_workspace_for_user(request.user, slug, need=Role.ADMIN)
    request.lodestar_workspace = workspace
    valid = {s.value for s in visibility.WIDENABLE_SECTIONS}
    chosen = [s for s in request.POST.getlist("sections") if s in valid]
    workspace = services.workspace_set_stakeholder_sections(
        workspace=workspace, sections=chosen, actor=request.user
    )
    message = "Stakeholders now also browse: " + (
        ", ".join(str(visibility.Section(s).value) for s in chosen) if chosen else "nothing more"
    )
    if not is_partial(request):
        messages.success(request, message + ".")
        return redirect("members", slug=workspace.slug)
    response = render_page(
        request, "pm/members.html", _members_context(workspace), partial="members-panel"
    )
    return toast(response, message + ".")


@login_required
@require_POST
def workspace_sign_in(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    """The admin's sign-in rules: two-factor required, single sign-on domains and their role."""
    workspace = get_workspace_for_user(request.user, slug, need=Role.ADMIN)
    request.lodestar_workspace = workspace
    form = SignInSettingsForm(request.POST)
    status = 200
    if form.is_valid():
        workspace = services.workspace_set_sign_in(
            workspace=workspace, actor=request.user, **form.cleaned_data
        )
        message = "Sign-in settings saved."
        if not is_partial(request):
            messages.success(request, message)
            return redirect("members", slug=workspace.slug)
        response = render_page(
            request, "pm/members.html", _members_context(workspace), partial="members-panel"
        )
        return toast(response, message)
    status = 400
    context = _members_context(workspace, sign_in_form=form)
    return render_page(request, "pm/members.html", context, partial="members-panel", status=status)


@login_required
@require_POST
def invitation_create(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    workspace = get_workspace_for_user(request.user, slug, need=Role.ADMIN)
    request.lodestar_workspace = workspace
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation, token = services.invitation_create(
                workspace=workspace,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            context = _members_context(workspace, new_link=_link_if_no_email(invitation, token))
            response = render_page(request, "pm/members.html", context, partial="members-panel")
            return toast(response, *_email_toast(invitation))
    return render_page(
        request, "pm/members.html", _members_context(workspace, form), partial="members-panel"
    )


def _link_if_no_email(invitation, token: str) -> dict | None:
    """Without a mail server the admin gets the link once, to pass on by other means."""
    if email_configured():
        return None
    url = settings.SITE_URL + reverse("invitation_accept", args=[token])
    return {"email": invitation.email, "url": url}


def _email_toast(invitation) -> tuple[str, str]:
    """What to tell the admin about the invitation's e-mail: only "sent" once it was."""
    invitation.refresh_from_db(fields=["email_status", "email_error"])
    if invitation.email_status == EmailStatus.SENT:
        return f"Invitation e-mailed to {invitation.email}.", "success"
    if invitation.email_status == EmailStatus.FAILED:
        return (
            f"The invitation for {invitation.email} was not e-mailed: {invitation.email_error}",
            "error",
        )
    return (
        f"Invitation for {invitation.email} queued for e-mailing; its status shows in the list.",
        "success",
    )


@login_required
@require_POST
def invitation_resend(request: AuthedHttpRequest, slug: str, pk: int) -> HttpResponse:
    workspace = get_workspace_for_user(request.user, slug, need=Role.ADMIN)
    request.lodestar_workspace = workspace
    invitation = get_object_or_404(workspace.invitations, pk=pk)
    new_link = None
    try:
        invitation, token = services.invitation_resend(invitation=invitation, actor=request.user)
    except ValidationError as exc:
        message, level = " ".join(exc.messages), "error"
    else:
        message, level = _email_toast(invitation)
        new_link = _link_if_no_email(invitation, token)
    context = _members_context(workspace, new_link=new_link)
    response = render_page(request, "pm/members.html", context, partial="members-panel")
    return toast(response, message, level)


@login_required
@require_POST
def invitation_revoke(request: AuthedHttpRequest, slug: str, pk: int) -> HttpResponse:
    workspace = get_workspace_for_user(request.user, slug, need=Role.ADMIN)
    request.lodestar_workspace = workspace
    invitation = get_object_or_404(workspace.invitations, pk=pk)
    invitation = services.invitation_revoke(invitation=invitation, actor=request.user)
    response = render_page(
        request, "pm/members.html", _members_context(workspace), partial="members-panel"
    )
    if invitation.state != "revoked":
        return toast(
            response,
            f"The invitation for {invitation.email} was already {invitation.state}.",
            "error",
        )
    return toast(response, f"Invitation for {invitation.email} revoked.")


@login_required
@require_POST
def membership_role(request: AuthedHttpRequest, slug: str, pk: int) -> HttpResponse:
    workspace = get_workspace_for_user(request.user, slug, need=Role.ADMIN)
    request.lodestar_workspace = workspace
    membership = get_object_or_404(
        Membership.objects.select_related("user"), workspace=workspace, pk=pk
    )
    form = RoleForm(request.POST)
    message, level = "", "success"
    if form.is_valid():
        try:
            services.membership_set_role(
                membership=membership, role=form.cleaned_data["role"], actor=request.user
            )
            message = f"{membership.user.username} is now {form.cleaned_data['role']}."
        except ValidationError as exc:
            message, level = " ".join(exc.messages), "error"
    else:
        message, level = "Choose a valid role.", "error"
    response = render_page(
        request, "pm/members.html", _members_context(workspace), partial="members-panel"
    )
    return toast(response, message, level)


@login_required
@require_POST
def membership_remove(request: AuthedHttpRequest, slug: str, pk: int) -> HttpResponse:
    workspace = get_workspace_for_user(request.user, slug, need=Role.ADMIN)
    request.lodestar_workspace = workspace
    membership = get_object_or_404(
        Membership.objects.select_related("user"), workspace=workspace, pk=pk
    )
    try:
        services.membership_remove(membership=membership, actor=request.user)
        message, level = f"{membership.user.username} was removed from the workspace.", "success"
    except ValidationError as exc:
        message, level = " ".join(exc.messages), "error"
    response = render_page(
        request, "pm/members.html", _members_context(workspace), partial="members-panel"
    )
    return toast(response, message, level)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Open to anonymous visitors: the token is the credential. Signed-in users join directly;
    others create an account."""
    invitation = services.invitation_by_token(token)
    if invitation is None:
        raise Http404("No such invitation.")
    context: dict[str, Any] = {"invitation": invitation}
    if not invitation.is_pending:
        return render_page(request, "pm/invitation.html", context, status=410)
    if request.user.is_authenticated:
        if request.method == "POST":
            try:
                services.invitation_accept(invitation=invitation, user=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("home")
            messages.success(request, f"Welcome to {invitation.workspace.name}.")
            return redirect("workspace_detail", slug=invitation.workspace.slug)
        return render_page(request, "pm/invitation.html", context)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # One transaction: if the link was used up meanwhile, no orphan account remains.
            with transaction.atomic():
                user = form.save(commit=False)
                user.email = invitation.email
                user.save()
                services.invitation_accept(invitation=invitation, user=user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("login")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {invitation.workspace.name}.")
        return redirect("workspace_detail", slug=invitation.workspace.slug)
    context["form"] = form
    return render_page(request, "pm/invitation.html", context)


# --- products -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    workspace = get_workspace_for_user(request.user, slug, need=Role.PM)
    request.lodestar_workspace = workspace
    form = ProductCreateForm(request.POST or None, workspace=workspace)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(
                workspace=workspace, data=form.model_data(), actor=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{product.name} created. Now set out its strategy.")
            return redirect("strategy", key=product.key)
    return render_page(request, "pm/product_form.html", {"workspace": workspace, "form": form})


@login_required
@require_GET
def product_overview(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    context = product_page(request, product)
    panels = []
    for panel in registry.overview_panels:
        viewer = viewer_of(product)
        if (
            product.membership.allows(panel.need)
            and viewer is not None
            and viewer.browses(panel.section)
        ):
            panel_context = panel.context(request, product)
            if panel_context is not None:
                panels.append((panel.template, panel_context))
    viewer = viewer_of(product)
    activity = list(selectors.activity_for_product(product, viewer=viewer)[:8])
    context.update(
        themes=selectors.themes_for_product(product),
        activity=visibility.history_for(activity, viewer, product, rows_checked=True),
        panels=panels,
    )
    return render_page(request, "pm/overview.html", context)


@login_required
@require_GET
def product_history(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    context = product_page(request, product)
    object_type = request.GET.get("type") or None
    viewer = viewer_of(product)
    page = Paginator(
        selectors.activity_for_product(product, object_type, viewer=viewer), 50
    ).get_page(request.GET.get("page"))
    page.object_list = visibility.history_for(
        list(page.object_list), viewer, product, rows_checked=True
    )
    context.update(
        page=page,
        object_type=object_type,
        type_choices=[
            ("pm.product", "Product"),
            ("pm.strategictheme", "Themes"),
            ("pm.objective", "Objectives"),
            ("pm.keyresult", "Key results"),
            ("pm.persona", "Personas"),
            ("pm.journey", "User journeys"),
            ("pm.journeystage", "Journey stages"),
            ("pm.competitor", "Competitors"),
        ],
    )
    return render_page(request, "pm/history.html", context, partial="history-list")


# --- strategy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One inline-editable list on the Strategy page."""

    slug: str
    model: type
    form: type[VersionedForm]
    noun: str
    title: str


SECTIONS = {
    s.slug: s
    for s in [
        Section("themes", StrategicTheme, ThemeForm, "theme", "Strategic themes"),
        Section("objectives", Objective, ObjectiveForm, "objective", "Objectives and key results"),
        Section("personas", Persona, PersonaForm, "persona", "Personas"),
        Section("competitors", Competitor, CompetitorForm, "competitor", "Competitors"),
    ]
}

_SECTION_ITEMS = {
    "themes": selectors.themes_for_product,
    "objectives": selectors.objectives_for_product,
    "personas": selectors.personas_for_product,
    "competitors": selectors.competitors_for_product,
}


def _section_or_404(section: str) -> Section:
    try:
        return SECTIONS[section]
    except KeyError:
        raise Http404("No such section.") from None


def _render_section(request, product, section: Section, *, changed: bool = False) -> HttpResponse:
    if not is_partial(request):
        return redirect(reverse("strategy", args=[product.key]) + f"#section-{section.slug}")
    context = product_page(request, product)
    context.update(section=section, items=_SECTION_ITEMS[section.slug](product))
    response = render_fragment(request, "pm/strategy.html", "section", context)
    if changed and section.slug == "objectives":
        # Theme cards count their objectives; the themes section listens and refreshes itself.
        trigger_client_event(response, "objectives-changed")
    return replace(response, f"#section-{section.slug}")


def _render_form(request, product, section: Section, form, item=None) -> HttpResponse:
    if not is_partial(request):
        return redirect(reverse("strategy", args=[product.key]) + f"#section-{section.slug}")
    context = product_page(request, product)
    context.update(section=section, form=form, item=item)
    return render_fragment(request, "pm/strategy.html", "item-form", context)


@login_required
@require_GET
def strategy(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    context = product_page(request, product)
    context["sections"] = [
        (section, _SECTION_ITEMS[slug](product)) for slug, section in SECTIONS.items()
    ]
    context["themes"] = selectors.themes_for_product(product)
    return render_page(request, "pm/strategy.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def vision_edit(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    context = product_page(request, product)
    edit = versioned_edit(
        request,
        ProductForm,
        product,
        lambda form, **kw: services.product_update(product=product, **kw),
    )
    if edit.saved:
        if not is_partial(request):
            messages.success(request, "Vision saved.")
            return redirect("strategy", key=product.key)
        edit.saved.membership = context["membership"]
        context["product"] = edit.saved
        response = render_fragment(request, "pm/strategy.html", "vision", context)
        return toast(replace(response, "#vision"), "Vision saved.")
    if not is_partial(request):
        return redirect("strategy", key=product.key)
    context["form"] = edit.form
    return render_fragment(request, "pm/strategy.html", "vision-form", context)


@login_required
@require_GET
def vision_show(request: AuthedHttpRequest, key: str) -> HttpResponse:
    product = get_product_for_user(request.user, key)
    if not is_partial(request):
        return redirect("strategy", key=product.key)
    return render_fragment(request, "pm/strategy.html", "vision", product_page(request, product))


@login_required
@require_http_methods(["GET", "POST"])
def strategy_item_new(request: AuthedHttpRequest, key: str, section: str) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    sec = _section_or_404(section)
    form = sec.form(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        instance = form.save(commit=False)
        instance.product = product
        try:
            services.strategy_item_create(instance=instance, actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            response = _render_section(request, product, sec, changed=True)
            return toast(response, f"{sec.noun.capitalize()} “{instance}” added.")
    return _render_form(request, product, sec, form)


def _item_or_404(product, sec: Section, pk: int):
    return get_object_or_404(sec.model, product=product, pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def strategy_item_edit(request: AuthedHttpRequest, key: str, section: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    sec = _section_or_404(section)
    item = _item_or_404(product, sec, pk)
    edit = versioned_edit(
        request,
        sec.form,
        item,
        lambda form, **kw: services.strategy_item_update(instance=item, **kw),
        product=product,
    )
    if edit.saved:
        response = _render_section(request, product, sec, changed=True)
        return toast(response, f"{sec.noun.capitalize()} “{edit.saved}” saved.")
    return _render_form(request, product, sec, edit.form, item=item)


@login_required
@require_POST
def strategy_item_delete(
    request: AuthedHttpRequest, key: str, section: str, pk: int
) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    sec = _section_or_404(section)
    item = _item_or_404(product, sec, pk)
    name = str(item)
    services.strategy_item_delete(instance=item, actor=request.user)
    return toast(
        _render_section(request, product, sec, changed=True),
        f"{sec.noun.capitalize()} “{name}” deleted.",
    )


@login_required
@require_GET
def strategy_section(request: AuthedHttpRequest, key: str, section: str) -> HttpResponse:
    """The section as it stands: what 'Cancel' on an inline form swaps back in."""
    product = get_product_for_user(request.user, key)
    return _render_section(request, product, _section_or_404(section))


# Key results live inside an objective's card; their writes re-render the objectives section.

OBJECTIVES = SECTIONS["objectives"]


def _render_kr_form(request, product, objective, form, kr=None) -> HttpResponse:
    if not is_partial(request):
        return redirect(reverse("strategy", args=[product.key]) + "#section-objectives")
    context = product_page(request, product)
    context.update(objective=objective, form=form, kr=kr)
    return render_fragment(request, "pm/strategy.html", "kr-form", context)


@login_required
@require_http_methods(["GET", "POST"])
def key_result_new(request: AuthedHttpRequest, key: str, objective_pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    objective = get_object_or_404(Objective, product=product, pk=objective_pk)
    form = KeyResultForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        kr = form.save(commit=False)
        kr.objective = objective
        try:
            services.strategy_item_create(instance=kr, actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return toast(_render_section(request, product, OBJECTIVES), "Key result added.")
    return _render_kr_form(request, product, objective, form)


@login_required
@require_http_methods(["GET", "POST"])
def key_result_edit(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    kr = get_object_or_404(
        KeyResult.objects.select_related("objective"), objective__product=product, pk=pk
    )
    edit = versioned_edit(
        request,
        KeyResultForm,
        kr,
        lambda form, **kw: services.strategy_item_update(instance=kr, **kw),
        product=product,
    )
    if edit.saved:
        return toast(_render_section(request, product, OBJECTIVES), "Key result saved.")
    return _render_kr_form(request, product, kr.objective, edit.form, kr=kr)


@login_required
@require_POST
def key_result_delete(request: AuthedHttpRequest, key: str, pk: int) -> HttpResponse:
    product = get_product_for_user(request.user, key, need=Role.PM)
    kr = get_object_or_404(KeyResult, objective__product=product, pk=pk)
    services.strategy_item_delete(instance=kr, actor=request.user)
    return toast(_render_section(request, product, OBJECTIVES), "Key result deleted.")
