"""The audit log speaks of every audited column by its label, in the reader's language, and
formats its values (statuses, yes/no, dates, money, shares): a model that gains a column
without a label fails here, not in front of an auditor."""

from __future__ import annotations

import enum
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from coopreg.core.audit_text import ENTITY_LABELS, FIELD_LABELS, HIDDEN, _value
from coopreg.core.languages import speaking
from coopreg.extensions import db

LANGUAGES = ("es", "fr", "pt")


def _audited_columns():
    """(table, column key, column type) of every column the audit log shows."""
    found = []
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        if not getattr(model, "__audited__", False):
            continue
        exclude = set(getattr(model, "__audit_exclude__", ())) | {"created_at", "updated_at"}
        for attr in mapper.column_attrs:
            key = attr.key
            if key in exclude or key in HIDDEN or key.endswith("_id"):
                continue
            found.append((model.__tablename__, key, attr.columns[0].type))
    return found


def _catalogue(language):
    with open(f"coopreg/translations/{language}/LC_MESSAGES/messages.po", "rb") as po:
        return read_po(po)


def test_there_are_audited_models_to_walk(app):
    columns = _audited_columns()
    assert len({table for table, _key, _type in columns}) > 30 and len(columns) > 200


def test_every_audited_column_and_record_has_a_label(app):
    unlabelled = sorted({f"{table}.{key}" for table, key, _type in _audited_columns()
                         if key not in FIELD_LABELS})
    assert unlabelled == [], f"audited columns without a label in FIELD_LABELS: {unlabelled}"
    tables = {table for table, _key, _type in _audited_columns()}
    assert sorted(tables - set(ENTITY_LABELS)) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_audit_label_is_translated(app, language):
    catalogue = _catalogue(language)
    labels = {str(label._args[0]) if hasattr(label, "_args") else str(label)
              for label in list(FIELD_LABELS.values()) + list(ENTITY_LABELS.values())}
    untranslated = sorted(label for label in labels
                          if catalogue.get(label) is None or not catalogue.get(label).string)
    assert untranslated == [], f"{language}: {untranslated}"


def _sample(table, key, column_type):
    """A value of the column as the audit log stores it, and whether it must read other than
    it is stored (a code, a boolean, an ISO date, minor units, basis points)."""
    if isinstance(column_type, sa.Boolean):
        return True
    enum_class = getattr(column_type, "enum_class", None)
    if enum_class is not None and issubclass(enum_class, enum.Enum):
        return next(iter(enum_class)).value
    if isinstance(column_type, sa.DateTime):
        return datetime(2026, 11, 3, 14, 5).isoformat()
    if isinstance(column_type, sa.Date):
        return date(2026, 11, 3).isoformat()
    if key.endswith("_minor") or key.endswith("_bp"):
        return 1234567
    return None


@pytest.mark.parametrize("language", LANGUAGES)
def test_statuses_booleans_dates_money_and_shares_are_formatted(app, language):
    checked = 0
    with app.test_request_context(), speaking(language):
        for table, key, column_type in _audited_columns():
            stored = _sample(table, key, column_type)
            if stored is None:
                continue
            shown = _value(table, key, stored, "CRC")
            checked += 1
            assert shown != str(stored) and shown, (table, key, stored, shown)
            if isinstance(stored, str) and stored[:4] == "2026":
                assert "2026-11" not in shown, (table, key, shown)
            if key.endswith("_minor"):
                assert "₡" in shown, (table, key, shown)
            if key.endswith("_bp"):
                assert "%" in shown, (table, key, shown)
    assert checked > 60
