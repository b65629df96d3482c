"""The admin's pages: settings, documents checklist, users and roles, audit log."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from coopreg.auth import invitations
from coopreg.auth import services as auth_services
from coopreg.auth.access import roles_required
from coopreg.auth.forms import ROLE_LABELS, EmptyForm, InviteForm, RoleForm
from coopreg.auth.models import Invitation, Membership, Role, User
from coopreg.cooperatives import services
from coopreg.cooperatives.forms import DocumentTypeForm, SettingsForm
from coopreg.cooperatives.models import DocumentType
from coopreg.core.audit import AuditEvent
from coopreg.core.confirm import confirm_first
from coopreg.core.sorting import Sorts
from coopreg.core.tenancy import current_cooperative, db_id, get_scoped_or_404, scoped
from coopreg.core.unit_of_work import attempt, button_post
from coopreg.extensions import db

bp = Blueprint("admin", __name__)
# a cooperative's few people: any order is a sort of a few rows
USER_SORTS = Sorts({"role": Membership.role, "name": User.name, "email": User.email},
                   default="role", tiebreak=Membership.id)
AUDIT_PAGE = 100
# the log only grows: one order offered, by when (the id, which follows the time: the primary
# key's index, both ways); who and which record would sort the whole log of a cooperative
AUDIT_SORTS = Sorts({"when": AuditEvent.id}, default="when", default_descending=True,
                    tiebreak=AuditEvent.id, descending_first=("when",))


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def settings():
    cooperative = current_cooperative()
    form = SettingsForm(obj=cooperative)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            services.update_settings(cooperative, form.name.data, form.locale.data,
                                     form.id_label.data, form.id_pattern.data,
                                     form.contact.data, form.founded_on.data,
                                     tax_number=form.tax_number.data)
        if outcome.ok:
            flash(_("Settings saved."), "success")
            return redirect(url_for("admin.settings"))
    return render_template("cooperatives/settings.html", form=form, cooperative=cooperative)


@bp.route("/documents", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def documents():
    cooperative = current_cooperative()
    form = DocumentTypeForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            services.add_document_type(cooperative, form.name.data)
        if outcome.ok:
            flash(_("Document added to the checklist."), "success")
            return redirect(url_for("admin.documents"))
    types = db.session.scalars(scoped(DocumentType).order_by(DocumentType.position,
                                                             DocumentType.id)).all()
    return render_template("cooperatives/documents.html", form=form, types=types,
                           empty_form=EmptyForm())


@bp.route("/documents/<int:type_id>/toggle", methods=["POST"])
@roles_required(Role.ADMIN)
def toggle_document(type_id: int):
    document_type = get_scoped_or_404(DocumentType, type_id)
    if EmptyForm().validate_on_submit():
        services.set_document_type_active(document_type, not document_type.active)
    return redirect(url_for("admin.documents"))


@bp.route("/users", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def users():
    """The people of this cooperative and the invitations waiting for an answer. Inviting
    answers the same for every email (no account is looked up for the admin to see)."""
    cooperative = current_cooperative()
    form = InviteForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            invitation, token = invitations.invite(cooperative, form.email.data,
                                                   form.name.data, form.role.data,
                                                   current_user)
        if outcome.ok:
            flash(_("Invitation recorded: %(email)s, as %(role)s. Give the person this link, "
                    "open for %(days)d days: %(link)s — someone who already has an account "
                    "also finds the invitation after logging in.", email=invitation.email,
                    role=ROLE_LABELS[invitation.role.value], days=current_app.config[
                        "INVITATION_DAYS"],
                    link=url_for("auth.join", token=token, _external=True)), "success")
            return redirect(url_for("admin.users"))
    chosen = USER_SORTS.read(request.args)
    memberships = db.session.scalars(USER_SORTS.apply(scoped(Membership).join(Membership.user),
                                                      chosen)).all()
    role_forms = {m.id: RoleForm(role=m.role.value, prefix=f"m{m.id}") for m in memberships}
    waiting = invitations.open_invitations_of(current_cooperative().id)
    return render_template("cooperatives/users.html", form=form, memberships=memberships,
                           sorted=chosen,
                           role_forms=role_forms, empty_form=EmptyForm(), waiting=waiting,
                           role_labels=ROLE_LABELS)


@bp.route("/users/invitations/<int:invitation_id>/cancel", methods=["POST"])
@roles_required(Role.ADMIN)
def cancel_invitation(invitation_id: int):
    invitation = get_scoped_or_404(Invitation, invitation_id)
    return button_post(EmptyForm(), lambda: invitations.cancel(invitation),
                       back=url_for("admin.users"), done=_("Invitation cancelled."))


@bp.route("/users/<int:membership_id>/role", methods=["POST"])
@roles_required(Role.ADMIN)
def change_role(membership_id: int):
    membership = get_scoped_or_404(Membership, membership_id)
    form = RoleForm(prefix=f"m{membership.id}")
    return button_post(
        form, lambda: auth_services.grant_role(membership.user, current_cooperative(),
                                               form.role.data),
        back=url_for("admin.users"), done=_("Role changed."),
        invalid=_("Choose one of the roles."))


@bp.route("/users/<int:membership_id>/remove", methods=["POST"])
@roles_required(Role.ADMIN)
@confirm_first(Membership, _l(
    "This person loses access to the cooperative at once; giving it back means inviting "
    "them again."),
    action=_l("Remove access"))
def remove_user(membership_id: int):
    membership = get_scoped_or_404(Membership, membership_id)
    if membership.user_id == current_user.id:
        flash(_("You cannot remove yourself; ask another admin."), "error")
        return redirect(url_for("admin.users"))
    return button_post(EmptyForm(), lambda: auth_services.revoke_role(membership),
                       back=url_for("admin.users"), done=_("Access removed."))


@bp.route("/audit")
@roles_required(Role.ADMIN)
def audit():
    """The audit log of this cooperative, newest first; filter by record."""
    cooperative = current_cooperative()
    stmt = select(AuditEvent).where(AuditEvent.cooperative_id == cooperative.id)
    entity = request.args.get("entity", "")
    entity_id = request.args.get("entity_id", type=db_id)
    if entity:
        stmt = stmt.where(AuditEvent.entity == entity)
    if entity_id:
        if not entity:
            abort(404)
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    chosen = AUDIT_SORTS.read(request.args)
    events, after = AUDIT_SORTS.page(stmt, chosen, request.args.get("after"), AUDIT_PAGE)
    return render_template("cooperatives/audit.html", events=events, entity=entity,
                           entity_id=entity_id, sorted=chosen, after=after)
