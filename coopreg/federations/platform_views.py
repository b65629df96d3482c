"""The platform admin's pages (`User.platform_admin`): the installation's federations — create
one, add cooperatives to it, grant and revoke its roles — and the institutions' desk accounts —
create one, disable or enable it. Thin views over `coopreg.federations.services` and `desk`,
the same services as `coopreg federations …`."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopreg.auth.forms import EmptyForm
from coopreg.core.confirm import confirm_first
from coopreg.core.unit_of_work import button_post
from coopreg.extensions import db
from coopreg.federations import desk, services
from coopreg.federations.access import platform_admin_required
from coopreg.federations.forms import (
    AddCooperativeForm,
    FederationForm,
    GrantRoleForm,
    PlatformDeskAccountForm,
)
from coopreg.federations.models import (
    FEDERATION_ROLE_LABELS,
    Federation,
    FederationMembership,
)
from coopreg.federations.views import DISABLE_DESK, REVOKE_ROLE, _add

bp = Blueprint("platform", __name__)


def _desk_form() -> PlatformDeskAccountForm:
    form = PlatformDeskAccountForm()
    form.federation_id.choices = [(0, _("Every cooperative of the installation"))] + [
        (federation.id, f"{federation.code} — {federation.name}")
        for federation, _coops, _people in services.federations_overview()]
    return form


def _federation(federation_id: int) -> Federation:
    federation = db.session.get(Federation, federation_id)
    if federation is None:
        abort(404)
    return federation


def _membership(federation_membership_id: int) -> FederationMembership:
    membership = db.session.get(FederationMembership, federation_membership_id)
    if membership is None:
        abort(404)
    return membership


def _account(desk_account_id: int):
    account = desk.account_in(None, desk_account_id)
    if account is None:
        abort(404)
    return account


@bp.route("/")
@platform_admin_required
def home():
    return render_template("federations/platform.html",
                           federations=services.federations_overview(),
                           form=FederationForm(), desk_form=_desk_form(),
                           desk_accounts=desk.all_accounts(), empty_form=EmptyForm())


@bp.route("/federations", methods=["POST"])
@platform_admin_required
def create_federation():
    form = FederationForm()
    return button_post(form, lambda: services.create_federation(form.code.data, form.name.data),
                       back=url_for("platform.home"),
                       invalid=_("Give the federation's code and name."),
                       done=lambda f: _("Federation %(code)s created.", code=f.code),
                       then=lambda f: url_for("platform.federation", federation_id=f.id))


@bp.route("/federations/<int:federation_id>")
@platform_admin_required
def federation(federation_id: int):
    federation = _federation(federation_id)
    return render_template("federations/platform_federation.html", federation=federation,
                           places=services.cooperatives_of(federation),
                           memberships=services.memberships_of(federation),
                           desk_accounts=desk.accounts_of(federation),
                           form=AddCooperativeForm(), role_form=GrantRoleForm(),
                           empty_form=EmptyForm(), role_labels=FEDERATION_ROLE_LABELS)


@bp.route("/federations/<int:federation_id>/cooperatives", methods=["POST"])
@platform_admin_required
def add_cooperative(federation_id: int):
    federation = _federation(federation_id)
    form = AddCooperativeForm()
    return button_post(form, lambda: _add(federation, form.cooperative.data),
                       back=url_for("platform.federation", federation_id=federation.id),
                       invalid=_("Give the code of a cooperative."),
                       done=lambda place: _("%(name)s joined the federation.",
                                            name=place.cooperative.name))


@bp.route("/federations/<int:federation_id>/roles", methods=["POST"])
@platform_admin_required
def grant_role(federation_id: int):
    federation = _federation(federation_id)
    form = GrantRoleForm()
    return button_post(form, lambda: services.grant_federation_role_to(
        form.email.data, form.name.data, form.password.data, federation, form.role.data),
        back=url_for("platform.federation", federation_id=federation.id),
        invalid=_("Give the email and the role."),
        done=lambda membership: _("%(email)s: %(role)s.", email=membership.user.email,
                                  role=FEDERATION_ROLE_LABELS[membership.role]))


@bp.route("/roles/<int:federation_membership_id>/revoke", methods=["POST"])
@platform_admin_required
@confirm_first(_membership, REVOKE_ROLE, action=_l("Remove the role"))
def revoke_role(federation_membership_id: int):
    membership = _membership(federation_membership_id)
    email, back = membership.user.email, url_for("platform.federation",
                                                 federation_id=membership.federation_id)
    return button_post(EmptyForm(), lambda: services.revoke_federation_role(membership),
                       back=back, done=_("%(email)s no longer holds a role in the federation.",
                                         email=email))


@bp.route("/desk-accounts", methods=["POST"])
@platform_admin_required
def add_desk_account():
    """A desk account for an institution, within one federation's cooperatives or all."""
    form = _desk_form()

    def create():
        federation = _federation(form.federation_id.data) if form.federation_id.data else None
        return desk.create_account_for(form.email.data, form.name.data, form.password.data,
                                       form.institution.data, federation)

    return button_post(form, create, back=url_for("platform.home"),
                       invalid=_("Give the email, the name, the institution's code and a "
                                 "first password."),
                       done=lambda account: _("%(email)s can now use the desk of %(code)s.",
                                              email=account.user.email,
                                              code=account.institution_code))


@bp.route("/desk-accounts/<int:desk_account_id>/disable", methods=["POST"])
@platform_admin_required
@confirm_first(_account, DISABLE_DESK, action=_l("Disable the account"))
def disable_desk_account(desk_account_id: int):
    account = _account(desk_account_id)
    return button_post(EmptyForm(), lambda: desk.set_account_active(account, False),
                       back=url_for("platform.home"),
                       done=lambda a: _("%(email)s is disabled.", email=a.user.email))


@bp.route("/desk-accounts/<int:desk_account_id>/enable", methods=["POST"])
@platform_admin_required
def enable_desk_account(desk_account_id: int):
    account = _account(desk_account_id)
    return button_post(EmptyForm(), lambda: desk.set_account_active(account, True),
                       back=url_for("platform.home"),
                       done=lambda a: _("%(email)s can use the desk again.", email=a.user.email))
