"""Member register pages. Thin: validate the form, call one service, commit, redirect."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from coopreg.auth.access import ALL_ROLES, EDITORS, roles_required
from coopreg.auth.forms import EmptyForm
from coopreg.auth.models import Role
from coopreg.cooperatives.models import DocumentType
from coopreg.core.confirm import confirm_first
from coopreg.core.forms import choices, put_error_on_form
from coopreg.core.kept import kept
from coopreg.core.money import from_minor
from coopreg.core.templating import translated_labels
from coopreg.core.tenancy import current_cooperative, get_scoped_or_404, masked_ids
from coopreg.core.unit_of_work import attempt
from coopreg.extensions import db
from coopreg.members import services
from coopreg.members.divisions import LEVELS, division_name, divisions_of
from coopreg.members.forms import (
    CIVIL_STATUS_LABELS,
    SECTOR_LABELS,
    STATUS_LABELS,
    DependantForm,
    MemberForm,
    StatusForm,
)
from coopreg.members.models import Dependant, Member, MemberStatus
from coopreg.members.national_ids import country_names, id_types_for
from coopreg.members.versions import register_key

bp = Blueprint("members", __name__)




def division_choices(form: MemberForm, country: str) -> None:
    """The province, canton and district lists of the country (empty where coopreg has
    none: the form then leaves them out). A canton is shown with its province, a district
    with its canton, so one list is enough without a script."""
    known = divisions_of(country)
    for level in LEVELS:
        options = [("", "—")]
        for division in known.values():
            if division.level != level:
                continue
            parent = known.get(division.parent or "")
            name = f"{parent.name} · {division.name}" if parent else division.name
            options.append((division.code, f"{division.code} {name}"))
        getattr(form, f"{level}_code").choices = choices(options)


def _member_form(obj: Member | None = None) -> MemberForm:
    cooperative = current_cooperative()
    form = MemberForm()
    form.id_type.choices = choices((t.code, t.label) for t in
                                   id_types_for(cooperative.country, cooperative.id_label))
    form.nationality.choices = choices([("", "—"), *country_names().items()])
    division_choices(form, cooperative.country)
    if obj is not None and request.method == "GET":
        for name in MemberForm.DATA_FIELDS:
            if name == "declared_income":
                amount = from_minor(obj.declared_income_minor, cooperative.currency)
                form.declared_income.data = "" if amount is None else str(amount)
            elif name == "phone":
                form.phone.data = obj.phone_shown
            elif hasattr(obj, name):
                value = getattr(obj, name)
                getattr(form, name).data = getattr(value, "value", value)
        if obj.id_number is None:
            form.id_type.data = form.id_type.choices[0].value
        form.version.data = str(obj.version)
    elif request.method == "GET":
        form.joined_on.data = date.today()
        form.id_type.data = form.id_type.choices[0].value
    return form


@bp.route("/")
@roles_required(*ALL_ROLES)
def list_members():
    cooperative = current_cooperative()
    args = request.args
    filters = {"q": args.get("q", "").strip()[:100], "status": args.get("status", ""),
               "sector": args.get("sector", ""), "locality": args.get("locality", "")[:120],
               "documents": "missing" if args.get("documents") == "missing" else "",
               "sort": args.get("sort", "name"), "dir": args.get("dir", "")}
    chosen = services.SORTS.read(filters)
    filters["sort"], filters["dir"] = chosen.key, chosen.dir
    status_labels = translated_labels(STATUS_LABELS)
    rows = member_rows(cooperative, filters, args.get("after"), args.get("before"),
                       status_labels)
    filtered = any(filters[k] for k in ("q", "status", "sector", "locality", "documents"))
    # how many members the filters match (all pages), counted in SQL once per register
    # version and filters (kept like the rows: a reload or the next page pays nothing)
    matching = {k: v for k, v in filters.items() if k not in ("sort", "dir")}  # any order
    total = kept("member_total", 256).get_or_make(
        (*register_key(cooperative), masked_ids(), tuple(matching.items())),
        lambda: services.count_matching(cooperative.id, whole_ids=masked_ids(), **matching))
    return render_template("members/list.html", rows=rows, filters=filters, sorted=chosen,
                           total=total, filtered=filtered,
                           capped=services.SEARCH_COUNT_CAP if filters["q"] else None,
                           localities=services.localities(cooperative.id),
                           sector_labels=translated_labels(SECTOR_LABELS),
                           status_labels=status_labels)


class ListedRows(NamedTuple):
    """One page of the member list, rendered: kept per process (core/kept.py) under the
    cooperative's register version (members/versions.py), so a kept page is never shown
    after the register has changed; also in its key what changes the rows' text (the role,
    which masks IDs; the language), the filters and the page."""

    html: Markup
    next_cursor: str | None
    prev_cursor: str | None


def member_rows(cooperative, filters: dict, after: str | None, before: str | None,
                status_labels: dict) -> ListedRows:
    """One page of the register as table rows, from the kept pages when the register has not
    changed since (only for reading requests: their transaction saw committed rows only)."""
    size = current_app.config["MEMBER_ROWS_CACHE_SIZE"]
    per_page = current_app.config["MEMBERS_PER_PAGE"]
    pages = kept("member_rows", size)
    cacheable = size > 0 and request.method == "GET"
    key = (*register_key(cooperative), g.get("role") == Role.VIEWER, str(get_locale()),
           tuple(filters.items()), after, before, per_page)
    if cacheable and (found := pages.get(key)) is not None:
        return found
    page = services.list_members(cooperative.id, after=after, before=before,
                                 per_page=per_page, whole_ids=masked_ids(), **filters)
    html = render_template("members/_rows.html", members=page.members,
                           status_labels=status_labels)
    # the autoescaped template's own output, every value in it escaped already
    rows = ListedRows(Markup(html), page.next_cursor, page.prev_cursor)  # noqa: S704
    if cacheable:
        pages.put(key, rows)
    return rows


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _save_member(form: MemberForm, member: Member | None):
    """Shared by create and edit: call the service, handle the duplicate warning."""
    confirm = form.confirm_duplicate.data == "yes"
    with attempt(form, report=False, expect=(services.DuplicateWarning,)) as outcome:
        if member is None:
            member = services.create_member(current_cooperative(), form.member_data(),
                                            confirm_duplicate=confirm)
        else:
            services.update_member(member, form.member_data(), confirm_duplicate=confirm,
                                   expected_version=_int_or_none(form.version.data))
    if isinstance(outcome.error, services.DuplicateWarning):
        form.confirm_duplicate.data = "yes"
        return None, outcome.error.members
    if outcome.error is not None:
        put_error_on_form(form, outcome.error)
        return None, []
    return member, []


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new_member():
    form = _member_form()
    twins: list[Member] = []
    if form.validate_on_submit():
        member, twins = _save_member(form, None)
        if member is not None:
            flash(_("Member %(number)s added.", number=member.member_number), "success")
            return redirect(url_for("members.view_member", member_id=member.id))
    code = 422 if request.method == "POST" else 200
    return render_template("members/form.html", form=form, member=None, twins=twins,
                           has_divisions=len(form.district_code.choices) > 1), code


@bp.route("/<int:member_id>")
@roles_required(*ALL_ROLES)
def view_member(member_id: int):
    member = get_scoped_or_404(Member, member_id)
    cooperative = current_cooperative()
    types = db.session.scalars(select(DocumentType).where(
        DocumentType.cooperative_id == cooperative.id, DocumentType.active.is_(True))
        .order_by(DocumentType.position, DocumentType.id)).all()
    held = {d.document_type_id: d for d in member.documents}
    status_form = StatusForm()
    status_form.status.choices = choices((s.value, STATUS_LABELS[s])
                                         for s in services.allowed_statuses(member))
    status_form.effective_on.data = date.today()
    return render_template("members/view.html", member=member, document_types=types,
                           held=held, status_form=status_form, dependant_form=DependantForm(),
                           empty_form=EmptyForm(), sector_labels=translated_labels(SECTOR_LABELS),
                           status_labels=translated_labels(STATUS_LABELS),
                           income=from_minor(member.declared_income_minor, cooperative.currency),
                           civil_status_labels=translated_labels(CIVIL_STATUS_LABELS),
                           nationality=country_names().get(member.nationality or "", ""),
                           divisions=[division_name(cooperative.country, code) for code in
                                      (member.province_code, member.canton_code,
                                       member.district_code) if code],
                           back=_local_path(request.args.get("back")))


@bp.route("/<int:member_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_member(member_id: int):
    member = get_scoped_or_404(Member, member_id)
    form = _member_form(member)
    twins: list[Member] = []
    if form.validate_on_submit():
        saved, twins = _save_member(form, member)
        if saved is not None:
            flash(_("Changes saved."), "success")
            return redirect(url_for("members.view_member", member_id=member.id))
    code = 422 if request.method == "POST" else 200
    return render_template("members/form.html", form=form, member=member, twins=twins,
                           has_divisions=len(form.district_code.choices) > 1), code


@bp.route("/<int:member_id>/status", methods=["GET", "POST"])
@roles_required(*EDITORS)
def change_status(member_id: int):
    member = get_scoped_or_404(Member, member_id)
    form = StatusForm()
    form.status.choices = choices((s.value, STATUS_LABELS[s])
                                  for s in services.allowed_statuses(member))
    if not form.status.choices:
        flash(_("This member's status can no longer change."), "error")
        return redirect(url_for("members.view_member", member_id=member.id))
    if request.method == "GET":
        form.effective_on.data = date.today()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            services.change_member_status(member, form.status.data, form.effective_on.data,
                                          form.reason.data, current_user.id)
        if outcome.ok:
            flash(_("Status changed to %(status)s.",
                    status=STATUS_LABELS[MemberStatus(form.status.data)]), "success")
            return redirect(url_for("members.view_member", member_id=member.id))
    code = 422 if request.method == "POST" else 200
    return render_template("members/status.html", form=form, member=member,
                           status_labels=translated_labels(STATUS_LABELS)), code


@bp.route("/<int:member_id>/dependants", methods=["POST"])
@roles_required(*EDITORS)
def add_dependant(member_id: int):
    member = get_scoped_or_404(Member, member_id)
    form = DependantForm()
    if form.validate_on_submit():
        with attempt(report=False) as outcome:
            services.add_dependant(member, form.name.data, form.relation.data,
                                   form.date_of_birth.data, form.id_number.data,
                                   student=form.student.data, disabled=form.disabled.data)
        if outcome.ok:
            flash(_("Dependant added."), "success")
        else:
            flash(_("The dependant was not added: %(reason)s", reason=outcome.error.message),
                  "error")
    else:
        for field_errors in form.errors.values():
            for message in field_errors:
                flash(_("The dependant was not added: %(reason)s", reason=message), "error")
    return redirect(url_for("members.view_member", member_id=member.id) + "#dependants")


def _local_path(target: str | None) -> str | None:
    """A path inside this site to go back to (no scheme, no host), else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _dependant_of(member_id: int, dependant_id: int) -> tuple[Member, Dependant]:
    """The member and one of their dependants, or 404."""
    member = get_scoped_or_404(Member, member_id)
    dependant = get_scoped_or_404(Dependant, dependant_id)
    if dependant.member_id != member.id:
        abort(404)
    return member, dependant


