"""What every resource of the API shares: a blueprint that authenticates the token and answers
problem+json, keyset cursors, and the list envelope."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from functools import wraps

from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.exc import DataError

from coopreg.api.auth import authenticate_request
from coopreg.core.tenancy import get_scoped_or_404


def api_blueprint(name: str, description: str) -> Blueprint:
    from werkzeug.exceptions import HTTPException

    from coopreg.api import http_problem
    from coopreg.api.problems import PROBLEM_TYPES

    blp = Blueprint(f"api_{name}", __name__, description=description)
    blp.before_request(authenticate_request)
    # by code too: the app's own handlers for 404, 500… would otherwise answer in HTML
    for code in PROBLEM_TYPES:
        blp.register_error_handler(code, http_problem)
    blp.register_error_handler(HTTPException, http_problem)
    blp.register_error_handler(OverflowError, out_of_range)
    blp.register_error_handler(DataError, out_of_range)
    return blp


def out_of_range(_error):
    """A number the database cannot hold (an id past PostgreSQL's integer): as the pages say
    it, in problem+json."""
    from coopreg.api.problems import problem
    from coopreg.extensions import db

    db.session.rollback()
    return problem(400, _("A value is out of range. Nothing was saved."), slug="out-of-range")


def found(model, argument: str, lookup=None):
    """404 for an id outside the token's cooperative (or what `lookup(id)` lets it see)
    before the body is even read (so a foreign id never answers with a validation error that
    would tell it exists)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if lookup is None:
                get_scoped_or_404(model, kwargs[argument])
            else:
                lookup(kwargs[argument])
            return view(*args, **kwargs)
        return wrapped
    return decorator


class PageArgs(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500),
                           metadata={"description": "How many items, 1 to 500."})
    cursor = fields.String(load_default=None, validate=validate.Length(max=200),
                           metadata={"description": "`next_cursor` of the previous page."})


def utc_iso(moment: datetime | None) -> str | None:
    """A moment in ISO 8601 with its offset (SQLite hands back naive UTC)."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def encode_cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None):
    """The value a cursor carries, or None for no cursor; ValueError for a forged one."""
    if not cursor:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, json.JSONDecodeError) as error:
        raise ValueError("not a cursor") from error


def where_given(stmt, model, args: dict, *names: str):
    """`stmt` narrowed to the rows whose columns `names` equal the filters given in `args`
    (a filter left out, None or empty, narrows nothing; a status is given as its value)."""
    for name in names:
        if args.get(name):
            column = getattr(model, name)
            enum_class = getattr(column.type, "enum_class", None)
            value = args[name] if enum_class is None else enum_class(args[name])
            stmt = stmt.where(column == value)
    return stmt


def newest_first(stmt, model, args: dict) -> dict:
    """One page of `stmt` (already scoped and filtered), newest first, after the cursor the
    previous page gave (the id of its last row); a cursor this API did not give is a 400."""
    from flask import abort

    from coopreg.extensions import db

    try:
        after = decode_cursor(args["cursor"])
    except ValueError:
        after = "forged"
    if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
        abort(400, _("The cursor is not one this API gave."))
    stmt = stmt.order_by(model.id.desc()).limit(args["limit"] + 1)
    if after is not None:
        stmt = stmt.where(model.id < after)
    rows = list(db.session.scalars(stmt))
    more = len(rows) > args["limit"]
    rows = rows[:args["limit"]]
    return {"items": rows, "next_cursor": encode_cursor(rows[-1].id) if more and rows else None}


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item), required=True),
        "next_cursor": fields.String(allow_none=True, required=True, metadata={
            "description": "Pass as `cursor` for the next page; null on the last one."}),
    }, name=name)


class AmountString(fields.Decimal):
    """An amount as a decimal string ("2500.00"): a JSON number would pass through a binary
    float on some clients, which money never does."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError(_("Write the amount as a string, e.g. \"2500.00\"."))
        return super()._deserialize(value, attr, data, **kwargs)
