"""Payment notifications from providers (mobile money, banks): `POST /api/v1/payments/notify/
<provider>`, authenticated by an HMAC-SHA256 signature with the provider's own secret (no
token: the provider is not a person of the cooperative), refused when the signature, the
timestamp window or the amount is wrong, idempotent on the provider's transaction id.

The signature is `X-Coopreg-Signature: sha256=<hex>` of `<X-Coopreg-Timestamp>.<raw body>`,
the timestamp in Unix seconds within PAYMENT_NOTIFY_WINDOW_SECONDS of the server's clock."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import date, datetime

from flask import Blueprint, current_app, json, request
from flask_babel import gettext as _

from coopreg.api.problems import problem
from coopreg.auth.access import ACCESS_ATTR
from coopreg.contributions.models import PaymentMethod
from coopreg.contributions.notifications import record_notified_payment
from coopreg.contributions.services import amount_minor
from coopreg.cooperatives.services import find_cooperative
from coopreg.core.audit import set_actor
from coopreg.core.errors import DomainError
from coopreg.core.unit_of_work import attempt

bp = Blueprint("api_payments", __name__)
TRANSACTION_ID = re.compile(r"[A-Za-z0-9:._/-]{4,80}")
AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,4})?")


def signed(view):
    setattr(view, ACCESS_ATTR, ("signed",))
    return view


def _signature_ok(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"sha256={expected}", given.strip())


def refuse_unsigned(secret: str, body: bytes):
    """The problem to answer when the request is not signed with `secret` (the signature
    headers of this module's docstring) or its timestamp is outside the window; None when it
    is. Shared by every sender that signs its posts (payment providers, message gateways)."""
    timestamp = request.headers.get("X-Coopreg-Timestamp", "")
    if not _signature_ok(secret, timestamp, body,
                         request.headers.get("X-Coopreg-Signature", "")):
        return problem(401, _("The signature does not match the body."),
                       slug="bad-signature")
    window = current_app.config["PAYMENT_NOTIFY_WINDOW_SECONDS"]
    if not re.fullmatch(r"[0-9]{1,12}", timestamp) or abs(time.time() - int(timestamp)) > window:
        return problem(401, _("The timestamp is outside the accepted window (%(s)d s).",
                              s=window), slug="stale-timestamp")
    return None


def _read_day(value) -> date | None:
    try:
        return (datetime.fromisoformat(value).date() if "T" in value
                else date.fromisoformat(value))
    except (TypeError, ValueError):
        return None


@bp.route("/payments/notify/<provider>", methods=["POST"])
@signed
def notify(provider: str):
    settings = current_app.config.get("PAYMENT_PROVIDERS", {}).get(provider)
    if settings is None:
        return problem(404, _("No payment provider of that name is set up."),
                       slug="unknown-provider")
    body = request.get_data(cache=False)
    refused = refuse_unsigned(str(settings["secret"]), body)
    if refused is not None:
        return refused
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return problem(400, _("The body is not a JSON object."), slug="bad-request")
    cooperative = find_cooperative(str(settings["cooperative"]))
    if cooperative is None:
        return problem(404, _("No payment provider of that name is set up."),
                       slug="unknown-provider")
    errors = {}
    transaction_id = str(data.get("transaction_id", ""))
    if not TRANSACTION_ID.fullmatch(transaction_id):
        errors["transaction_id"] = [_("4 to 80 letters, digits or :._/- characters.")]
    amount = data.get("amount")
    if not isinstance(amount, str) or not AMOUNT.fullmatch(amount):
        errors["amount"] = [_("A decimal string such as \"2500.00\".")]
    if data.get("currency") != cooperative.currency:
        errors["currency"] = [_("The cooperative's currency is %(c)s.", c=cooperative.currency)]
    paid_on = _read_day(data.get("paid_at"))
    if paid_on is None or paid_on > date.today():
        errors["paid_at"] = [_("A date (YYYY-MM-DD) or a moment, not in the future.")]
    if errors:
        return problem(422, slug="invalid", errors=errors)
    set_actor(None, f"payment provider {provider}")
    with attempt(None, report=False) as outcome:
        minor = amount_minor(amount, cooperative.currency)
        notified = record_notified_payment(
            cooperative, str(settings.get("name") or provider),
            str(settings.get("method") or PaymentMethod.MOBILE_MONEY.value), transaction_id,
            paid_on, minor, _text(data.get("payer")), _text(data.get("description")), body)
    if not outcome.ok:
        error: DomainError = outcome.error
        return problem(422, error.message, slug="payment-refused",
                       errors={error.field or "body": [error.message]})
    match = notified.match
    answer = {"status": "received" if notified.created else "already received",
              "statement_line": notified.line.id,
              "receipt_number": match.receipt.number if match is not None else None,
              "matched": match is not None}
    return current_app.response_class(json.dumps(answer),
                                      status=201 if notified.created else 200,
                                      mimetype="application/json")


def _text(value) -> str | None:
    return str(value).strip()[:300] or None if value is not None else None
