"""The one domain error type that services raise and views put on a form."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule was broken. `field` names the form field it concerns, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message
