"""The way out: the register as it stood on a date, and the import template.

Both use the import's own columns and headers (`coopreg.imports.fields.FIELDS`), so an
exported file imports back without a single change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import IO, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from coopreg.auth.models import Role
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.core.labels import display
from coopreg.core.models import utcnow
from coopreg.core.money import currency_exponent, from_minor
from coopreg.core.phones import NATIONAL, phone_as
from coopreg.core.sentences import kept, sentence
from coopreg.core.spreadsheets import DATE, MONEY, TEXT, Column, Sheet, write_csv, write_xlsx
from coopreg.core.templating import show_date
from coopreg.extensions import db
from coopreg.imports import fields as F
from coopreg.jobs.files import CSV, XLSX, ExportedFile, export_job
from coopreg.jobs.models import Job
from coopreg.jobs.services import create_job
from coopreg.members.models import (
    CivilStatus,
    ConsentMethod,
    Member,
    MemberStatus,
    MemberStatusChange,
    Sector,
    Sex,
)
from coopreg.members.national_ids import id_types_for

FORMATS = ("xlsx", "csv")
EXPORT_JOB = "members_export"
EXPORT_ROLES = (Role.ADMIN, Role.SECRETARY, Role.TREASURER)
PROGRESS_EVERY = 2000  # rows between two progress reports of an export job
GONE = (MemberStatus.LEFT, MemberStatus.DECEASED)
STATUS_HEADER = _l("Status")       # not imported: status changes have their own page
LEFT_ON_HEADER = _l("Left on")     # idem
# the fields whose cells hold a code, written as its label in the file's language (the import
# reads the labels back, in any language)
ENUM_FIELDS = {"sex": Sex, "sector": Sector, "consent_method": ConsentMethod,
               "civil_status": CivilStatus}


def member_columns(cooperative: Cooperative, *, with_lists: bool = False) -> list[Column]:
    """The columns of the template and the export, in order."""
    exponent = currency_exponent(cooperative.currency)
    id_codes = tuple(t.code for t in id_types_for(cooperative.country, cooperative.id_label))
    columns = []
    for spec in F.FIELDS:
        choices = spec.choices if spec.key != "id_type" else id_codes
        if spec.key in ENUM_FIELDS:
            choices = tuple(display(ENUM_FIELDS[spec.key](c)) for c in choices)
        elif spec.key == "consent_given":
            choices = (_("yes"), _("no"))
        # the header in the language of the file (the import knows it in every language)
        columns.append(Column(str(spec.label), spec.kind if spec.kind != MONEY else MONEY,
                              decimals=exponent, choices=choices if with_lists else (),
                              width={"notes": 40, "address": 30}.get(spec.key)))
    return columns


def cell_words() -> dict[str, dict]:
    """The words written for codes, in the current language, looked up once per file."""
    words: dict[str, dict] = {key: {m.value: display(m) for m in enum_type}
                              for key, enum_type in ENUM_FIELDS.items()}
    words["consent_given"] = {True: _("yes"), False: _("no")}
    words["status"] = {m.value: display(m) for m in MemberStatus}
    return words


def _member_cells(member: dict[str, Any], currency: str, words: dict[str, dict] | None = None,
                  country: str | None = None) -> list[Any]:
    words = words if words is not None else cell_words()
    cells = []
    for spec in F.FIELDS:
        if spec.key == "phone":  # as people write it in the country: it imports back so
            cells.append(phone_as(member["phone"], NATIONAL, country) or None)
        elif spec.key == "declared_income":
            cells.append(from_minor(member["declared_income_minor"], currency))
        elif spec.key == "consent_given":
            cells.append(words["consent_given"][bool(member["consent_given"])])
        else:
            value = getattr(member[spec.key], "value", member[spec.key])
            cells.append(words[spec.key].get(value, value) if spec.key in words else value)
    return cells


def status_on(member: dict[str, Any], changes: list[tuple[date, int, MemberStatus,
                                                          MemberStatus]],
              day: date) -> MemberStatus:
    """A member's status on a day, from the history of status changes (each: effective date,
    id, from, to); without history, the current status, except that a member who left after
    that day was still active on it."""
    if changes:
        before = [c for c in changes if c[0] <= day]
        if before:
            return before[-1][3]
        return changes[0][2]
    status = member["status"]
    if status in GONE and member["left_on"] and member["left_on"] > day:
        return MemberStatus.ACTIVE
    return status


def register_rows(cooperative: Cooperative, as_of: date | None) -> Iterator[list[Any]]:
    """The rows of the register export: every member (as_of None), or the members who were
    members on `as_of` (joined by then and not left or deceased on that day), with their
    status on that day. Streamed from the database."""
    history: dict[int, list] = defaultdict(list)
    if as_of is not None:
        for change in db.session.execute(
                select(MemberStatusChange.member_id, MemberStatusChange.effective_on,
                       MemberStatusChange.id, MemberStatusChange.from_status,
                       MemberStatusChange.to_status)
                .where(MemberStatusChange.cooperative_id == cooperative.id)
                .order_by(MemberStatusChange.effective_on, MemberStatusChange.id)):
            history[change.member_id].append(tuple(change[1:]))
    table = Member.__table__
    stmt = (select(table).where(table.c.cooperative_id == cooperative.id)
            .order_by(table.c.id).execution_options(yield_per=2000))
    if as_of is not None:
        stmt = stmt.where(table.c.joined_on <= as_of)
    result = db.session.execute(stmt)
    words = cell_words()
    try:  # a server-side cursor on PostgreSQL: closed even when the writer stops early
        for member in result.mappings():
            if as_of is None:
                status, left_on = member["status"], member["left_on"]
            else:
                status = status_on(member, history.get(member["id"], []), as_of)
                if status in GONE:
                    continue
                left_on = None
            code = getattr(status, "value", status)
            yield _member_cells(member, cooperative.currency, words, cooperative.country) + [
                words["status"].get(code, code), left_on]
    finally:
        result.close()


def export_columns(cooperative: Cooperative) -> list[Column]:
    return member_columns(cooperative) + [Column(str(STATUS_HEADER), TEXT, width=12),
                                          Column(str(LEFT_ON_HEADER), DATE)]


def check_export(as_of: date | None, fmt: str) -> None:
    if fmt not in FORMATS:
        raise DomainError(_("Export as xlsx or csv."), field="format")
    if as_of is not None and as_of > date.today():
        raise DomainError(_("The date is in the future."), field="as_of")


def export_register(cooperative: Cooperative, as_of: date | None, fmt: str,
                    target: str | IO[bytes], progress=None) -> int:
    """Write the register (on `as_of`, or all of it) as xlsx or CSV to a path or binary
    stream, streaming; returns the number of members written. `progress(done, total,
    message)`, when given, is called every `PROGRESS_EVERY` members."""
    check_export(as_of, fmt)
    counter = {"n": 0}
    total = 0
    if progress is not None:
        counted_members = select(func.count()).select_from(Member).where(
            Member.cooperative_id == cooperative.id)
        if as_of is not None:
            counted_members = counted_members.where(Member.joined_on <= as_of)
        total = db.session.scalar(counted_members) or 0
        progress(0, total, _("Writing the file…"))

    rows = register_rows(cooperative, as_of)

    def counted() -> Iterator[list[Any]]:
        for row in rows:
            counter["n"] += 1
            if progress is not None and counter["n"] % PROGRESS_EVERY == 0:
                progress(counter["n"], total, _("%(done)d of about %(total)d members written",
                                                done=counter["n"], total=total))
            yield row

    columns = export_columns(cooperative)
    try:
        if fmt == "csv":
            write_csv(target, columns, counted())
        else:
            write_xlsx(target, [
                Sheet(_("Members"), columns, counted()),
                Sheet(_("About"), [Column(_("Item"), width=24), Column(_("Value"), width=50)],
                      _about(cooperative, as_of, counter)),
            ])
    finally:
        rows.close()  # a writer that failed midway leaves no open cursor behind
    return counter["n"]


def start_export(cooperative: Cooperative, user_id: int | None, as_of: date | None,
                 fmt: str) -> Job:
    """Queue the register export as a background job (the caller commits, then starts it);
    bad choices are refused here, next to their field."""
    check_export(as_of, fmt)
    return create_job(cooperative.id, EXPORT_JOB, user_id,
                      {"as_of": as_of.isoformat() if as_of else None, "format": fmt})


MEMBERS_EXPORTED = sentence("imports.members_exported", lambda p: ngettext(
    "%(num)d member exported.", "%(num)d members exported.", p["num"]))


@export_job(EXPORT_JOB, EXPORT_ROLES)
def _export_job(job: Job, stream: IO[bytes], progress) -> ExportedFile:
    cooperative = db.session.get(Cooperative, job.cooperative_id)
    as_of = date.fromisoformat(job.params["as_of"]) if job.params.get("as_of") else None
    fmt = job.params.get("format") or "xlsx"
    written = export_register(cooperative, as_of, fmt, stream, progress)
    return ExportedFile(filename=export_filename(cooperative, as_of, fmt),
                        mimetype=XLSX if fmt == "xlsx" else CSV, rows=written,
                        summary=kept(MEMBERS_EXPORTED, num=written))


def _about(cooperative: Cooperative, as_of: date | None,
           counter: dict) -> Iterator[list[Any]]:
    # written after the members sheet, so the count is known
    yield [_("Cooperative"), f"{cooperative.code} · {cooperative.name}"]
    yield [_("Register on"), show_date(as_of) if as_of else _("all members, any status")]
    yield [_("Exported at (UTC)"), utcnow().strftime("%Y-%m-%d %H:%M")]
    yield [_("Members"), str(counter["n"])]
    yield [_("Note"), _("The columns %(status)s and %(left_on)s are for reading only; "
                        "importing this file back does not change them.",
                        status=str(STATUS_HEADER), left_on=str(LEFT_ON_HEADER))]


def export_filename(cooperative: Cooperative, as_of: date | None, fmt: str) -> str:
    """A download name made by the app (never from user input)."""
    day = (as_of or date.today()).isoformat()
    code = "".join(c for c in cooperative.code if c.isalnum()) or "coop"
    return f"members-{code}-{day}.{fmt}"


def write_template(cooperative: Cooperative, target: str | IO[bytes]) -> None:
    """The import template: the headers, an example row (marked, so it cannot be imported
    by mistake), drop-down lists for the fields with fixed choices, and a notes sheet."""
    columns = member_columns(cooperative, with_lists=True)
    id_types = id_types_for(cooperative.country, cooperative.id_label)
    example = {
        "member_number": "", "first_name": "María", "middle_name": "José",
        "last_name": "Núñez", "second_last_name": "Solís", "sex": display(Sex.FEMALE),
        "date_of_birth": date(1980, 5, 17), "id_type": id_types[0].code, "id_number": "",
        "name_extension": "", "mothers_maiden_name": "", "civil_status": "", "nationality": "",
        "tax_number": "", "email": "", "province_code": "", "canton_code": "",
        "district_code": "",
        "phone": "8888-1234", "address": "200 m north of the school", "locality": "San Carlos",
        "sector": display(Sector.AGRICULTURE), "occupation": "Coffee grower",
        "declared_income": Decimal(250_000),
        "joined_on": date(2020, 1, 15), "consent_given": _("yes"),
        "consent_date": date(2020, 1, 15), "consent_method": display(ConsentMethod.SIGNED_FORM),
        "notes": F.EXAMPLE_MARK,
    }
    notes_columns = [Column(_("Column"), width=26), Column(_("Required"), width=10),
                     Column(_("What to write"), width=100)]
    write_xlsx(target, [
        Sheet(_("Members"), columns, [[example[spec.key] for spec in F.FIELDS]]),
        Sheet(_("Notes"), notes_columns, _template_notes(cooperative), autofilter=False),
    ])


def _template_notes(cooperative: Cooperative) -> Iterator[list[str]]:
    id_types = id_types_for(cooperative.country, cooperative.id_label)
    explain = {
        "member_number": _("Leave empty to get the next number of the cooperative."),
        "sex": _("female, male or other (F/M and the words in Spanish, French and Portuguese "
                 "are understood)."),
        "date_of_birth": _("A date: 17/05/1980 (day first), 1980-05-17, or a spreadsheet "
                           "date."),
        "id_type": _("One of: %(types)s. Empty: %(first)s.",
                     types=", ".join(f"{t.code} ({t.label})" for t in id_types),
                     first=id_types[0].code),
        "id_number": _("As written on the card; dashes and dots are fine. Leading zeros lost "
                       "by the spreadsheet are put back when the number's check allows."),
        "phone": _("As dialled in the cooperative's country (8888-1234), or with + and the "
                   "country code."),
        "nationality": _("The country's two-letter code (CR, PH, AR…) or its name."),
        "tax_number": _("Checked for the cooperative's country where its form is known."),
        "district_code": _("The official code; the canton and province follow from it."),
        "sector": _("One of the values on the Lists sheet."),
        "declared_income": _("A number, in %(currency)s.", currency=cooperative.currency),
        "joined_on": _("A date, as for the date of birth."),
        "consent_given": _("yes or no."),
        "consent_date": _("Needed when consent is yes."),
        "consent_method": _("Needed when consent is yes: one of the values on the Lists "
                            "sheet."),
        "notes": _("Free text. The example row says “%(mark)s”: it is refused if left in.",
                   mark=F.EXAMPLE_MARK),
    }
    yield [_("Headers may be in English, Spanish, French or Portuguese, and title rows above "
             "the header are fine."), "", ""]
    for spec in F.FIELDS:
        yield [str(spec.label), _("yes") if spec.required else "", explain.get(spec.key, "")]
