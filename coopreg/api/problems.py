"""Errors of the API as `application/problem+json` (RFC 9457): a stable `type` per kind of
error (scripts branch on it), a `title` and `detail` in the language of Accept-Language, and
for invalid input the fields at fault (`errors`: field → messages)."""

from __future__ import annotations

from flask import Response, json
from flask_babel import lazy_gettext as _l

PROBLEM_TYPES = {
    400: ("bad-request", _l("The request is not valid.")),
    401: ("unauthenticated", _l("A valid API token is needed (Authorization: Bearer …).")),
    403: ("forbidden", _l("This token's role or scope does not allow this.")),
    404: ("not-found", _l("There is no such record in this cooperative.")),
    405: ("method-not-allowed", _l("This method is not allowed here.")),
    409: ("conflict", _l("The request conflicts with the record as it is now.")),
    412: ("precondition-failed", _l("The record changed since you read it (If-Match).")),
    413: ("too-large", _l("The upload is too large.")),
    415: ("unsupported-media-type", _l("This content type is not accepted here.")),
    422: ("invalid", _l("Some values are not valid.")),
    428: ("precondition-required", _l("Send If-Match with the ETag you read.")),
    429: ("too-many-requests", _l("Too many requests: wait and try again.")),
    500: ("server-error", _l("The server failed; nothing was saved.")),
    503: ("unavailable", _l("The service is unavailable for a moment.")),
}


def problem_type(slug: str) -> str:
    return f"/api/v1/problems/{slug}"


def problem(status: int, detail: str | None = None, *, slug: str | None = None,
            errors: dict | None = None, headers: dict | None = None,
            extra: dict | None = None) -> Response:
    """`extra`: members of the problem beyond RFC 9457's (e.g. the possible duplicates)."""
    known_slug, title = PROBLEM_TYPES.get(status, ("error", _l("The request failed.")))
    body = {"type": problem_type(slug or known_slug), "title": str(title), "status": status}
    if detail:
        body["detail"] = str(detail)
    if errors:
        body["errors"] = errors
    body.update(extra or {})
    response = Response(json.dumps(body), status=status,
                        content_type="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
