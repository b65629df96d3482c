"""The one domain error type that services raise and views put on a form."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule was broken. `field` names the form field it concerns, if any;
    `status_code` is the answer a page gives with it."""

    status_code = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class KeyReused(DomainError):
    """A form's one-time (idempotency) key came back with other content than the first time:
    refused with 409 semantics, never matched to what the key recorded before."""

    status_code = 409
