"""The page served while the database does not answer: 503 with Retry-After, in the
browser's language, made without the database (no user, no cooperative, no template that
asks for either), so it cannot fail the way the page it replaces did."""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, Response, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from coopreg.core.languages import LANGUAGES

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30

PAGE = """<!doctype html>
<html lang="{lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · coopreg</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;
color:#1f2933;line-height:1.5}}h1{{font-size:1.4rem}}</style></head>
<body><main><h1>{title}</h1><p>{message}</p><p>{retry}</p></main></body>
</html>
"""


def page(status: int = 503) -> Response:
    """The page, in the language the browser asks for (English otherwise)."""
    lang = request.accept_languages.best_match(LANGUAGES) or "en"
    with force_locale(lang):
        html = PAGE.format(
            lang=lang,
            title=escape(_("The service is unavailable for a moment")),
            message=escape(_("The database is not answering. Nothing was saved by this "
                             "request; what was saved before is safe.")),
            retry=escape(_("Try again in a minute. If it lasts, tell your admin.")))
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def database_unreachable(error: BaseException) -> bool:
    """The connection failed or was lost (a stopped server, a refused or dropped
    connection, no free connection in the pool): not a broken rule of a query."""
    if isinstance(error, PoolTimeout):
        return True
    if getattr(error, "connection_invalidated", False):
        return True
    original = getattr(error, "orig", None)
    if original is None:
        return False
    name = type(original).__module__ + "." + type(original).__name__
    if name in ("psycopg.OperationalError", "psycopg.InterfaceError"):
        return True  # connection failures are these exact classes, errors of a query subclass
    if name == "sqlite3.OperationalError":
        text = str(original)
        return "unable to open database file" in text or "disk I/O error" in text
    return False


def install(app: Flask) -> None:
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _database_down(error):
        from coopreg.extensions import db

        with contextlib.suppress(Exception):  # the connection may be gone already
            db.session.rollback()
        if not database_unreachable(error):
            raise error
        log.error("the database does not answer: %s", str(error).splitlines()[0])
        if request.endpoint == "core.health":  # monitors read JSON
            return jsonify(status="unavailable", checks={"database": "unavailable"}), 503
        return page()
