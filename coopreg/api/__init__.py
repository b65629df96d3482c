"""The JSON API, `/api/v1`: the same services as the pages, reached with a token.

Built with flask-smorest: the OpenAPI 3 document is generated from the views' marshmallow
schemas (which also validate every input), served at `/api/v1/openapi.json` and shown as a
page at `/api/v1/docs` rendered by the app itself (no CDN). Errors are problem+json
(`coopreg/api/problems.py`). Views stay thin: they call the areas' services inside the
request's unit of work, scoped to the token's cooperative like the pages.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api as SmorestApi
from limits import parse as parse_limit
from werkzeug.exceptions import HTTPException

from coopreg.api.messages import translate_errors
from coopreg.api.problems import problem

API_PREFIX = "/api/v1"


class Api(SmorestApi):
    def _register_error_handlers(self):
        """flask-smorest would answer every error of the whole app in JSON; the pages keep
        their own error pages, and the API's blueprints answer problem+json (below)."""




def http_problem(error: HTTPException):
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    errors = None
    if isinstance(messages, dict):  # webargs: {location: {field: [messages]}}
        errors = {}
        for fields in messages.values():
            if isinstance(fields, dict):
                errors.update(translate_errors(fields))
    # werkzeug's stock sentence ("The requested URL was not found…") says less than the
    # title, in English only: a detail is given only when the view wrote one
    stock = type(error).description
    detail = error.description if error.description != stock and errors is None else None
    headers = {}
    retry = getattr(error, "retry_after", None)
    if retry:
        headers["Retry-After"] = str(retry)
    return problem(error.code or 500, detail if isinstance(detail, str) else None,
                   errors=errors, headers=headers)


PROBLEM_SCHEMA = {
    "type": "object", "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "Stable per kind of error."},
        "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "description": "Invalid input: field → messages.",
                   "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}


def _document_problems(api: Api) -> None:
    """Every error answer is documented as what it is: application/problem+json."""
    api.spec.components.schema("Problem", PROBLEM_SCHEMA)
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for name in ("UNPROCESSABLE_ENTITY", "DEFAULT_ERROR", "PRECONDITION_FAILED",
                 "PRECONDITION_REQUIRED"):
        response = api.spec.components.responses.get(name)
        if response is not None:
            response["content"] = content


NOTIFY_DOC = {
    "summary": "A provider tells of a payment (signed with its own secret, no token).",
    "description": "Headers `X-Coopreg-Timestamp` (Unix seconds, within the window) and "
                   "`X-Coopreg-Signature: sha256=<hex HMAC-SHA256 of '<timestamp>.<raw body>'>`. "
                   "Idempotent on `transaction_id`: the same transaction again answers 200. "
                   "The payment becomes a statement line of the provider, matched to a receipt "
                   "(or made one when `payer` names one member: member number, national ID or "
                   "phone).",
    "tags": ["api_payments"],
    "parameters": [{"in": "path", "name": "provider", "required": True,
                    "schema": {"type": "string"}}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["transaction_id", "amount", "currency", "paid_at"],
        "properties": {
            "transaction_id": {"type": "string"},
            "amount": {"type": "string", "example": "2500.00"},
            "currency": {"type": "string", "example": "CRC"},
            "paid_at": {"type": "string", "example": "2026-12-04"},
            "payer": {"type": "string"}, "description": {"type": "string"}}}}}},
    "responses": {
        "201": {"description": "Received (and matched when `matched`)."},
        "200": {"description": "This transaction was received before."},
        "default": {"$ref": "#/components/responses/DEFAULT_ERROR"}},
}


def init_api(app: Flask) -> None:
    from coopreg.api import agreements, batches, members, money, receipts
    from coopreg.api.docs import bp as docs_bp
    from coopreg.api.inbound import bp as inbound_bp
    from coopreg.api.payments import bp as payments_bp
    from coopreg.auth.access import ACCESS_ATTR
    from coopreg.extensions import csrf

    try:
        parse_limit(str(app.config["API_RATE_LIMIT"]))
    except ValueError:
        raise RuntimeError("COOPREG_API_RATE_LIMIT must read like '600 per minute'; it is "
                           f"{app.config['API_RATE_LIMIT']!r}") from None
    app.config.setdefault("API_TITLE", "coopreg")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = Api()  # one per app: the document describes the app it serves
    app.extensions["coopreg_api"] = api
    api.init_app(app, spec_kwargs={"info": {"description": (
        "The JSON API of coopreg. Authenticate with `Authorization: Bearer <token>` "
        "(`coopreg tokens create`, or the API tokens page of your account). Errors are "
        "application/problem+json (RFC 9457) in the language of Accept-Language.")}})
    api.spec.components.security_scheme("token", {"type": "http", "scheme": "bearer"})
    for module in (members, agreements, money, batches, receipts):
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp, url_prefix=API_PREFIX + module.PREFIX)
    _document_problems(api)
    app.register_blueprint(docs_bp, url_prefix=API_PREFIX)
    csrf.exempt(payments_bp)  # signed by the provider; never a browser's form
    app.register_blueprint(payments_bp, url_prefix=API_PREFIX)
    csrf.exempt(inbound_bp)  # signed by the message gateway, like the payments
    app.register_blueprint(inbound_bp, url_prefix=API_PREFIX)
    notify_rule = next(rule for rule in app.url_map.iter_rules()
                       if rule.endpoint == "api_payments.notify")
    api.spec.path(rule=notify_rule, operations={"post": NOTIFY_DOC})
    # the document itself is public, as the pages' login page is
    serve_spec = app.view_functions["api-docs.openapi_json"]

    def openapi_json():
        return serve_spec()

    setattr(openapi_json, ACCESS_ATTR, ("public",))
    app.view_functions["api-docs.openapi_json"] = openapi_json
