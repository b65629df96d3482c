"""The federation's pages: its cooperatives, the roll-ups (page and printable brief) and the
duplicate report; and the cooperative admin's page for the member-records setting."""

from __future__ import annotations

from contextlib import nullcontext

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from coopreg.auth.access import roles_required
from coopreg.auth.forms import EmptyForm
from coopreg.auth.models import Role
from coopreg.batches.layouts import KIND_LABELS
from coopreg.cooperatives.services import find_cooperative
from coopreg.core.charts import Segment, horizontal_bars, stacked_bars
from coopreg.core.confirm import confirm_first
from coopreg.core.errors import DomainError
from coopreg.core.languages import LANGUAGES
from coopreg.core.templating import render_in_language
from coopreg.core.tenancy import current_cooperative
from coopreg.core.unit_of_work import button_post, form_page
from coopreg.federations import rollups, services
from coopreg.federations.access import (
    FEDERATION_ROLES,
    current_federation,
    federation_roles_required,
)
from coopreg.federations.forms import (
    AddCooperativeForm,
    DeskAccountForm,
    GrantRoleForm,
    SharingForm,
)
from coopreg.federations.models import FEDERATION_ROLE_LABELS, FederationRole

bp = Blueprint("federations", __name__)


@bp.app_context_processor
def _federation_context():
    return {"current_federation": g.get("federation"),
            "is_federation_admin": g.get("federation_role") == FederationRole.ADMIN,
            "catalogue_updates": _catalogue_updates,
            "layout_kind_labels": {kind.value: label for kind, label in KIND_LABELS.items()}}


def _catalogue_updates() -> int:
    """How many of the current cooperative's catalogue copies are behind (asked by the pages
    that show it, not on every page)."""
    from coopreg.federations.catalogue import updates_waiting

    cooperative = g.get("cooperative")
    return updates_waiting(cooperative.id) if cooperative is not None else 0


@bp.route("/")
@federation_roles_required(*FEDERATION_ROLES)
def home():
    federation = current_federation()
    from coopreg.federations.desk import accounts_of

    return render_template("federations/home.html", federation=federation,
                           places=services.cooperatives_of(federation),
                           form=AddCooperativeForm(), desk_form=DeskAccountForm(),
                           desk_accounts=accounts_of(federation),
                           memberships=services.memberships_of(federation),
                           role_form=GrantRoleForm(), empty_form=EmptyForm(),
                           role_labels=FEDERATION_ROLE_LABELS)


@bp.route("/desk-accounts", methods=["POST"])
@federation_roles_required(FederationRole.ADMIN)
def add_desk_account():
    """An account of an institution's desk, seeing the federation's cooperatives' batches,
    for an institution they deal with."""
    from coopreg.federations.desk import create_federation_account

    federation = current_federation()
    form = DeskAccountForm()
    return button_post(form, lambda: create_federation_account(
        form.email.data, form.name.data, form.password.data, form.institution.data,
        federation), back=url_for("federations.home"),
        invalid=_("Give the email, the name, the institution's code and a first password."),
        done=lambda account: _("%(email)s can now use the desk of %(code)s.",
                               email=account.user.email, code=account.institution_code))


DISABLE_DESK = _l("The account is logged out at once and its API tokens stop working; it sees "
                  "no batch until it is enabled again.")
REVOKE_ROLE = _l("The person loses the federation role at once (their account and any "
                 "cooperative role stay); giving it back means granting it again.")


def _own_desk_account(desk_account_id: int):
    """A desk account of the current federation, or 404."""
    from coopreg.federations.desk import account_in

    account = account_in(current_federation(), desk_account_id)
    if account is None:
        abort(404)
    return account


def _own_membership(federation_membership_id: int):
    """A role held in the current federation, or 404."""
    membership = services.membership_in(current_federation(), federation_membership_id)
    if membership is None:
        abort(404)
    return membership


@bp.route("/desk-accounts/<int:desk_account_id>/disable", methods=["POST"])
@federation_roles_required(FederationRole.ADMIN)
@confirm_first(_own_desk_account, DISABLE_DESK, action=_l("Disable the account"))
def disable_desk_account(desk_account_id: int):
    from coopreg.federations.desk import set_account_active

    account = _own_desk_account(desk_account_id)
    return button_post(EmptyForm(), lambda: set_account_active(account, False),
                       back=url_for("federations.home"),
                       done=lambda a: _("%(email)s is disabled.", email=a.user.email))


@bp.route("/desk-accounts/<int:desk_account_id>/enable", methods=["POST"])
@federation_roles_required(FederationRole.ADMIN)
def enable_desk_account(desk_account_id: int):
    from coopreg.federations.desk import set_account_active

    account = _own_desk_account(desk_account_id)
    return button_post(EmptyForm(), lambda: set_account_active(account, True),
                       back=url_for("federations.home"),
                       done=lambda a: _("%(email)s can use the desk again.", email=a.user.email))


