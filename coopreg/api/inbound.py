"""Answers members send to the SMS/WhatsApp gateway, passed on by it: `POST /api/v1/messages/
inbound/<gateway>`, signed like the payment notifications (`X-Coopreg-Timestamp`,
`X-Coopreg-Signature: sha256=<hex>` of `<timestamp>.<raw body>` with the gateway's secret from
COOPREG_MESSAGE_GATEWAYS). The body is JSON `{"from": "+50688881234", "text": "STOP"}`
(`channel` and `message_id` optional). A STOP (PARAR, ARRÊT, PARE…) opts out every member of
the gateway's cooperative with that phone; any other answer is acknowledged and ignored."""

from __future__ import annotations

from flask import Blueprint, current_app, json, request
from flask_babel import gettext as _

from coopreg.api.payments import refuse_unsigned, signed
from coopreg.api.problems import problem
from coopreg.cooperatives.services import find_cooperative
from coopreg.core.audit import set_actor
from coopreg.core.unit_of_work import attempt
from coopreg.messaging.services import stop_from_phone

bp = Blueprint("api_inbound", __name__)


@bp.route("/messages/inbound/<gateway>", methods=["POST"])
@signed
def inbound(gateway: str):
    settings = current_app.config.get("MESSAGE_GATEWAYS", {}).get(gateway)
    cooperative = None if settings is None else find_cooperative(str(settings["cooperative"]))
    if cooperative is None:
        return problem(404, _("No message gateway of that name is set up."),
                       slug="unknown-gateway")
    body = request.get_data(cache=False)
    refused = refuse_unsigned(str(settings["secret"]), body)
    if refused is not None:
        return refused
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("from"), str) \
            or not isinstance(data.get("text", ""), str):
        return problem(400, _("The body is not a JSON object with \"from\" and \"text\"."),
                       slug="bad-request")
    set_actor(None, f"message gateway {gateway}")
    with attempt(None, report=False) as outcome:
        stopped = stop_from_phone(cooperative, data["from"][:40], data.get("text", "")[:500])
    if not outcome.ok:
        return problem(422, outcome.error.message, slug="refused")
    answer = {"status": "stopped" if stopped else "ignored", "members": len(stopped)}
    return current_app.response_class(json.dumps(answer), status=200,
                                      mimetype="application/json")
