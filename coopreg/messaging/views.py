"""The treasurer's page of messages (what was sent, what failed and why), the admin's
templates with a preview, and a member's consent to be contacted."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _

from coopreg.auth.access import EDITORS, roles_required
from coopreg.auth.models import Role
from coopreg.core.languages import LANGUAGE_NAMES, LANGUAGES
from coopreg.core.sorting import Sorts, count_rows
from coopreg.core.tenancy import current_cooperative, get_scoped_or_404, scoped
from coopreg.core.unit_of_work import form_page
from coopreg.extensions import db
from coopreg.members.models import Member
from coopreg.messaging import services
from coopreg.messaging.forms import (
    CHANNEL_LABELS,
    EVENT_LABELS,
    STATUS_LABELS,
    ContactForm,
    TemplateForm,
)
from coopreg.messaging.models import MessageEvent, MessageStatus, OutboxMessage
from coopreg.messaging.texts import PLACEHOLDERS, SAMPLE, fill

bp = Blueprint("messaging", __name__)
OFFICE = (Role.ADMIN, Role.SECRETARY, Role.TREASURER)
PER_PAGE = 50
OUTBOX_SORTS = Sorts({"created": OutboxMessage.created_at, "status": OutboxMessage.status,
                      "event": OutboxMessage.event, "attempts": OutboxMessage.attempts},
                     default="created", default_descending=True,
                     tiebreak=OutboxMessage.id, descending_first=("created", "attempts"))


@bp.route("/")
@roles_required(*OFFICE)
def outbox():
    """What was sent to members, what failed and why (sortable, filtered by status)."""
    chosen = OUTBOX_SORTS.read(request.args)
    stmt = scoped(OutboxMessage)
    status = request.args.get("status", "")
    if status in {s.value for s in MessageStatus}:
        stmt = stmt.where(OutboxMessage.status == MessageStatus(status))
    else:
        status = ""
    rows, after = OUTBOX_SORTS.page(stmt, chosen, request.args.get("after"), PER_PAGE)
    members = {m.id: m for m in _members({r.member_id for r in rows})}
    return render_template("messaging/outbox.html", messages=rows, members=members,
                           sorted=chosen, after=after, total=count_rows(stmt), status=status,
                           statuses=[s.value for s in MessageStatus],
                           status_labels=STATUS_LABELS, event_labels=EVENT_LABELS,
                           channel_labels=CHANNEL_LABELS, say_error=services.say_error)


def _members(ids: set[int]) -> list[Member]:
    if not ids:
        return []
    return list(db.session.scalars(scoped(Member).where(Member.id.in_(ids))))


@bp.route("/templates")
@roles_required(Role.ADMIN)
def templates():
    cooperative = current_cooperative()
    rows = [(event, language, services.template_of(cooperative.id, event, language))
            for event in MessageEvent for language in LANGUAGES]
    return render_template("messaging/templates.html", rows=rows, event_labels=EVENT_LABELS,
                           language_names=LANGUAGE_NAMES)


@bp.route("/templates/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_template():
    """Edit one message's wording (?event=…&language=…); "Preview" shows it filled with an
    example, unsaved."""
    event, language = request.args.get("event", ""), request.args.get("language", "")
    if event not in {e.value for e in MessageEvent} or language not in LANGUAGES:
        abort(404)
    cooperative = current_cooperative()
    event = MessageEvent(event)
    form = TemplateForm()
    if request.method == "GET":
        form.subject.data, form.body.data = services.wording(cooperative.id, event, language)
    preview = (fill(form.subject.data or "", SAMPLE), fill(form.body.data or "", SAMPLE))
    context = dict(event=event, language=language, preview=preview,
                   placeholders=PLACEHOLDERS[event], event_labels=EVENT_LABELS,
                   language_names=LANGUAGE_NAMES)
    if request.form.get("action") == "preview":
        return render_template("messaging/template_form.html", form=form, **context)
    return form_page(form, lambda: services.save_template(
        cooperative, event, language, form.subject.data, form.body.data),
        done=_("Message saved."), then=url_for("messaging.templates"),
        template="messaging/template_form.html", **context)


@bp.route("/members/<int:member_id>/contact", methods=["GET", "POST"])
@roles_required(*EDITORS)
def member_contact(member_id: int):
    """The member's consent to be contacted, its channel and email address."""
    member = get_scoped_or_404(Member, member_id)
    form = ContactForm(obj=member if request.method == "GET" else None)
    if request.method == "GET" and member.contact_channel:
        form.contact_channel.data = member.contact_channel.value
    return form_page(form, lambda: services.set_contact(
        member, form.contact_consent.data, form.contact_channel.data or None, form.email.data),
        done=_("Contact preferences saved."),
        then=url_for("members.view_member", member_id=member.id),
        template="messaging/contact_form.html", member=member)
