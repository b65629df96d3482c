"""The words people read for the codes the database keeps (statuses, kinds): one table.

Each area declares its labels once, where its forms are (`labels_for` for an enum,
`codes_for` for plain string codes such as an answer line's "accepted"), and everything that
shows a code to a person goes through here: `display(value)` for badges, lists and the audit
log (the label as declared), `label(value)` inside sentences ("El socio no está activo
(suspendido)": lower-case first letter). A page never shows the stored code "suspended".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

_LABELS: dict[type[enum.Enum], Mapping] = {}
_CODES: dict[str, Mapping[str, Any]] = {}

M = TypeVar("M", bound=Mapping)


def labels_for(enum_type: type[enum.Enum], labels: M) -> M:
    """Declare the (lazily translated) labels of an enum's members; returns them unchanged.
    Keys may be the members or their values."""
    _LABELS[enum_type] = {enum_type(k) if not isinstance(k, enum_type) else k: v
                          for k, v in labels.items()}
    return labels


def codes_for(group: str, labels: M) -> M:
    """Declare the labels of plain string codes of a group ("ack_result": accepted…)."""
    _CODES[group] = labels
    return labels


def code_groups() -> frozenset[str]:
    """The groups of plain string codes declared (a column's name where the codes are kept)."""
    return frozenset(_CODES)


def code_values(group: str) -> tuple[str, ...]:
    """The codes declared in a group of plain string codes."""
    return tuple(str(code) for code in _CODES.get(group, {}))


def enum_types() -> dict[type[enum.Enum], Mapping]:
    return dict(_LABELS)


def display(value: Any, group: str | None = None) -> str:
    """The label of a code as declared (badges, lists, the audit log), in the current
    language; an enum member, or a string code of `group` (or of any enum whose values
    include it). The code itself only when nothing declares it."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        labels = _LABELS.get(type(value))
        if labels is not None and value in labels:
            return str(labels[value])
        return str(value.value)
    if group is not None:
        labels = _CODES.get(group)
        if labels is not None and value in labels:
            return str(labels[value])
        for enum_type in _LABELS:
            if enum_type.__name__ == group:
                try:
                    return display(enum_type(value))
                except ValueError:
                    break
    return str(value)


def label(value: enum.Enum) -> str:
    """The label of a code in the current language, as it reads inside a sentence ("is
    already sealed", "ya está sellado": lower-case first letter); the code itself if no label
    is declared. Badges and lists use `display`."""
    labels = _LABELS.get(type(value))
    if labels is None or value not in labels:
        return str(getattr(value, "value", value))
    text = str(labels[value])
    return text[:1].lower() + text[1:]
