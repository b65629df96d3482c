"""The route × role × cooperative matrix. Every route of the app must be listed: a new route
without an entry fails the suite, and each listed role is checked against the server.

Each area keeps its own entries in `tests/<area>/access.py`: `ACCESS` (endpoint → who) and
`make_ids(app, cooperative, factories)` returning the ids its routes take."""

from __future__ import annotations

import pytest

from coopreg.auth import invitations, tokens
from coopreg.auth.access import ACCESS_ATTR
from coopreg.auth.models import Membership, User
from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.members import services as member_services
from tests.access_levels import (
    ADMIN,
    ALL,
    EDITORS,
    FEDERATION_LEVELS,
    INSTITUTION,
    LOGIN,
    OUTSIDE_LEVELS,
    PLATFORM,
    PUBLIC,
)
from tests.area_access import AREA_MODULES
from tests.conftest import login

CORE_ACCESS = {
    "core.health": PUBLIC,
    "auth.login": PUBLIC,
    "auth.choose_language": PUBLIC,
    "auth.logout": LOGIN,
    "auth.choose_cooperative": LOGIN,
    "auth.account": LOGIN,
    "auth.set_language": LOGIN,
    "auth.list_invitations": LOGIN,
    "auth.accept_invitation": LOGIN,
    "auth.decline_invitation": LOGIN,
    "auth.join": PUBLIC,
    "core.index": ALL,
    "members.list_members": ALL,
    "members.view_member": ALL,
    "members.new_member": EDITORS,
    "members.edit_member": EDITORS,
    "members.change_status": EDITORS,
    "members.add_dependant": EDITORS,
    "members.remove_dependant": EDITORS,
    "members.update_documents": EDITORS,
    "admin.settings": ADMIN,
    "admin.documents": ADMIN,
    "admin.toggle_document": ADMIN,
    "admin.users": ADMIN,
    "admin.change_role": ADMIN,
    "admin.remove_user": ADMIN,
    "admin.cancel_invitation": ADMIN,
    "admin.audit": ADMIN,
    "auth.api_tokens": ALL,
    "auth.revoke_api_token": ALL,
    "api-docs.openapi_json": PUBLIC,
    "api_docs.docs": PUBLIC,
}

ACCESS = dict(CORE_ACCESS)
for _module in AREA_MODULES:
    assert not set(_module.ACCESS) & set(ACCESS), f"{_module.__name__} repeats an endpoint"
    ACCESS.update(_module.ACCESS)


def _endpoints(app):
    """The pages' routes; the API's, reached with a token and not a session, have their own
    matrix (tests/api/test_api_access.py), and so have the members' self-service pages
    (tests/selfservice/test_selfservice.py)."""
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()
            if rule.endpoint != "static" and not _token_route(app, rule.endpoint)}


def _token_route(app, endpoint: str) -> bool:
    declared = getattr(app.view_functions[endpoint], ACCESS_ATTR, None)
    return declared is not None and declared[0] in ("token", "signed", "member")


def test_every_route_is_in_the_matrix(app):
    endpoints = set(_endpoints(app))
    assert endpoints - set(ACCESS) == set(), "routes missing from the access matrix"
    assert set(ACCESS) - endpoints == set(), "matrix lists routes that do not exist"


def test_every_view_declares_its_access_as_the_matrix_says(app):
    for endpoint, expected in ACCESS.items():
        declared = getattr(app.view_functions[endpoint], ACCESS_ATTR, None)
        assert declared is not None, f"{endpoint} declares no access"
        if expected in (PUBLIC, LOGIN):
            assert declared[0] == expected, endpoint
        elif expected in FEDERATION_LEVELS:
            assert declared[0] == "federation", endpoint
            assert {r.value for r in declared[1]} == set(expected), endpoint
        elif expected == INSTITUTION:
            assert declared == ("desk", INSTITUTION), endpoint
        elif expected == PLATFORM:
            assert declared == ("platform", PLATFORM), endpoint
        else:
            assert declared[0] == "roles", endpoint
            assert {r.value for r in declared[1]} == set(expected), endpoint


