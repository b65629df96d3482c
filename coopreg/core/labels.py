"""The words people read for the codes the database keeps (statuses, kinds).

Each area declares its labels once, where its forms are (`labels_for`), and services use
`label(value)` inside their sentences, so a Spanish page says "El socio no está activo
(Suspendido)" and never shows the stored code "suspended".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

_LABELS: dict[type[enum.Enum], Mapping] = {}

M = TypeVar("M", bound=Mapping)


def labels_for(enum_type: type[enum.Enum], labels: M) -> M:
    """Declare the (lazily translated) labels of an enum's members; returns them unchanged."""
    _LABELS[enum_type] = labels
    return labels


def label(value: enum.Enum) -> str:
    """The label of a code in the current language, as it reads inside a sentence ("is
    already sealed", "ya está sellado": lower-case first letter); the code itself if no label
    is declared. Badges and lists use the declared labels as they are."""
    labels = _LABELS.get(type(value))
    if labels is None or value not in labels:
        return str(getattr(value, "value", value))
    text = str(labels[value])
    return text[:1].lower() + text[1:]