@bp.route("/<int:member_id>/dependants/<int:dependant_id>/remove", methods=["POST"])
@roles_required(*EDITORS)
@confirm_first(_dependant_of, _l(
    "The dependant is removed from the member's record."),
    action=_l("Remove"))
def remove_dependant(member_id: int, dependant_id: int):
    member, dependant = _dependant_of(member_id, dependant_id)
    if EmptyForm().validate_on_submit():
        with attempt(report=False) as outcome:
            services.remove_dependant(dependant)
        if outcome.ok:
            flash(_("Dependant removed."), "success")
        else:
            flash(outcome.error.message, "error")
    return redirect(url_for("members.view_member", member_id=member.id) + "#dependants")


@bp.route("/<int:member_id>/documents", methods=["POST"])
@roles_required(*EDITORS)
def update_documents(member_id: int):
    member = get_scoped_or_404(Member, member_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    # only the items the page shows: a retired item the member holds must stay held
    types = db.session.scalars(select(DocumentType.id).where(
        DocumentType.cooperative_id == member.cooperative_id,
        DocumentType.active.is_(True))).all()
    received: dict[int, date | None | object] = {}
    for type_id in types:
        if request.form.get(f"doc_{type_id}"):
            raw = request.form.get(f"doc_{type_id}_date") or ""
            try:
                received[type_id] = date.fromisoformat(raw) if raw else services.TICKED
            except ValueError:
                flash(_("“%(value)s” is not a date; nothing was changed.", value=raw), "error")
                return redirect(url_for("members.view_member", member_id=member.id))
        else:
            received[type_id] = None
    with attempt() as outcome:
        services.set_documents(member, received)
    if outcome.ok:
        flash(_("Documents checklist saved."), "success")
        back = _local_path(request.form.get("next"))
        if back:  # ticked from a registration's page: back to it, where the result shows
            return redirect(back)
    return redirect(url_for("members.view_member", member_id=member.id) + "#documents")
