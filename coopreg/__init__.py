"""coopreg: the back-office of cooperatives that register their members collectively with a
social security institution."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, has_request_context, render_template, request
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.orm import joinedload
from werkzeug.middleware.proxy_fix import ProxyFix

import config as config_module
from coopreg.core.languages import LANGUAGE_COOKIE, LANGUAGES
from coopreg.extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: type | None = None, **overrides) -> Flask:
    """Build the app. `config` is a class from config.py (default: from COOPREG_CONFIG)."""
    config = config or config_module.config_from_env()
    config.validate()
    app = Flask(__name__, instance_path=str(config_module.INSTANCE_DIR))
    app.config.from_object(config)
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is not set")
    from coopreg.auth.login_limits import check_settings
    from coopreg.core.security import keep_files_private

    check_settings(app.config)

    keep_files_private(app)  # also makes EXPORT_DIR and IMPORT_DIR (0700)
    if app.config.get("BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    _init_extensions(app)
    if app.config.get("JOBS_IMMEDIATE"):
        from coopreg.jobs.queue import huey

        huey.immediate = True
    _register_blueprints(app)
    _connect_areas()
    _register_template_helpers(app)
    _register_error_handlers(app)

    from coopreg.cli import register_commands

    register_commands(app)
    return app


def _select_locale() -> str:
    """The user's own choice; else the language chosen on the login page (a cookie); else
    the cooperative's; else the browser's (Accept-Language); else English."""
    if not has_request_context():
        return "en"  # the CLI speaks English
    token = getattr(g, "api_token", None)
    if token is not None:  # a script says it in Accept-Language; else its owner's language
        asked = request.accept_languages.best_match(LANGUAGES)
        if asked:
            return asked
        if token.user.locale in LANGUAGES:
            return token.user.locale
        cooperative = getattr(token, "cooperative", None)  # a desk's token has none
        return cooperative.locale[:2] if cooperative is not None \
            and cooperative.locale[:2] in LANGUAGES else "en"
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    cooperative = getattr(g, "cooperative", None)
    if cooperative is not None and cooperative.locale[:2] in LANGUAGES:
        return cooperative.locale[:2]
    return request.accept_languages.best_match(LANGUAGES) or "en"


def _init_extensions(app: Flask) -> None:
    from coopreg.core import unit_of_work
    from coopreg.core.security import (
        add_security_headers,
        configure_sqlite,
        read_pages_without_the_write_lock,
    )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.login_message_category = "info"
    # "Please log in to access this page." in the language of the page (the catalogue has it)
    login_manager.localize_callback = gettext
    babel.init_app(app, locale_selector=_select_locale)
    limiter.init_app(app)
    from coopreg.core import ratelimits

    ratelimits.install(app)
    with app.app_context():
        configure_sqlite(db.engine)
    add_security_headers(app)
    unit_of_work.register(app)
    read_pages_without_the_write_lock(app)  # before the user is loaded (the first query)

    from coopreg.auth.models import Membership, User

    @login_manager.user_loader
    def _load_user(token: str):
        # the user, their memberships and those cooperatives in one query: every request
        # needs all three (load_request_context re-checks the role each time)
        return db.session.scalars(
            db.select(User).where(User.session_token == token, User.active.is_(True))
            .options(joinedload(User.memberships).joinedload(Membership.cooperative))
        ).unique().first()

    from coopreg.auth.access import load_request_context

    app.before_request(load_request_context)


def _register_blueprints(app: Flask) -> None:
    from coopreg.admin.views import bp as admin_bp
    from coopreg.agreements.views import bp as agreements_bp
    from coopreg.auth.views import bp as auth_bp
    from coopreg.batches.views import bp as batches_bp
    from coopreg.contributions.views import bp as contributions_bp
    from coopreg.core import sequences  # noqa: F401 - registers its model
    from coopreg.federations.desk_views import bp as desk_bp
    from coopreg.federations.platform_views import bp as platform_bp
    from coopreg.federations.views import bp as federations_bp
    from coopreg.field.views import bp as field_bp
    from coopreg.home import bp as core_bp
    from coopreg.imports.views import bp as imports_bp
    from coopreg.jobs.views import bp as jobs_bp
    from coopreg.members import versions  # noqa: F401 - registers its flush hook
    from coopreg.members.views import bp as members_bp
    from coopreg.messaging import events, jobs  # noqa: F401 - listens to the areas below
    from coopreg.messaging.views import bp as messaging_bp
    from coopreg.selfservice.views import bp as selfservice_bp
    from coopreg.selfservice.views import office as selfservice_office_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(members_bp, url_prefix="/members")
    app.register_blueprint(agreements_bp, url_prefix="/agreements")
    app.register_blueprint(imports_bp, url_prefix="/imports")
    app.register_blueprint(jobs_bp, url_prefix="/jobs")
    app.register_blueprint(batches_bp, url_prefix="/batches")
    app.register_blueprint(contributions_bp, url_prefix="/contributions")
    app.register_blueprint(federations_bp, url_prefix="/federation")
    app.register_blueprint(desk_bp, url_prefix="/desk")
    app.register_blueprint(platform_bp, url_prefix="/platform")
    app.register_blueprint(messaging_bp, url_prefix="/messages")
    app.register_blueprint(selfservice_bp, url_prefix="/me")
    app.register_blueprint(selfservice_office_bp, url_prefix="/self-service")
    app.register_blueprint(field_bp, url_prefix="/field")

    from coopreg.api import init_api

    init_api(app)


def _connect_areas() -> None:
    """Areas of one layer never import each other: what one offers another is connected
    here, above them both."""
    from coopreg.agreements.documents import SEALED_BATCHES_CARRYING
    from coopreg.batches.services import (
        BATCH_PAYMENT,
        BATCH_SOURCES,
        BATCH_TOTALS,
        remittance_files,
        sealed_batches_carrying,
    )
    from coopreg.contributions.forms import METHOD_CHOICES
    from coopreg.contributions.services import (
        ReceiptInput,
        owed_by_members,
        record_receipt,
        remittance_batch_lines,
        remittance_payment,
        remittance_total,
    )
    from coopreg.contributions.views import REMITTANCE_FILES
    from coopreg.field.services import LEDGER

    BATCH_SOURCES["remittance"] = remittance_batch_lines
    BATCH_TOTALS["remittance"] = remittance_total
    BATCH_PAYMENT["remittance"] = remittance_payment
    SEALED_BATCHES_CARRYING["batches"] = sealed_batches_carrying
    REMITTANCE_FILES["batches"] = remittance_files
    from coopreg.agreements.services import REGISTERED_ELSEWHERE
    from coopreg.auth.access import OUTSIDE_ROLES
    from coopreg.federations.services import federation_home, registered_elsewhere

    REGISTERED_ELSEWHERE["federations"] = registered_elsewhere
    OUTSIDE_ROLES["federations"] = federation_home
    from coopreg.batches.views import BATCH_NOTES
    from coopreg.federations.desk import batch_notes, desk_home

    OUTSIDE_ROLES["desk"] = desk_home
    from coopreg.federations.access import platform_home

    OUTSIDE_ROLES["platform"] = platform_home
    BATCH_NOTES["desk"] = batch_notes
    from coopreg.api.auth import OUTSIDE_TOKENS
    from coopreg.api.batches import OUTSIDE_BATCHES
    from coopreg.auth.models import OutsideRole
    from coopreg.federations.desk import DeskBatches, authenticate_desk_token

    OUTSIDE_TOKENS["desk"] = authenticate_desk_token
    OUTSIDE_BATCHES[OutsideRole.INSTITUTION] = DeskBatches
    LEDGER.update(record_receipt=record_receipt, receipt_input=ReceiptInput, owed=owed_by_members,
                  method_choices=lambda: [(value, str(label)) for value, label in METHOD_CHOICES])


def _register_template_helpers(app: Flask) -> None:
    from coopreg import jinja
    from coopreg.core import templating

    templating.register(app)
    jinja.register(app)


def _register_error_handlers(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    def page(code: int, title: str, message: str):
        return render_template("core/error.html", code=code, title=title, message=message), code

    from flask_babel import gettext as _

    @app.errorhandler(400)
    def bad_request(error):
        return page(400, _("Bad request"), _("The request could not be understood."))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return page(400, _("The form expired"),
                    _("The page was open too long or came from elsewhere. Go back, reload the "
                      "page and try again; nothing was saved."))

    @app.errorhandler(403)
    def forbidden(error):
        return page(403, _("Not allowed"), _("Your role does not allow this."))

    @app.errorhandler(404)
    def not_found(error):
        return page(404, _("Not found"), _("There is nothing here, or it is not yours to see."))

    @app.errorhandler(405)
    def method_not_allowed(error):
        return page(405, _("Not allowed"), _("This address does not take that kind of request."))

    @app.errorhandler(413)
    def too_large(error):
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return page(413, _("File too large"),
                    _("Files up to %(mb)d MB are accepted. Nothing was saved.", mb=limit))

    @app.errorhandler(429)
    def too_many(error):
        return page(429, _("Too many attempts"),
                    _("Too many failed logins. Wait 15 minutes and try again."))

    from sqlalchemy.exc import DataError

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def value_out_of_range(error):
        # a number or text the database cannot hold, typed into an address or a form
        db.session.rollback()
        return page(400, _("Bad request"), _("A value is out of range. Nothing was saved."))

    from coopreg.core import diskspace, unavailable

    unavailable.install(app)
    diskspace.install(app)

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return page(500, _("Something went wrong"),
                    _("Nothing was saved. Try again; if it keeps happening, tell your admin."))
