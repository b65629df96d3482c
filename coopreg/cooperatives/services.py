"""Cooperatives and their settings."""

from __future__ import annotations

import re
from datetime import date

from babel import Locale
from babel.numbers import UnknownCurrencyError, get_currency_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.core.errors import DomainError
from coopreg.core.languages import speaking
from coopreg.core.validation import clean_text
from coopreg.extensions import db

# the checklist a new cooperative starts with, named in its language (its data from then on)
DEFAULT_DOCUMENTS = (_l("Copy of national ID"), _l("Signed membership form"),
                     _l("Proof of address"))


def _check_country(country: str) -> str:
    country = (country or "").strip().upper()
    # ZZ is CLDR's "unknown region", not a country
    if (not re.fullmatch(r"[A-Z]{2}", country) or country == "ZZ"
            or country not in Locale("en").territories):
        raise DomainError(_("“%(value)s” is not an ISO 3166 country code (for example CR, PH, "
                            "BR).", value=country), field="country")
    return country


def _check_currency(currency: str) -> str:
    currency = (currency or "").strip().upper()
    try:
        if not re.fullmatch(r"[A-Z]{3}", currency) or get_currency_name(
                currency, locale="en") == currency:
            raise UnknownCurrencyError(currency)
    except UnknownCurrencyError:
        raise DomainError(_("“%(value)s” is not an ISO 4217 currency code (for example CRC, "
                            "PHP, BRL).", value=currency), field="currency") from None
    return currency


def _check_pattern(pattern: str | None) -> str | None:
    pattern = (pattern or "").strip() or None
    if pattern:
        try:
            re.compile(pattern)
        except re.error:
            raise DomainError(_("The ID pattern is not a valid regular expression."),
                              field="id_pattern") from None
    return pattern


def create_cooperative(code: str, name: str, country: str, currency: str,
                       locale: str = "en", id_label: str | None = None,
                       id_pattern: str | None = None) -> Cooperative:
    """A new cooperative with the default documents checklist. Codes are unique, upper-case."""
    code = (code or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9_-]{2,20}", code):
        raise DomainError(_("A code has 2 to 20 letters, digits, - or _."), field="code")
    if db.session.scalar(select(Cooperative.id).where(func.upper(Cooperative.code) == code)):
        raise DomainError(_("A cooperative with code %(code)s already exists.", code=code),
                          field="code")
    name = (name or "").strip()
    if not name:
        raise DomainError(_("The name is required."), field="name")
    cooperative = Cooperative(code=code, name=name, country=_check_country(country),
                              currency=_check_currency(currency), locale=locale or "en",
                              id_label=(id_label or "").strip() or None,
                              id_pattern=_check_pattern(id_pattern))
    db.session.add(cooperative)
    db.session.flush()
    with speaking(cooperative.locale):
        for position, doc in enumerate(DEFAULT_DOCUMENTS):
            db.session.add(DocumentType(cooperative_id=cooperative.id, name=str(doc),
                                        position=position))
    db.session.flush()
    return cooperative


def update_settings(cooperative: Cooperative, name: str, locale: str, id_label: str | None,
                    id_pattern: str | None, contact: str | None = None,
                    founded_on: date | None = None, today: date | None = None,
                    tax_number: str | None = None) -> None:
    """The settings an admin may change (code, country and currency are fixed once money and
    IDs depend on them). The founding date cannot be in the future."""
    contact = clean_text(contact, 300, "contact", _("The contact"))
    if founded_on is not None and founded_on > (today or date.today()):
        raise DomainError(_("The date is in the future."), field="founded_on")
    cooperative.founded_on = founded_on
    name = (name or "").strip()
    if not name:
        raise DomainError(_("The name is required."), field="name")
    cooperative.name = name
    cooperative.locale = locale
    cooperative.id_label = (id_label or "").strip() or None
    cooperative.id_pattern = _check_pattern(id_pattern)
    cooperative.contact = contact
    cooperative.tax_number = clean_text(tax_number, 40, "tax_number", _("The tax number"))
    db.session.flush()


def add_document_type(cooperative: Cooperative, name: str) -> DocumentType:
    name = (name or "").strip()
    if not name:
        raise DomainError(_("The document's name is required."), field="name")
    exists = db.session.scalar(select(DocumentType).where(
        DocumentType.cooperative_id == cooperative.id,
        func.lower(DocumentType.name) == name.lower()))
    if exists is not None:
        if not exists.active:
            exists.active = True
            db.session.flush()
            return exists
        raise DomainError(_("This document is already on the checklist."), field="name")
    position = (db.session.scalar(select(func.max(DocumentType.position)).where(
        DocumentType.cooperative_id == cooperative.id)) or 0) + 1
    document_type = DocumentType(cooperative_id=cooperative.id, name=name, position=position)
    db.session.add(document_type)
    db.session.flush()
    return document_type


def set_document_type_active(document_type: DocumentType, active: bool) -> None:
    """Retire a checklist item (kept for history) or bring it back."""
    document_type.active = active
    db.session.flush()


def find_cooperative(code: str) -> Cooperative | None:
    return db.session.scalar(select(Cooperative).where(
        func.upper(Cooperative.code) == (code or "").strip().upper()))