@bp.route("/roles", methods=["POST"])
@federation_roles_required(FederationRole.ADMIN)
def grant_role():
    """A role in this federation for a person (an account is made for a newcomer)."""
    federation = current_federation()
    form = GrantRoleForm()
    return button_post(form, lambda: services.grant_federation_role_to(
        form.email.data, form.name.data, form.password.data, federation, form.role.data),
        back=url_for("federations.home"), invalid=_("Give the email and the role."),
        done=lambda membership: _("%(email)s: %(role)s.", email=membership.user.email,
                                  role=FEDERATION_ROLE_LABELS[membership.role]))


@bp.route("/roles/<int:federation_membership_id>/revoke", methods=["POST"])
@federation_roles_required(FederationRole.ADMIN)
@confirm_first(_own_membership, REVOKE_ROLE, action=_l("Remove the role"))
def revoke_role(federation_membership_id: int):
    membership = _own_membership(federation_membership_id)
    if membership.user_id == current_user.id:
        flash(_("You cannot remove your own role; ask another federation admin or a "
                "platform admin."), "error")
        return redirect(url_for("federations.home"))
    email = membership.user.email
    return button_post(EmptyForm(), lambda: services.revoke_federation_role(membership),
                       back=url_for("federations.home"),
                       done=_("%(email)s no longer holds a role in the federation.",
                              email=email))


def _add(federation, code: str):
    cooperative = find_cooperative(code)
    if cooperative is None:
        raise DomainError(_("No cooperative with code %(code)s.", code=code), field="cooperative")
    return services.add_cooperative(federation, cooperative)


@bp.route("/cooperatives", methods=["POST"])
@federation_roles_required(FederationRole.ADMIN)
def add_cooperative():
    federation = current_federation()
    form = AddCooperativeForm()
    return button_post(form, lambda: _add(federation, form.cooperative.data),
                       back=url_for("federations.home"),
                       invalid=_("Give the code of a cooperative."),
                       done=lambda place: _("%(name)s joined the federation.",
                                            name=place.cooperative.name))


def _funnel_labels() -> dict[str, str]:
    return {"not_enrolled": _("Not enrolled"), "pending": _("Pending"), "ready": _("Ready"),
            "submitted": _("Submitted"), "registered": _("Registered"),
            "rejected": _("Rejected")}


def _charts(report: rollups.RollUp) -> dict:
    labels = _funnel_labels()
    funnel = stacked_bars(_("Campaign funnel per cooperative"), [
        (row.code, [Segment(labels[key], row.funnel[key]) for key in rollups.FUNNEL_KEYS])
        for row in report.cooperatives], percent=False) if report.cooperatives else None
    coverage = horizontal_bars(_("Active members covered for at least one branch (%)"), [
        (row.code, round(row.coverage.covered_any * 100 / row.coverage.total_active, 1)
         if row.coverage.total_active else 0) for row in report.cooperatives],
        suffix=" %") if report.cooperatives else None
    collection = horizontal_bars(_("Collection rate: paid of what was due (%)"), [
        (row.code, round(row.collection_rate * 100, 1)) for row in report.cooperatives
        if row.collection_rate is not None], suffix=" %") if report.cooperatives else None
    return {"funnel_chart": funnel, "coverage_chart": coverage,
            "collection_chart": collection, "funnel_labels": labels}


@bp.route("/roll-up")
@federation_roles_required(*FEDERATION_ROLES)
def rollup():
    federation = current_federation()
    report = rollups.roll_up(federation)
    return render_template("federations/rollup.html", federation=federation, report=report,
                           funnel_keys=rollups.FUNNEL_KEYS, **_charts(report))


@bp.route("/roll-up/brief")
@federation_roles_required(*FEDERATION_ROLES)
def brief():
    """The roll-up on one printable page for advocacy, in the reader's language (?lang=)."""
    federation = current_federation()
    chosen = request.args.get("lang", "")
    language = chosen if chosen in LANGUAGES else None
    report = rollups.roll_up(federation)

    # the charts' words too: they are drawn here, in the brief's language
    with force_locale(language) if language else nullcontext():
        values = {"federation": federation, "report": report,
                  "funnel_keys": rollups.FUNNEL_KEYS,
                  "document_language": language or str(get_locale()), **_charts(report)}
    return render_in_language(language, "federations/brief.html", **values)


@bp.route("/duplicates")
@federation_roles_required(*FEDERATION_ROLES)
def duplicates():
    federation = current_federation()
    return render_template("federations/duplicates.html", federation=federation,
                           duplicates=services.duplicates(federation))


@bp.route("/sharing", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def sharing():
    """The cooperative admin's choice: whether its federation may see its members by name."""
    cooperative = current_cooperative()
    place = services.federation_of(cooperative.id)
    form = SharingForm(obj=place)
    return form_page(form, lambda: services.set_member_records_shared(
                         cooperative, form.shares_member_records.data),
                     done=_("Saved."), then=url_for("federations.sharing"),
                     template="federations/sharing.html", place=place)


# the shared catalogue's pages are routes of this blueprint too
from coopreg.federations import catalogue_views  # noqa: E402,F401
