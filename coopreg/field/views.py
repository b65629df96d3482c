"""The field mode's pages: the one page that works offline, its manifest and service worker,
and the JSON ends it talks to when a signal comes back (download, sync, photos). Thin: each
calls one service; the request is the unit of work (one record per request)."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user

from coopreg.auth.access import EDITORS, login_only, roles_required
from coopreg.auth.models import Role
from coopreg.core.errors import DomainError
from coopreg.core.tenancy import current_cooperative, get_scoped_or_404
from coopreg.core.unit_of_work import attempt
from coopreg.field import catalogue, services
from coopreg.field.models import PHOTO_KIND_LABELS, FieldPhoto
from coopreg.members import services as member_services
from coopreg.members.forms import CONSENT_CHOICES, SECTOR_CHOICES, SEX_CHOICES

bp = Blueprint("field", __name__)

FIELD_ROLES = (Role.ADMIN, Role.SECRETARY, Role.TREASURER)
MONEY_ROLES = (Role.ADMIN, Role.TREASURER)
STATIC = Path(__file__).resolve().parents[1] / "static" / "field"
# the session key of the secret a phone's key is derived from (see docs/field-mode.md)
SECRET_KEY_NAME = "field_secret"  # noqa: S105 - a session key's name, not a secret


def _abilities() -> dict:
    return {"members": g.role in EDITORS, "money": g.role in MONEY_ROLES}


@bp.route("/")
@roles_required(*FIELD_ROLES)
def index():
    cooperative = current_cooperative()
    choices = {"sex": [(v, str(label)) for v, label in SEX_CHOICES],
               "sector": [(v, str(label)) for v, label in SECTOR_CHOICES],
               "consent": [(v, str(label)) for v, label in CONSENT_CHOICES],
               "method": services.LEDGER["method_choices"]()}
    return render_template("field/index.html", strings=catalogue.strings(), choices=choices,
                           settings={"days": current_app.config["FIELD_DATA_DAYS"],
                                     "abilities": _abilities(),
                                     "cooperative": cooperative.code,
                                     "currency": cooperative.currency,
                                     "language": str(get_locale()),
                                     "user": current_user.id})


@bp.route("/manifest.webmanifest")
@login_only
def manifest():
    body = {"name": "coopreg field", "short_name": "coopreg",
            "start_url": url_for("field.index"), "scope": url_for("field.index"),
            "display": "standalone", "background_color": "#ffffff",
            "theme_color": "#1f5f4a", "lang": str(get_locale()),
            "icons": [{"src": url_for("static", filename="favicon.svg"),
                       "sizes": "any", "type": "image/svg+xml"}]}
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/sw.js")
@login_only
def service_worker():
    """The service worker, served from /field/ so that its scope is the field mode only."""
    response = Response((STATIC / "sw.js").read_text(encoding="utf-8"),
                        mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/session")
@roles_required(*FIELD_ROLES)
def field_session():
    """What the page needs fresh before it sends (a CSRF token for this session, the
    localities to choose from); a phone whose session ended is sent to log in again."""
    from flask_wtf.csrf import generate_csrf

    cooperative = current_cooperative()
    return jsonify({"csrf": generate_csrf(), "cooperative": cooperative.code,
                    "user": current_user.id, "abilities": _abilities(),
                    "localities": member_services.localities(cooperative.id)})


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400)
    return body


def _refused(error: DomainError, status: int = 422):
    return jsonify({"outcome": "refused", "message": error.message,
                    "field": error.field}), status


@bp.route("/download", methods=["POST"])
@roles_required(*FIELD_ROLES)
def download():
    """The members of the chosen localities as this role may see them, and the secret the
    phone derives its storage key from (kept in this session only)."""
    body = _json_body()
    localities = body.get("localities")
    if not isinstance(localities, list):
        localities = []
    try:
        data = services.download(current_cooperative(), [str(x)[:120] for x in localities],
                                 full=g.role in EDITORS, money=g.role in MONEY_ROLES)
    except DomainError as error:
        return _refused(error)
    if SECRET_KEY_NAME not in session:
        session[SECRET_KEY_NAME] = base64.b64encode(secrets.token_bytes(32)).decode()
    data["secret"] = session[SECRET_KEY_NAME]
    return jsonify(data)


@bp.route("/sync", methods=["POST"])
@roles_required(*FIELD_ROLES)
def sync():
    """One record from a phone, done once in this request (see `services.sync_record`)."""
    record = _json_body()
    with attempt(report=False) as outcome:
        answer = services.sync_record(current_cooperative(), current_user.id, current_user.name,
                                      record, g.role in EDITORS, g.role in MONEY_ROLES)
    if not outcome.ok:
        return _refused(outcome.error)
    if answer.get("receipt_id"):
        answer["print_url"] = url_for("contributions.print_receipt",
                                      receipt_id=answer["receipt_id"])
    if answer.get("member_id"):
        answer["member_url"] = url_for("members.view_member", member_id=answer["member_id"])
    return jsonify(answer)


@bp.route("/photo", methods=["POST"])
@roles_required(*EDITORS)
def photo():
    """A photo of a member's ID document or signed consent form, sent once under its key."""
    upload = request.files.get("photo")
    if upload is None:
        return _refused(DomainError(catalogue.no_photo(), field="photo"))
    content = upload.read(current_app.config["FIELD_PHOTO_MAX_BYTES"] + 1)
    cooperative = current_cooperative()
    form = request.form
    with attempt(report=False) as outcome:
        key = services.check_key(form.get("key"))
        member_id = form.get("member_id")
        if form.get("member_key"):
            member_id = services.member_of(cooperative, {"member_key": form["member_key"]})
        answer = services.once(cooperative, current_user.id, key, "photo",
                               lambda: services.save_photo(cooperative, current_user.id,
                                                           member_id, form.get("kind", ""),
                                                           form.get("document_type_id"),
                                                           content))
    if not outcome.ok:
        return _refused(outcome.error)
    return jsonify(answer), 200 if answer["outcome"] != "refused" else 422


@bp.app_template_global()
def field_photos(member) -> list[FieldPhoto]:
    """The field photos of a member, for the member's page: only for the roles that keep
    members' documents (others get none)."""
    if getattr(g, "role", None) not in EDITORS:
        return []
    return services.member_photos(member)


@bp.app_context_processor
def _photo_kinds() -> dict:
    return {"photo_kinds": {kind: str(label) for kind, label in PHOTO_KIND_LABELS.items()}}


@bp.route("/photos/<int:photo_id>")
@roles_required(*EDITORS)
def view_photo(photo_id: int):
    """A field photo, for the roles that keep members' documents."""
    found = get_scoped_or_404(FieldPhoto, photo_id)
    path = services.photo_file(found)
    if not path.is_file():
        abort(404)
    # read whole (a photo is small, at most FIELD_PHOTO_MAX_BYTES): no file left open
    return Response(path.read_bytes(), mimetype=found.content_type,
                    headers={"Cache-Control": "no-store"})
