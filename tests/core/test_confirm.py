"""Every irreversible action is refused without its "I understand" box: the server answers with
a confirmation page that states the consequence and posts the same fields again."""

from __future__ import annotations

from markupsafe import escape

from coopreg.auth import tokens
from coopreg.auth.models import User
from coopreg.cooperatives.models import Cooperative
from coopreg.core.confirm import irreversible_endpoints
from coopreg.extensions import db
from tests.access_levels import OUTSIDE_LEVELS
from tests.conftest import login
from tests.core.test_access_matrix import ACCESS, _endpoints, _ids_in, _url

# what a form of the page would post, less the box
POSTED = {"agreements.transition": {"terminated-to_status": "terminated",
                                    "terminated-reason": "Left"},
          "contributions.reverse_receipt": {"reason": "Wrong member"}}


def test_no_irreversible_action_without_its_confirmation(app, client, coop, make_user,
                                                         make_member):
    declared = irreversible_endpoints(app)
    assert len(declared) >= 14
    ids = _ids_in(app, coop, make_member, make_user)
    user_id, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)
    with app.app_context():  # a token is revoked by its own user only
        token, _secret = tokens.create_token(db.session.get(User, user_id),
                                             db.session.get(Cooperative, coop.id), "own")
        ids["token_id"] = token.id
        db.session.commit()
    rules = _endpoints(app)
    for endpoint, consequence in declared.items():
        if ACCESS[endpoint] in OUTSIDE_LEVELS:  # a federation's or the platform's: checked
            continue  # with their own people in tests/federations/test_platform.py
        data = POSTED.get(endpoint, {})
        response = client.post(_url(app, rules[endpoint], ids), data=data)
        html = response.get_data(as_text=True)
        assert response.status_code == 409, endpoint
        assert "Please confirm" in html, endpoint
        assert str(consequence) in html or escape(str(consequence)) in html, endpoint
        assert 'name="confirmed" value="y" required' in html, endpoint
        for name, value in data.items():  # the same fields go again with the box
            assert f'type="hidden" name="{name}" value="{value}"' in html, endpoint
