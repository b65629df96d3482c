"""The member register's rules: validation, numbering, duplicates, status, dependants,
documents, and the searchable, keyset-paginated list."""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l  # labels: rendered only in a message
from sqlalchemy import (
    and_,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    tuple_,
)
from sqlalchemy.orm.exc import StaleDataError

from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.core.errors import DomainError
from coopreg.core.languages import LANGUAGES
from coopreg.core.models import utcnow
from coopreg.core.money import from_minor, parse_amount, to_minor
from coopreg.core.phones import parse_phone
from coopreg.core.sorting import Sorts
from coopreg.core.text import ascii_digits, digits_only, escape_like, fold
from coopreg.core.validation import choice
from coopreg.extensions import MEMBERS_SEARCH, db
from coopreg.members.divisions import clean_divisions
from coopreg.members.models import (
    MEMBER_LIFECYCLE,
    CivilStatus,
    ConsentMethod,
    Dependant,
    DependantRelation,
    IncomeDeclaration,
    Member,
    MemberDocument,
    MemberStatus,
    MemberStatusChange,
    Sector,
    Sex,
)
from coopreg.members.national_ids import (
    country_code,
    id_types_for,
    normalise_id,
    normalise_tax_number,
)
from coopreg.members.signals import dependant_removing, member_left

OLDEST_AGE = 120
# The declared income column is a signed 64-bit integer of minor units.
# Lengths of the free-text columns (the forms say the same; imports call the service directly).
_MEMBER_NUMBER = re.compile(r"[0-9A-Za-z\-/.]{1,20}")
_TEXT_LIMITS = {"address": 300, "locality": 120, "occupation": 120}
_NOTES_LIMIT = 2000


class DuplicateWarning(Exception):
    """Members with the same names and date of birth exist: the user must confirm."""

    def __init__(self, members: list[Member]):
        super().__init__("possible duplicates")
        self.members = members


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # trimmed, runs of white space as one space
        return " ".join(value.split()) or None
    return re.sub(r"\s+", " ", str(value)) or None


