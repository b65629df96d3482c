"""The route × role matrix for the federation's roles: each federation page answers the
roles its entry names (403 to the others), and a person holding only a federation role gets
404 from every cooperative page, with the ids of a cooperative of their own federation,
as if it did not exist."""

from __future__ import annotations

import pytest

from tests.access_levels import LOGIN, OUTSIDE_LEVELS, PUBLIC
from tests.conftest import login
from tests.core.test_access_matrix import ACCESS, _endpoints, _ids_in, _request, _url
from tests.federations.helpers import federation_of, federation_user


@pytest.mark.parametrize("role", ["federation_admin", "federation_analyst"])
def test_federation_roles_are_checked_and_see_no_cooperative_record(app, client, coop,
                                                                    make_user, make_member,
                                                                    role):
    ids = _ids_in(app, coop, make_member, make_user)
    federation_id = federation_of(app, coop)
    login(client, federation_user(app, federation_id, role))
    checked = 0
    for endpoint, rule in _endpoints(app).items():
        if endpoint == "auth.logout":
            continue
        response = _request(client, rule, _url(app, rule, ids))
        allowed = ACCESS[endpoint]
        if allowed in (PUBLIC, LOGIN):
            assert response.status_code != 403, endpoint
        elif allowed in OUTSIDE_LEVELS:
            expected_refused = role not in allowed
            assert (response.status_code == 403) == expected_refused, (endpoint,
                                                                     response.status_code)
        elif endpoint == "core.index":
            assert response.status_code == 302, endpoint
            assert response.headers["Location"].endswith("/federation/"), endpoint
        else:
            assert response.status_code == 404, f"{role} reached {endpoint}"
            checked += 1
    assert checked > 50


def test_a_federation_role_does_not_change_the_persons_cooperative_roles(app, client, coop,
                                                                         make_user):
    """Someone who is a cooperative's secretary and a federation analyst works in the
    cooperative as a secretary; the federation's pages answer their federation role."""
    from coopreg.auth import services as auth_services
    from coopreg.cooperatives.models import Cooperative
    from coopreg.core.audit import acting_as
    from coopreg.extensions import db

    federation_id = federation_of(app, coop)
    email = federation_user(app, federation_id, "federation_analyst")
    with app.app_context(), acting_as(None, "tests"):
        user = auth_services.find_user_by_email(email)
        auth_services.grant_role(user, db.session.get(Cooperative, coop.id), "secretary")
        db.session.commit()
    login(client, email, cooperative=coop)
    assert client.get("/members/").status_code == 200
    assert client.get("/federation/").status_code == 200
    assert client.post("/federation/cooperatives", data={"cooperative": "X"}).status_code == 403


def test_the_federation_admin_adds_a_cooperative_from_the_page(app, client, coop, other_coop):
    federation_id = federation_of(app, coop)
    login(client, federation_user(app, federation_id, "federation_admin"))
    response = client.post("/federation/cooperatives", data={"cooperative": other_coop.code},
                           follow_redirects=True)
    assert "Other Coop joined the federation" in response.get_data(as_text=True)
    response = client.post("/federation/cooperatives", data={"cooperative": "NOSUCH"},
                           follow_redirects=True)
    assert "No cooperative with code NOSUCH" in response.get_data(as_text=True)
    response = client.post("/federation/cooperatives", data={"cooperative": ""},
                           follow_redirects=True)
    assert "Give the code of a cooperative" in response.get_data(as_text=True)
    page = client.get("/federation/").get_data(as_text=True)
    assert "Other Coop" in page and "Cooperativa de Prueba" in page
