"""Checks shared by every area's services for values a person typed: text with a length
limit, and a choice among an enum's values. Each raises `DomainError` naming the field."""

from __future__ import annotations

import enum
import re
from typing import Any, TypeVar

from flask_babel import gettext as _

from coopreg.core.errors import DomainError

E = TypeVar("E", bound=enum.Enum)


def clean_text(value: Any, limit: int, field: str, label: str, *, required: bool = False,
               whitespace: str = r"\s+") -> str | None:
    """The text with runs of `whitespace` folded to one space and trimmed (None when empty);
    refused when required and empty, or longer than `limit` characters."""
    text = re.sub(whitespace, " ", str(value or "")).strip() or None
    if text is None and required:
        raise DomainError(_("%(label)s is required.", label=label), field=field)
    if text is not None and len(text) > limit:
        raise DomainError(_("%(label)s is too long (at most %(n)d characters).", label=label,
                            n=limit), field=field)
    return text


def choice(enum_cls: type[E], value: Any, field: str, label: str) -> E:
    """`value` (a member of the enum, or its value) as a member of `enum_cls`."""
    try:
        return enum_cls(getattr(value, "value", value))
    except ValueError:
        raise DomainError(_("%(label)s must be one of: %(choices)s.", label=label,
                            choices=", ".join(m.value for m in enum_cls)),
                          field=field) from None