def _ids_in(app, cooperative, make_member, make_user):
    """One of every kind of object the routes take, inside `cooperative`."""
    member = make_member(cooperative)
    with app.app_context():
        member = db.session.get(type(member), member.id)
        dependant = member_services.add_dependant(member, "Child Name", "child", None, None)
        document_type = db.session.scalar(db.select(DocumentType).where(
            DocumentType.cooperative_id == cooperative.id))
        dependant_id, type_id, member_id = dependant.id, document_type.id, member.id
        db.session.commit()
    user_id, _email = make_user(cooperative, "viewer")
    with app.test_request_context(), acting_as(None, "tests"):
        membership_id = db.session.scalar(db.select(Membership.id).where(
            Membership.user_id == user_id))
        invitation, token = invitations.invite(db.session.get(Cooperative, cooperative.id),
                                               f"invited{membership_id}@example.org", "",
                                               "viewer", None)
        invitation_id = invitation.id
        api_token, _secret = tokens.create_token(db.session.get(User, user_id),
                                                 db.session.get(Cooperative, cooperative.id),
                                                 "matrix")
        token_id = api_token.id
        db.session.commit()
    ids = {"member_id": member_id, "dependant_id": dependant_id, "type_id": type_id,
           "membership_id": membership_id, "invitation_id": invitation_id, "token": token,
           "token_id": token_id}
    factories = {"make_member": make_member, "make_user": make_user, "member_id": member_id}
    for module in AREA_MODULES:
        ids.update(module.make_ids(app, cooperative, factories))
    return ids


def _url(app, rule, ids):
    with app.test_request_context():
        from flask import url_for
        return url_for(rule.endpoint, **{arg: ids[arg] for arg in rule.arguments})


def _request(client, rule, url):
    if "GET" in rule.methods:
        return client.get(url)
    return client.post(url, data={})


@pytest.mark.parametrize("role", sorted(ALL))
def test_roles_are_checked_on_the_server(app, client, coop, make_user, make_member, role):
    ids = _ids_in(app, coop, make_member, make_user)
    _uid, email = make_user(coop, role)
    login(client, email, cooperative=coop)
    for endpoint, rule in _endpoints(app).items():
        if endpoint in ("auth.logout",):
            continue  # would end the session of the loop; checked in tests/auth
        response = _request(client, rule, _url(app, rule, ids))
        allowed = ACCESS[endpoint]
        if allowed in (PUBLIC, LOGIN) or role in allowed:
            assert response.status_code != 403, f"{role} refused on {endpoint}"
        else:
            assert response.status_code == 403, f"{role} let into {endpoint}"


def test_anonymous_is_sent_to_login_everywhere_but_public_routes(app, client, coop,
                                                                  make_user, make_member):
    ids = _ids_in(app, coop, make_member, make_user)
    for endpoint, rule in _endpoints(app).items():
        response = _request(client, rule, _url(app, rule, ids))
        if ACCESS[endpoint] == PUBLIC:
            # answered, not sent to log in (a public form posted empty is refused: 422)
            assert response.status_code in (200, 422, 503), endpoint
        else:
            assert response.status_code == 302, endpoint
            assert "/login" in response.headers["Location"], endpoint


def test_ids_of_another_cooperative_answer_404(app, client, coop, other_coop, make_user,
                                                make_member):
    foreign = _ids_in(app, other_coop, make_member, make_user)
    _uid, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)
    checked = 0
    for endpoint, rule in _endpoints(app).items():
        # the desk's ids are not a cooperative's: an institution sees a batch or gets 404
        # (tests/federations/test_desk.py); everyone else is refused its pages (403)
        if not rule.arguments or ACCESS[endpoint] in OUTSIDE_LEVELS:
            continue
        response = _request(client, rule, _url(app, rule, foreign))
        assert response.status_code == 404, f"{endpoint} leaked another cooperative's data"
        checked += 1
    assert checked >= 8