def _date(value: Any, field_name: str, label: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise DomainError(_("%(label)s is not a date (year-month-day).", label=label),
                          field=field_name) from None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def normalise_phone(phone: str | None, country: str) -> str | None:
    """The phone in E.164, read in the cooperative's country (see `core.phones`)."""
    return parse_phone(phone, country)


# The field labels of the member rules' messages (made once: an import checks many rows).
_LABELS = {"first_name": _l("First name"), "last_name": _l("Last name"), "sex": _l("Sex"),
           "sector": _l("Sector"), "date_of_birth": _l("Date of birth"),
           "joined_on": _l("Joined on"), "consent_date": _l("Consent date"),
           "consent_method": _l("Consent"), "civil_status": _l("Civil status")}
_NAME_EXTENSION = re.compile(r"[A-Za-z]{1,4}\.?")  # Jr., Sr., II, III, IV


def clean_member_data(cooperative: Cooperative, data: dict[str, Any],
                      member: Member | None = None, today: date | None = None, *,
                      unique_checks: bool = True) -> dict[str, Any]:
    """Check every field of a member as a secretary typed it, and return the values to store.
    Raises `DomainError` naming the field and what is wrong (the first field wrong, in the
    form's order). `unique_checks=False` leaves out the two register look-ups (ID number,
    member number already taken) for a caller that checks many rows against the register at
    once (the spreadsheet import)."""
    today = today or date.today()
    clean: dict[str, Any] = {}
    clean.update(_clean_names(data))
    clean["sex"] = choice(Sex, data.get("sex"), "sex", _LABELS["sex"])
    clean["sector"] = choice(Sector, data.get("sector"), "sector", _LABELS["sector"])
    clean.update(_clean_dates(data, today))
    clean.update(_clean_national_id(cooperative, data, member, unique_checks))
    clean.update(_clean_person(cooperative, data))
    clean.update(_clean_contact(cooperative, data))
    clean.update(_clean_address(cooperative, data))
    clean.update(_clean_income(cooperative, data))
    clean.update(_clean_consent_and_language(data, today))
    clean["member_number"] = _clean_member_number(cooperative, data, member, unique_checks)
    return clean


def _clean_names(data: dict[str, Any]) -> dict[str, Any]:
    """First and last name required; the other names optional; at most 100 characters."""
    clean: dict[str, Any] = {}
    for name, field_label in (("first_name", _LABELS["first_name"]),
                              ("last_name", _LABELS["last_name"])):
        clean[name] = _text(data.get(name))
        if not clean[name]:
            raise DomainError(_("%(label)s is required.", label=field_label), field=name)
        if len(clean[name]) > 100:
            raise DomainError(_("%(label)s is too long.", label=field_label), field=name)
    for name in ("middle_name", "second_last_name", "mothers_maiden_name"):
        clean[name] = _text(data.get(name))
        if clean[name] and len(clean[name]) > 100:
            raise DomainError(_("This name is too long."), field=name)
    extension = _text(data.get("name_extension"))
    if extension and not _NAME_EXTENSION.fullmatch(extension):
        raise DomainError(_("A name extension is a short word such as Jr., Sr. or III."),
                          field="name_extension")
    clean["name_extension"] = extension
    return clean


def _clean_dates(data: dict[str, Any], today: date) -> dict[str, Any]:
    """A date of birth neither in the future nor more than OLDEST_AGE years ago; joined on
    (today when empty) neither in the future nor before the birth."""
    dob = _date(data.get("date_of_birth"), "date_of_birth", _LABELS["date_of_birth"])
    if dob is None:
        raise DomainError(_("Date of birth is required."), field="date_of_birth")
    if dob > today:
        raise DomainError(_("The date of birth is in the future."), field="date_of_birth")
    if dob < _years_before(today, OLDEST_AGE):
        raise DomainError(_("The date of birth is more than %(n)d years ago.", n=OLDEST_AGE),
                          field="date_of_birth")
    joined = _date(data.get("joined_on"), "joined_on", _LABELS["joined_on"]) or today
    if joined > today:
        raise DomainError(_("The joining date is in the future."), field="joined_on")
    if joined < dob:
        raise DomainError(_("The joining date is before the date of birth."), field="joined_on")
    return {"date_of_birth": dob, "joined_on": joined}


def _clean_national_id(cooperative: Cooperative, data: dict[str, Any], member: Member | None,
                       unique_checks: bool) -> dict[str, Any]:
    """The national ID checked for its type (the country's usual type when none is given),
    stored compact, and not already another member's."""
    id_number = _text(data.get("id_number"))
    if not id_number:
        return {"id_number": None, "id_type": None}
    types = id_types_for(cooperative.country, cooperative.id_label)
    id_type = _text(data.get("id_type")) or types[0].code
    number = normalise_id(cooperative.country, id_type, id_number,
                          pattern=cooperative.id_pattern, local_label=cooperative.id_label)
    existing = None if not unique_checks else db.session.scalar(select(Member).where(
        Member.cooperative_id == cooperative.id, Member.id_type == id_type,
        Member.id_number == number, Member.id != (member.id if member else -1)))
    if existing is not None:
        raise DomainError(_("This ID number already belongs to member %(number)s, "
                            "%(name)s.", number=existing.member_number,
                            name=existing.full_name), field="id_number")
    return {"id_number": number, "id_type": id_type}


def _clean_person(cooperative: Cooperative, data: dict[str, Any]) -> dict[str, Any]:
    """Civil status, nationality (an ISO country code) and the tax number (checked by
    python-stdnum where the country has a module)."""
    status = data.get("civil_status")
    nationality = country_code(_text(data.get("nationality")))
    if nationality == "":
        raise DomainError(_("“%(text)s” is not a country: give its two-letter code (CR, PH, "
                            "AR…) or its name.", text=data.get("nationality")),
                          field="nationality")
    return {"civil_status": choice(CivilStatus, status, "civil_status",
                                   _LABELS["civil_status"]) if status else None,
            "nationality": nationality,
            "tax_number": normalise_tax_number(cooperative.country, data.get("tax_number"))}


def _clean_contact(cooperative: Cooperative, data: dict[str, Any]) -> dict[str, Any]:
    """The phone in E.164 for the cooperative's country; an email address in its normal
    form (the domain is not looked up)."""
    email = _text(data.get("email"))
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            raise DomainError(_("“%(email)s” is not an email address.", email=email),
                              field="email") from None
    return {"phone": normalise_phone(data.get("phone"), cooperative.country),
            "phone_unchecked": False, "email": email}


def _clean_address(cooperative: Cooperative, data: dict[str, Any]) -> dict[str, Any]:
    """Address, locality and occupation as free text within their lengths; the province,
    canton and district codes checked against the country's list; notes."""
    clean: dict[str, Any] = {}
    for name, limit in _TEXT_LIMITS.items():
        clean[name] = _text(data.get(name))
        if clean[name] and len(clean[name]) > limit:
            raise DomainError(_("This text is too long (at most %(n)d characters).", n=limit),
                              field=name)
    clean.update(clean_divisions(cooperative.country, data.get("province_code"),
                                 data.get("canton_code"), data.get("district_code")))
    clean["notes"] = (data.get("notes") or "").strip() or None
    if clean["notes"] and len(clean["notes"]) > _NOTES_LIMIT:
        raise DomainError(_("This text is too long (at most %(n)d characters).",
                            n=_NOTES_LIMIT), field="notes")
    return clean


def _clean_income(cooperative: Cooperative, data: dict[str, Any]) -> dict[str, Any]:
    income = data.get("declared_income")
    if income in (None, ""):
        return {"declared_income_minor": None}
    try:
        amount = parse_amount(income, cooperative.currency)
    except DomainError as error:
        raise DomainError(error.message, field="declared_income") from None
    return {"declared_income_minor": to_minor(amount, cooperative.currency)}


def _clean_consent_and_language(data: dict[str, Any], today: date) -> dict[str, Any]:
    """Consent needs its date (not in the future) and how it was given; the language is one
    coopreg speaks, or none (the cooperative's)."""
    consent = bool(data.get("consent_given"))
    clean: dict[str, Any] = {"consent_given": consent}
    language = (data.get("language") or "").strip() or None
    if language is not None and language not in LANGUAGES:
        raise DomainError(_("Choose one of the languages offered."), field="language")
    clean["language"] = language
    if not consent:
        return {**clean, "consent_date": None, "consent_method": None}
    consent_date = _date(data.get("consent_date"), "consent_date", _LABELS["consent_date"])
    if consent_date is None:
        raise DomainError(_("Give the date the member consented."), field="consent_date")
    if consent_date > today:
        raise DomainError(_("The consent date is in the future."), field="consent_date")
    if not data.get("consent_method"):
        raise DomainError(_("Say how the member consented."), field="consent_method")
    clean["consent_date"] = consent_date
    clean["consent_method"] = choice(ConsentMethod, data.get("consent_method"),
                                     "consent_method", _LABELS["consent_method"])
    return clean


def _clean_member_number(cooperative: Cooperative, data: dict[str, Any],
                         member: Member | None, unique_checks: bool) -> str | None:
    """A member number typed by hand: up to 20 letters, digits, - / or ., not taken."""
    number = _text(data.get("member_number"))
    if not number:
        return number
    if not _MEMBER_NUMBER.fullmatch(number):
        raise DomainError(_("A member number has up to 20 letters, digits, - / or ."),
                          field="member_number")
    taken = None if not unique_checks else db.session.scalar(select(Member.id).where(
        Member.cooperative_id == cooperative.id, Member.member_number == number,
        Member.id != (member.id if member else -1)))
    if taken is not None:
        raise DomainError(_("Member number %(number)s is already taken.", number=number),
                          field="member_number")
    return number


def possible_duplicates(cooperative_id: int, first_name: str, last_name: str,
                        date_of_birth: date, exclude_id: int | None = None) -> list[Member]:
    """Members with the same first name, last name and date of birth (accents ignored)."""
    candidates = db.session.scalars(select(Member).where(
        Member.cooperative_id == cooperative_id, Member.date_of_birth == date_of_birth,
        Member.id != (exclude_id or -1))).all()
    first, last = fold(first_name), fold(last_name)
    return [m for m in candidates if fold(m.first_name) == first and fold(m.last_name) == last]


def _lock_cooperative(cooperative_id: int) -> Cooperative:
    """The cooperative's row, locked until commit (PostgreSQL `FOR UPDATE`; SQLite already
    holds the write lock from `BEGIN IMMEDIATE`)."""
    return db.session.execute(
        select(Cooperative).where(Cooperative.id == cooperative_id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()


def next_member_number(cooperative_id: int) -> str:
    """The next free member number: counter + 1, skipping numbers typed by hand."""
    cooperative = _lock_cooperative(cooperative_id)
    candidate = cooperative.last_member_number + 1
    while db.session.scalar(select(Member.id).where(Member.cooperative_id == cooperative_id,
                                                    Member.member_number == str(candidate))):
        candidate += 1
    cooperative.last_member_number = candidate
    return str(candidate)


def reserve_member_numbers(cooperative_id: int, count: int,
                           exclude: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """`count` member numbers at once, as `next_member_number` would hand them out one by
    one (counter + 1, skipping numbers in use and those in `exclude`), under the same lock.
    The numbers in use are read only in the window about to be handed out (a range of the
    number index), not the whole register."""
    if count <= 0:
        return []
    cooperative = _lock_cooperative(cooperative_id)
    numbers: list[str] = []
    candidate = cooperative.last_member_number
    while len(numbers) < count:
        low, high = candidate + 1, candidate + (count - len(numbers)) + 64
        taken = set(db.session.scalars(select(Member.member_number).where(
            Member.cooperative_id == cooperative_id,
            Member.number_key.between(member_number_key(str(low)),
                                      member_number_key(str(high))))))
        for number in range(low, high + 1):
            candidate = number
            text = str(number)
            if text not in taken and text not in exclude:
                numbers.append(text)
                if len(numbers) == count:
                    break
    cooperative.last_member_number = candidate
    return numbers


def search_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The stored search forms of a member's values (folded name, locality key)."""
    return _search_fields(values)


def _search_fields(values: dict[str, Any]) -> dict[str, Any]:
    surnames = " ".join(filter(None, (values["last_name"], values.get("second_last_name"))))
    given = " ".join(filter(None, (values["first_name"], values.get("middle_name"))))
    return {"search_name": fold(f"{surnames} {given}"),
            "locality_key": fold(values.get("locality")) or None,
            "number_key": member_number_key(values["member_number"])}


def member_number_key(number: str) -> str:
    """Sort key of a member number: numbers in numeric order ("2" before "10"), others after
    them in text order."""
    number = (number or "").strip()
    return number.zfill(20) if ascii_digits(number) else "~" + number.upper()


def create_member(cooperative: Cooperative, data: dict[str, Any], *,
                  confirm_duplicate: bool = False) -> Member:
    """Add a member to the register. Raises `DuplicateWarning` when the same names and date of
    birth exist and the user has not confirmed; `DomainError` for any invalid field."""
    values = clean_member_data(cooperative, data)
    if not confirm_duplicate:
        twins = possible_duplicates(cooperative.id, values["first_name"], values["last_name"],
                                    values["date_of_birth"])
        if twins:
            raise DuplicateWarning(twins)
    if not values["member_number"]:
        values["member_number"] = next_member_number(cooperative.id)
    member = Member(cooperative_id=cooperative.id, status=MemberStatus.ACTIVE,
                    **values, **_search_fields(values))
    db.session.add(member)
    db.session.flush()
    forget_localities(cooperative.id)
    return member


def update_member(member: Member, data: dict[str, Any], *,
                  confirm_duplicate: bool = False, expected_version: int | None = None) -> Member:
    """Change a member's details (not the status: see `change_member_status`).
    `expected_version` is the version the user's form was built from: if someone saved the
    member since, the change is refused rather than silently overwriting theirs."""
    if expected_version is not None and expected_version != member.version:
        raise DomainError(STALE_MESSAGE())
    cooperative = db.session.get(Cooperative, member.cooperative_id)
    values = clean_member_data(cooperative, data, member=member)
    if not values["member_number"]:
        values["member_number"] = member.member_number
    if not confirm_duplicate:
        twins = possible_duplicates(cooperative.id, values["first_name"], values["last_name"],
                                    values["date_of_birth"], exclude_id=member.id)
        if twins:
            raise DuplicateWarning(twins)
    for key, value in {**values, **_search_fields(values)}.items():
        setattr(member, key, value)
    try:
        db.session.flush()
    except StaleDataError:
        raise DomainError(STALE_MESSAGE()) from None
    forget_localities(cooperative.id)
    return member


def STALE_MESSAGE() -> str:  # noqa: N802 - a message, translated when asked for
    return _("Someone else saved this member while you were editing. Nothing of yours was "
             "saved: reload the page to see their changes, then make yours again.")


def allowed_statuses(member: Member) -> list[MemberStatus]:
    return MEMBER_LIFECYCLE.allowed(member.status)


def change_member_status(member: Member, to_status: MemberStatus | str, effective_on: date,
                         reason: str, actor_id: int | None,
                         today: date | None = None) -> MemberStatusChange:
    """Move a member to another status, with a date and a reason, kept in the history.
    Only the transitions of `MEMBER_STATUS_TRANSITIONS` are allowed."""
    today = today or date.today()
    to_status = choice(MemberStatus, to_status, "status", _("Status"))
    MEMBER_LIFECYCLE.check(member.status, to_status, field="status")
    reason = _text(reason)
    if not reason:
        raise DomainError(_("Give the reason for the change."), field="reason")
    if len(reason) > 300:
        raise DomainError(_("The reason is too long (at most 300 characters)."), field="reason")
    if effective_on is None:
        raise DomainError(_("Give the date the change takes effect."), field="effective_on")
    if effective_on > today:
        raise DomainError(_("The date is in the future."), field="effective_on")
    if effective_on < member.joined_on:
        raise DomainError(_("The date is before the member joined."), field="effective_on")
    if member.status_date and effective_on < member.status_date:
        raise DomainError(_("The date is before the last status change (%(date)s).",
                            date=member.status_date.isoformat()), field="effective_on")
    change = MemberStatusChange(cooperative_id=member.cooperative_id, member_id=member.id,
                                from_status=member.status, to_status=to_status,
                                effective_on=effective_on, reason=reason,
                                changed_by_id=actor_id, changed_at=utcnow())
    db.session.add(change)
    MEMBER_LIFECYCLE.move(member, to_status, field="status")
    member.status_reason = reason
    member.status_date = effective_on
    if to_status in (MemberStatus.LEFT, MemberStatus.DECEASED):
        member.left_on = member.left_on or effective_on  # a death after leaving keeps the date
        member_left.send(member, reason=reason, on=effective_on)
    elif to_status == MemberStatus.ACTIVE:
        member.left_on = None
    db.session.flush()
    return change


def add_dependant(member: Member, name: str, relation: str, date_of_birth: date | None,
                  id_number: str | None, today: date | None = None, *, student: bool = False,
                  disabled: bool = False) -> Dependant:
    """Record a person covered through the member (whether they study or live with a
    disability: what schemes' family rules may ask)."""
    today = today or date.today()
    name = _text(name)
    if not name:
        raise DomainError(_("The dependant's name is required."), field="name")
    if len(name) > 200:
        raise DomainError(_("The dependant's name is too long."), field="name")
    relation_value = choice(DependantRelation, relation, "relation", _("Relationship"))
    if date_of_birth and date_of_birth > today:
        raise DomainError(_("The date of birth is in the future."), field="date_of_birth")
    id_number = _text(id_number)
    if id_number:
        cooperative = db.session.get(Cooperative, member.cooperative_id)
        types = id_types_for(cooperative.country, cooperative.id_label)
        id_number = normalise_id(cooperative.country, types[0].code, id_number,
                                 pattern=cooperative.id_pattern,
                                 local_label=cooperative.id_label)
    dependant = Dependant(cooperative_id=member.cooperative_id, member_id=member.id, name=name,
                          relation=relation_value, date_of_birth=date_of_birth,
                          id_number=id_number, student=bool(student), disabled=bool(disabled))
    db.session.add(dependant)
    db.session.flush()
    return dependant


def remove_dependant(dependant: Dependant) -> None:
    """Dependants are removed (the audit log keeps what they were), unless another area
    still holds records of them (`dependant_removing` refuses)."""
    dependant_removing.send(dependant)
    db.session.delete(dependant)
    db.session.flush()


# In `set_documents`: the box is ticked but no date given (keep the date held, or today).
TICKED = object()


def set_documents(member: Member, received: dict[int, date | None | object],
                  today: date | None = None) -> None:
    """Tick or untick checklist items: `received` maps a document type id to the date it was
    received, `TICKED` when held with no date given, or None when not (or no longer) held."""
    today = today or date.today()
    types = {t.id for t in db.session.scalars(select(DocumentType).where(
        DocumentType.cooperative_id == member.cooperative_id)).all()}
    held = {d.document_type_id: d for d in member.documents}
    for type_id, received_on in received.items():
        if type_id not in types:
            raise DomainError(_("Unknown document type."))
        if received_on is TICKED:
            received_on = held[type_id].received_on if type_id in held else today
        if received_on and received_on > today:
            raise DomainError(_("A document cannot be received in the future."))
        current = held.get(type_id)
        if received_on and current is None:
            db.session.add(MemberDocument(cooperative_id=member.cooperative_id,
                                          member_id=member.id, document_type_id=type_id,
                                          received_on=received_on))
        elif received_on and current is not None and current.received_on != received_on:
            current.received_on = received_on
        elif not received_on and current is not None:
            db.session.delete(current)
    db.session.flush()
    db.session.expire(member, ["documents"])


def missing_documents_condition(cooperative_id: int):
    """True of a member (the outer query's `Member`) who lacks at least one active item of
    the cooperative's checklist: the one definition the home page's count and the member
    list's "missing a document" filter share. Both subqueries are tied to the outer member
    explicitly (a subquery left to correlate by itself lists every member's documents)."""
    held = (exists().where(MemberDocument.member_id == Member.id,
                           MemberDocument.document_type_id == DocumentType.id)
            .correlate(Member, DocumentType))
    return (select(DocumentType.id).where(
        DocumentType.cooperative_id == cooperative_id, DocumentType.active.is_(True), ~held)
        .correlate(Member).exists())


def missing_documents(member: Member) -> list[DocumentType]:
    held = {d.document_type_id for d in member.documents}
    return [t for t in db.session.scalars(select(DocumentType).where(
        DocumentType.cooperative_id == member.cooperative_id, DocumentType.active.is_(True))
        .order_by(DocumentType.position, DocumentType.id)) if t.id not in held]


def declared_income(member: Member, currency: str):
    return from_minor(member.declared_income_minor, currency)


def declare_income(member: Member, income: Any, effective_from: date | None,
                   actor_id: int | None, today: date | None = None) -> IncomeDeclaration:
    """Record a member's declared income from a date (the history an income scale reads:
    `income_on`). The first declaration first keeps the income the member had, from the day
    they joined, so the months before the change keep their bracket. The member's declared
    income becomes the latest one in force today."""
    if effective_from is None:
        raise DomainError(_("Give the date the income takes effect."), field="effective_from")
    currency = db.session.get(Cooperative, member.cooperative_id).currency
    if income in (None, ""):
        raise DomainError(_("Give the declared income."), field="income")
    try:
        income_minor = to_minor(parse_amount(str(income), currency), currency)
    except DomainError as error:
        raise DomainError(error.message, field="income") from None
    if income_minor < 0:
        raise DomainError(_("An income is not negative."), field="income")
    history = income_history(member)
    if any(d.effective_from == effective_from for d in history):
        raise DomainError(_("An income is already declared from %(date)s: declare the new "
                            "one from another date.", date=effective_from.isoformat()),
                          field="effective_from")
    now = utcnow()
    if not history and member.declared_income_minor is not None and (
            member.joined_on < effective_from):
        db.session.add(IncomeDeclaration(
            cooperative_id=member.cooperative_id, member_id=member.id,
            effective_from=member.joined_on, income_minor=member.declared_income_minor,
            recorded_by_id=actor_id, created_at=now))
    declaration = IncomeDeclaration(cooperative_id=member.cooperative_id, member_id=member.id,
                                    effective_from=effective_from, income_minor=income_minor,
                                    recorded_by_id=actor_id, created_at=now)
    db.session.add(declaration)
    db.session.flush()
    current = income_on(member, today or date.today())
    if current is not None and current != member.declared_income_minor:
        member.declared_income_minor = current
        db.session.flush()
    return declaration


def income_history(member: Member) -> list[IncomeDeclaration]:
    """A member's income declarations, oldest first."""
    return list(db.session.scalars(
        select(IncomeDeclaration).where(IncomeDeclaration.cooperative_id == member.cooperative_id,
                                        IncomeDeclaration.member_id == member.id)
        .order_by(IncomeDeclaration.effective_from, IncomeDeclaration.id)))


def income_on(member: Member, day: date) -> int | None:
    """The member's income on a day, in minor units: the latest declaration in force on that
    day, else the member's declared income (none declared: the declared income as it is)."""
    found = None
    for declaration in income_history(member):
        if declaration.effective_from <= day:
            found = declaration.income_minor
    return member.declared_income_minor if found is None else found


# ---- the list -------------------------------------------------------------------------------

# each key the leading column of an index after cooperative_id (keyset pages stay one range
# scan): the (cooperative_id, search_name | number_key | joined_on, id) indexes
SORTS = Sorts({"name": Member.search_name, "number": Member.number_key,
               "joined": Member.joined_on, "recent": Member.id},
              default="name", tiebreak=Member.id, descending_first=("recent",))


class ListedMember(NamedTuple):
    """A row of the register list: what the page shows and what its cursors need, read as
    plain rows (building full ORM objects for 50 rows cost as much as the rest of the page)."""

    id: int
    member_number: str
    number_key: str
    first_name: str
    middle_name: str | None
    last_name: str
    second_last_name: str | None
    search_name: str
    id_type: str | None
    id_number: str | None
    phone: str | None
    locality: str | None
    status: MemberStatus
    joined_on: date

    sort_name = Member.sort_name


LIST_COLUMNS = tuple(getattr(Member, name) for name in ListedMember._fields)


@dataclass
class MemberPage:
    members: list[ListedMember]
    next_cursor: str | None = None
    prev_cursor: str | None = None
    filters: dict[str, Any] = field(default_factory=dict)


def _listed(stmt) -> list[ListedMember]:
    return [ListedMember._make(row) for row in db.session.execute(stmt)]


def _encode_cursor(member: ListedMember, sort: str) -> str:
    column = SORTS.keys[sort]
    value = getattr(member, column.key)
    if isinstance(value, date):
        value = value.isoformat()
    raw = json.dumps([value, member.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None, sort: str) -> tuple[Any, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, member_id = json.loads(raw)
        member_id = int(member_id)
        if sort == "joined":
            value = date.fromisoformat(value)
        elif sort == "recent":
            value = int(value)
        elif not isinstance(value, str):
            return None
        return value, member_id
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def search_condition(query: str, whole_ids: bool = False):
    """What a search box finds: member number, national ID, phone, or every word of the name
    (accents and case ignored). With `whole_ids` (for people who see IDs masked) a national
    ID is found only by its whole number (leading zeros aside): matching any four digits
    inside it would let them rebuild a masked ID one digit at a time. The "contains" parts
    go through `_contains` (on SQLite, one probe of the FTS5 trigram table)."""
    query = (query or "").strip()
    if not query:
        return None
    conditions = [Member.member_number == query]
    contains: list = []  # alternatives, each a list of (column, text) all of which must hold
    digits = digits_only(query)
    compact = re.sub(r"[\s.\-/]", "", query).upper()
    if digits and len(digits) >= 4 and len(digits) >= len(compact) - 2:
        if whole_ids:
            conditions.append(Member.id_number.in_([compact, "0" + compact, "00" + compact]))
        else:
            contains.append([(Member.id_number, compact)])
        # phones are kept in E.164: a national trunk prefix ("0917…") is not in them; only a
        # query as long as a phone number loses it (a short "0234" stays what it is)
        national = digits.lstrip("0")
        national = national if len(national) >= 6 else digits
        contains.append([(Member.phone, national)])
    elif compact:
        conditions.append(Member.id_number == compact)
    words = fold(query).split()
    if words:
        contains.append([(Member.search_name, w) for w in words])
    return or_(*conditions, *_contains(contains))


# The shortest text the trigram tokenizer can find (shorter words are matched with LIKE)
TRIGRAM = 3


def _contains(alternatives: list[list[tuple[Any, str]]]) -> list:
    """Conditions for "one of these alternatives, each a set of columns that all contain
    their text (case ignored)". PostgreSQL answers LIKE '%…%' from its pg_trgm indexes; on
    SQLite every alternative whose texts are long enough is asked in one MATCH of the FTS5
    trigram table `members_search` (kept by triggers, migration 0027) instead of reading every
    member, and the others keep LIKE (same results: the table holds the same folded name, ID
    and phone, and both ignore case)."""
    def like(column, value):
        return column.like("%" + escape_like(value) + "%", escape="\\")

    if db.engine.dialect.name != "sqlite":
        return [and_(*[like(c, v) for c, v in alternative]) for alternative in alternatives]
    matched, conditions = [], []
    for alternative in alternatives:
        if all(len(v) >= TRIGRAM for _c, v in alternative):
            matched.append(" AND ".join(
                f'{c.key} : "{v.replace(chr(34), chr(34) * 2)}"' for c, v in alternative))
        else:
            conditions.append(and_(*[like(c, v) for c, v in alternative]))
    if matched:
        match = literal_column(MEMBERS_SEARCH).op("MATCH")(
            literal(" OR ".join(f"({m})" for m in matched)))
        conditions.append(Member.id.in_(select(literal_column("rowid"))
                                        .select_from(table(MEMBERS_SEARCH)).where(match)))
    return conditions


def _matching(stmt, cooperative_id: int, q: str, status: str, sector: str, locality: str,
              documents: str, whole_ids: bool):
    """`stmt` kept to the members the list's filters match."""
    condition = search_condition(q, whole_ids)
    if condition is not None:
        stmt = stmt.where(condition)
    if status in MemberStatus._value2member_map_:
        stmt = stmt.where(Member.status == MemberStatus(status))
    if sector in Sector._value2member_map_:
        stmt = stmt.where(Member.sector == Sector(sector))
    if locality:
        stmt = stmt.where(Member.locality_key == fold(locality))
    if documents == "missing":
        stmt = stmt.where(missing_documents_condition(cooperative_id))
    return stmt


def list_members(cooperative_id: int, *, q: str = "", status: str = "", sector: str = "",
                 locality: str = "", documents: str = "", sort: str = "name",
                 dir: str = "", after: str | None = None, before: str | None = None,  # noqa: A002
                 per_page: int = 50, whole_ids: bool = False) -> MemberPage:
    """One page of the register, keyset-paginated (no OFFSET, no COUNT over the table), in
    the order chosen from SORTS (`dir` "asc" or "desc"; anything else: the key's own).
    `documents="missing"` keeps the members who lack an item of the checklist; `whole_ids`
    matches an ID only by the whole number (for those who see IDs masked)."""
    chosen = SORTS.read({"sort": sort, "dir": dir})
    sort, descending = chosen.key, chosen.descending
    column = SORTS.keys[sort]
    stmt = _matching(select(*LIST_COLUMNS).where(Member.cooperative_id == cooperative_id),
                     cooperative_id, q, status, sector, locality, documents, whole_ids)

    def forward(asc: bool):
        return (column.asc(), Member.id.asc()) if asc else (column.desc(), Member.id.desc())

    def beyond(value, member_id, greater: bool):
        # a row-value comparison, which both databases answer with one range scan of the
        # (cooperative, sort key, id) index; the equivalent OR makes PostgreSQL filter instead
        key, cursor = tuple_(column, Member.id), tuple_(literal(value), literal(member_id))
        return key > cursor if greater else key < cursor

    ascending = not descending
    before_key = _decode_cursor(before, sort)
    after_key = _decode_cursor(after, sort)
    if before_key is not None:
        rows = _listed(stmt.where(beyond(*before_key, greater=not ascending))
                       .order_by(*forward(not ascending)).limit(per_page + 1))
        has_more_before = len(rows) > per_page
        rows = list(reversed(rows[:per_page]))
        page = MemberPage(rows)
        page.next_cursor = _encode_cursor(rows[-1], sort) if rows else None
        page.prev_cursor = _encode_cursor(rows[0], sort) if rows and has_more_before else None
        return page
    if after_key is not None:
        stmt = stmt.where(beyond(*after_key, greater=ascending))
    rows = _listed(stmt.order_by(*forward(ascending)).limit(per_page + 1))
    page = MemberPage(rows[:per_page])
    if len(rows) > per_page:
        page.next_cursor = _encode_cursor(rows[per_page - 1], sort)
    if after_key is not None and page.members:
        page.prev_cursor = _encode_cursor(page.members[0], sort)
    return page


_DISTINCT_LOCALITIES = text("""
WITH RECURSIVE keys(k) AS (
    SELECT min(locality_key) FROM members WHERE cooperative_id = :cooperative_id
    UNION ALL
    SELECT (SELECT min(locality_key) FROM members
            WHERE cooperative_id = :cooperative_id AND locality_key > keys.k)
    FROM keys WHERE keys.k IS NOT NULL
)
SELECT k, (SELECT locality FROM members
           WHERE cooperative_id = :cooperative_id AND locality_key = keys.k LIMIT 1)
FROM keys WHERE k IS NOT NULL
""")


_localities_cache: dict[int, tuple[float, list[str]]] = {}


def localities(cooperative_id: int) -> list[str]:
    """The localities in use, for the filter: one probe of the (cooperative, locality) index
    per distinct locality (a "loose index scan"), so a million members cost what a hundred
    localities cost, not a scan of the register. Kept for LOCALITIES_CACHE_SECONDS, because
    every list page shows them and they change only when a member moves."""
    seconds = current_app.config["LOCALITIES_CACHE_SECONDS"]
    now = time.monotonic()
    cached = _localities_cache.get(cooperative_id)
    if seconds and cached is not None and cached[0] > now:
        return cached[1]
    rows = db.session.execute(_DISTINCT_LOCALITIES, {"cooperative_id": cooperative_id}).all()
    found = sorted({key: label for key, label in rows}.values(), key=fold)
    if seconds:
        _localities_cache[cooperative_id] = (now + seconds, found)
    return found


def forget_localities(cooperative_id: int) -> None:
    _localities_cache.pop(cooperative_id, None)


SEARCH_COUNT_CAP = 1000


def count_matching(cooperative_id: int, *, q: str = "", status: str = "", sector: str = "",
                   locality: str = "", documents: str = "", whole_ids: bool = False) -> int:
    """How many members the list's filters match (every page of it), counted in SQL. The
    filters by status, sector, locality and documents count along their indexes; a text
    search (a scan of the names) counts up to SEARCH_COUNT_CAP + 1 and stops: beyond it the
    page says "more than 1,000" rather than scan a million names on every search."""
    stmt = _matching(select(Member.id).where(Member.cooperative_id == cooperative_id),
                     cooperative_id, q, status, sector, locality, documents, whole_ids)
    if q.strip():
        stmt = stmt.limit(SEARCH_COUNT_CAP + 1)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def count_members(cooperative_id: int) -> int:
    """How many members the register holds (every status): the total over the list."""
    return db.session.scalar(select(func.count()).select_from(Member).where(
        Member.cooperative_id == cooperative_id)) or 0
