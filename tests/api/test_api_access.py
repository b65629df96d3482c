"""The API's route × role × cooperative matrix, like the pages' (tests/core/
test_access_matrix.py): every API route is listed (a new one without an entry fails), each
role's token is let in or refused by the server as listed, a request without a token is 401,
and another cooperative's ids are 404."""

from __future__ import annotations

from datetime import date

import pytest

from coopreg.auth.access import ACCESS_ATTR
from coopreg.batches import acks, services
from coopreg.contributions import services as money
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.access_levels import ALL, EDITORS, INSTITUTION, MONEY, OFFICE
from tests.batches.helpers import make_agreement, ready_member
from tests.contributions.helpers import receipt_input, register
from tests.factories import make_agreement as make_agreement_with_terms

API_ACCESS = {
    "api_members.list_members": ALL,
    "api_members.get_member": ALL,
    "api_members.create_member": EDITORS,
    "api_members.update_member": EDITORS,
    "api_members.change_status": EDITORS,
    "api_members.list_dependants": ALL,
    "api_members.add_dependant": EDITORS,
    "api_agreements.list_agreements": ALL,
    "api_agreements.get_agreement": ALL,
    "api_agreements.list_registrations": ALL,
    "api_agreements.get_registration": ALL,
    "api_agreements.transition_registration": EDITORS,
    "api_agreements.coverage": ALL,
    "api_money.list_dues": ALL,
    "api_money.list_remittances": ALL,
    "api_money.get_remittance": ALL,
    "api_money.reconciliation": ALL,
    # an institution's desk token reaches the batches sent to it (tests/federations/
    # test_desk_api.py)
    "api_batches.list_batches": ALL | INSTITUTION,
    "api_batches.get_batch": ALL | INSTITUTION,
    "api_batches.download_batch": OFFICE | INSTITUTION,
    "api_batches.post_answer": EDITORS | INSTITUTION,
    "api_batches.get_answer": ALL | INSTITUTION,
    "api_receipts.record_receipt": MONEY,
    "api_receipts.list_receipts": ALL,
    "api_receipts.get_receipt": ALL,
    "api_receipts.reverse_receipt": MONEY,
}


SIGNED = {"api_payments.notify", "api_inbound.inbound"}  # HMAC-signed by a sender, no token


def test_routes_signed_by_providers_are_only_the_listed_ones(app):
    signed = {rule.endpoint for rule in app.url_map.iter_rules()
              if getattr(app.view_functions[rule.endpoint], ACCESS_ATTR, (None,))[0] == "signed"}
    assert signed == SIGNED


def _token_rules(app):
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()
            if getattr(app.view_functions[rule.endpoint], ACCESS_ATTR, (None,))[0] == "token"}


def test_every_api_route_is_in_the_matrix(app):
    assert set(_token_rules(app)) == set(API_ACCESS)
    for endpoint, roles in API_ACCESS.items():
        declared = getattr(app.view_functions[endpoint], ACCESS_ATTR)
        assert {r.value for r in declared[1]} == set(roles), endpoint


def _ids(app, cooperative) -> dict:
    with app.test_request_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, cooperative.id)
        agreement = make_agreement(cooperative, f"M-{cooperative.code}")
        member, _registration = ready_member(cooperative, agreement)
        batch = services.create_batch(cooperative, agreement, "enrolment", None)
        services.seal_batch(batch, None, app.config["EXPORT_DIR"])
        answer = acks.upload_acknowledgement(batch, b"x;y\r\n1;2\r\n", "a.csv", None)
        receipt, _created = money.record_receipt(cooperative, receipt_input(member, "100"),
                                                 None)
        paying = make_agreement_with_terms(cooperative, reference=f"P-{cooperative.code}")
        register(paying, member, date(2024, 1, 1))
        money.generate_dues(paying, date(2024, 1, 1), date(2024, 1, 1))
        money.record_receipt(cooperative, receipt_input(member, "1000"), None)
        remittance = money.record_remittance(paying, date(2024, 1, 1), date(2024, 2, 5),
                                             "1000", "R-1", None)
        db.session.commit()
        return {"member_id": member.id, "batch_id": batch.id, "answer_id": answer.id,
                "receipt_id": receipt.id, "agreement_id": agreement.id,
                "registration_id": _registration.id, "remittance_id": remittance.id}


def _call(client, app, rule, ids, headers):
    with app.test_request_context():
        from flask import url_for
        url = url_for(rule.endpoint, **{arg: ids[arg] for arg in rule.arguments})
    if "GET" in rule.methods:
        return client.get(url, headers=headers)
    method = next(m for m in ("PATCH", "PUT", "DELETE", "POST") if m in rule.methods)
    return client.open(url, method=method, headers=headers, data={},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("role", sorted(ALL))
def test_roles_are_checked_on_the_server(app, client, coop, token_for, bearer, role):
    ids = _ids(app, coop)
    secret, _ = token_for(role, scope="write")
    for endpoint, rule in _token_rules(app).items():
        response = _call(client, app, rule, ids, bearer(secret))
        if role in API_ACCESS[endpoint]:
            assert response.status_code not in (401, 403), f"{role} refused on {endpoint}"
        else:
            assert response.status_code == 403, f"{role} let into {endpoint}"
        assert response.content_type in ("application/json", "application/problem+json") or \
            endpoint == "api_batches.download_batch"


def test_without_a_token_everything_is_401(app, client, coop):
    ids = _ids(app, coop)
    for endpoint, rule in _token_rules(app).items():
        assert _call(client, app, rule, ids, {}).status_code == 401, endpoint


def test_ids_of_another_cooperative_answer_404(app, client, coop, other_coop, token_for,
                                                bearer):
    foreign = _ids(app, other_coop)
    secret, _ = token_for("admin", scope="write")
    checked = 0
    for endpoint, rule in _token_rules(app).items():
        if not rule.arguments:
            continue
        response = _call(client, app, rule, foreign, bearer(secret))
        assert response.status_code == 404, f"{endpoint} leaked another cooperative's data"
        checked += 1
    assert checked >= 5
