"""The platform admin (users.platform_admin, `coopreg users platform-admin`) keeps the
installation's federations and the institutions' desk accounts from /platform/; a federation
admin grants and revokes the roles of their own federation and disables its desk accounts from
the federation's page. Every change is audited; removing a role or disabling an account asks
first; anything of another federation answers 404."""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import select

from coopreg.auth import services as auth_services
from coopreg.auth.models import User
from coopreg.core.audit import AuditEvent, acting_as
from coopreg.core.confirm import irreversible_endpoints
from coopreg.extensions import db
from coopreg.federations import desk
from coopreg.federations.models import (
    Federation,
    FederationCooperative,
    FederationMembership,
    InstitutionAccount,
)
from tests.access_levels import OUTSIDE_LEVELS
from tests.conftest import PASSWORD, login
from tests.core.test_access_matrix import ACCESS, _endpoints, _ids_in, _url
from tests.federations.helpers import agreement_with, federation_of, federation_user

PLATFORM_EMAIL = "platform@example.org"


def _platform_admin(app, email: str = PLATFORM_EMAIL) -> str:
    runner = app.test_cli_runner()
    with app.app_context(), acting_as(None, "tests"):
        auth_services.create_user(email, "Platform Person", PASSWORD)
        db.session.commit()
    result = runner.invoke(args=["users", "platform-admin", email])
    assert result.exit_code == 0, result.output
    return email


def _text(response) -> str:
    return response.get_data(as_text=True)


def _audited(app, entity: str, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity == entity, AuditEvent.action == action)))


# ---- the command ---------------------------------------------------------------------------

def test_the_command_makes_and_unmakes_a_platform_admin(app, coop, make_user):
    runner = app.test_cli_runner()
    _uid, email = make_user(coop, "secretary")
    made = runner.invoke(args=["users", "platform-admin", email.upper()])
    assert made.exit_code == 0, made.output
    assert f"{email} is now a platform admin." in made.output
    again = runner.invoke(args=["users", "platform-admin", email])
    assert again.exit_code == 0 and "is already a platform admin: nothing changed" in again.output
    with app.app_context():
        assert db.session.scalar(select(User.platform_admin).where(User.email == email))
        changed = [e for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "users", AuditEvent.action == "update"))
            if "platform_admin" in e.changes]
        assert len(changed) == 1
    revoked = runner.invoke(args=["users", "platform-admin", email, "--revoke"])
    assert revoked.exit_code == 0 and "is no longer a platform admin" in revoked.output
    not_one = runner.invoke(args=["users", "platform-admin", email, "--revoke"])
    assert not_one.exit_code == 0 and "is not a platform admin: nothing changed" in not_one.output
    with app.app_context():
        assert not db.session.scalar(select(User.platform_admin).where(User.email == email))


def test_the_command_refuses_bad_arguments_clearly(app, coop, make_user):
    runner = app.test_cli_runner()
    user_id, email = make_user(coop, "viewer")
    with app.app_context(), acting_as(None, "tests"):
        db.session.get(User, user_id).active = False
        db.session.commit()
    for args, reason in [
        (["users", "platform-admin", "nobody@example.org"], "no user 'nobody@example.org'"),
        (["users", "platform-admin", "not-an-email"], "is not an email address"),
        (["users", "platform-admin", email], "is disabled: enable the account first"),
        (["users", "platform-admin"], "Missing argument 'EMAIL'"),
    ]:
        refused = runner.invoke(args=args)
        assert refused.exit_code == 2, (args, refused.output)
        assert reason in refused.output, (args, refused.output)
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.platform_admin.is_(True))) is None


# ---- who reaches the platform's pages ------------------------------------------------------

def test_only_a_platform_admin_opens_the_platform(app, client, coop, make_user):
    federation_id = federation_of(app, coop)
    _uid, admin = make_user(coop, "admin")
    login(client, admin, cooperative=coop)
    assert client.get("/platform/").status_code == 403
    client.post("/logout")
    login(client, federation_user(app, federation_id, "federation_admin"))
    assert client.get("/platform/").status_code == 403
    assert client.post("/platform/federations", data={"code": "FX", "name": "X"}
                       ).status_code == 403
    client.post("/logout")
    login(client, _platform_admin(app))
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/platform/")
    page = _text(client.get("/platform/"))
    assert "FEDCR" in page and "Federación de Prueba" in page
    # a platform admin sees no cooperative's records
    assert client.get("/members/").status_code == 404


def test_a_cooperative_admin_who_is_platform_admin_keeps_their_cooperative_role(app, client,
                                                                                 coop,
                                                                                 make_user):
    _uid, admin = make_user(coop, "admin")
    assert app.test_cli_runner().invoke(args=["users", "platform-admin", admin]).exit_code == 0
    login(client, admin, cooperative=coop)
    assert client.get("/members/").status_code == 200
    page = _text(client.get("/platform/"))
    assert "Create a federation" in page
    assert 'href="/platform/"' in _text(client.get("/members/"))  # the menu's way there


# ---- the platform admin's work -------------------------------------------------------------

def test_the_platform_admin_creates_a_federation_and_gives_its_roles(app, client, coop,
                                                                    other_coop, make_user):
    login(client, _platform_admin(app))
    bad = client.post("/platform/federations", data={"code": "x", "name": "Bad"},
                      follow_redirects=True)
    assert "A federation code is 2 to 20 letters" in _text(bad)
    empty = client.post("/platform/federations", data={"code": "", "name": ""},
                        follow_redirects=True)
    assert "Give the federation&#39;s code and name." in _text(empty)
    made = client.post("/platform/federations", data={"code": "fedsur", "name": "Fed Sur"})
    assert made.status_code == 302
    with app.app_context():
        federation_id = db.session.scalar(select(Federation.id).where(Federation.code == "FEDSUR"))
    assert made.headers["Location"].endswith(f"/platform/federations/{federation_id}")
    page = client.post(f"/platform/federations/{federation_id}/cooperatives",
                       data={"cooperative": coop.code}, follow_redirects=True)
    assert "Cooperativa de Prueba joined the federation" in _text(page)
    unknown = client.post(f"/platform/federations/{federation_id}/cooperatives",
                          data={"cooperative": "NOSUCH"}, follow_redirects=True)
    assert "No cooperative with code NOSUCH" in _text(unknown)

    grant = f"/platform/federations/{federation_id}/roles"
    newcomer = client.post(grant, data={"email": "new@fed.example", "role": "federation_admin"},
                           follow_redirects=True)
    assert ("There is no account for new@fed.example yet: give the person&#39;s name and a "
            "first password") in _text(newcomer)
    made = client.post(grant, data={"email": "new@fed.example", "role": "federation_admin",
                                    "name": "Nueva Persona", "password": PASSWORD},
                       follow_redirects=True)
    assert "new@fed.example: Federation admin." in _text(made)
    _uid, secretary = make_user(other_coop, "secretary")
    existing = client.post(grant, data={"email": secretary, "role": "federation_analyst"},
                           follow_redirects=True)
    assert f"{secretary}: Federation analyst." in _text(existing)
    wrong = client.post(grant, data={"email": secretary, "role": "owner"},
                        follow_redirects=True)
    assert "Give the email and the role." in _text(wrong)
    assert client.post("/platform/federations/999999/roles", data={
        "email": secretary, "role": "federation_analyst"}).status_code == 404
    page = _text(client.get(f"/platform/federations/{federation_id}"))
    assert "Nueva Persona" in page and secretary in page

    # the new federation admin works in their federation at once
    client.post("/logout")
    login(client, "new@fed.example")
    assert "Fed Sur" in _text(client.get("/federation/"))
    client.post("/logout")

    # removing a role asks first, then is done and audited
    login(client, PLATFORM_EMAIL)
    with app.app_context():
        membership_id = db.session.scalar(select(FederationMembership.id).join(User).where(
            User.email == secretary))
    url = f"/platform/roles/{membership_id}/revoke"
    asked = client.post(url)
    assert asked.status_code == 409 and "Please confirm" in _text(asked)
    done = client.post(url, data={"confirmed": "y"}, follow_redirects=True)
    assert f"{secretary} no longer holds a role in the federation" in _text(done)
    assert client.post(url, data={"confirmed": "y"}).status_code == 404
    with app.app_context():
        assert db.session.get(FederationMembership, membership_id) is None
        assert db.session.scalar(select(User.active).where(User.email == secretary))
    assert [e.entity_id for e in _audited(app, "federation_memberships", "delete")] == [
        membership_id]
    assert len(_audited(app, "federations", "create")) == 1
    assert len(_audited(app, "federation_cooperatives", "create")) == 1
    actors = {e.actor_label for e in _audited(app, "federation_memberships", "create")}
    assert actors == {PLATFORM_EMAIL}


def test_the_platform_admin_creates_and_disables_desk_accounts(app, client, coop):
    federation_id = federation_of(app, coop)
    login(client, _platform_admin(app))
    data = {"email": "mesa@ccss.example", "name": "Mesa CCSS", "institution": "ccss",
            "password": PASSWORD, "federation_id": federation_id}
    made = client.post("/platform/desk-accounts", data=data, follow_redirects=True)
    assert "mesa@ccss.example can now use the desk of CCSS" in _text(made)
    anywhere = client.post("/platform/desk-accounts", data=dict(
        data, email="mesa@phic.example", institution="PHIC", federation_id=0),
        follow_redirects=True)
    assert "mesa@phic.example can now use the desk of PHIC" in _text(anywhere)
    nowhere = client.post("/platform/desk-accounts", data=dict(
        data, email="x@y.example", federation_id=999999), follow_redirects=True)
    assert "x@y.example can now use" not in _text(nowhere)
    with app.app_context():
        accounts = {a.user.email: a.federation_id for a in db.session.scalars(
            select(InstitutionAccount))}
        assert accounts == {"mesa@ccss.example": federation_id, "mesa@phic.example": None}
        account_id = db.session.scalar(select(InstitutionAccount.id).join(User).where(
            User.email == "mesa@ccss.example"))
        token, secret = desk.create_desk_token(db.session.get(InstitutionAccount, account_id),
                                               "script", "read", 30)
        db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/batches/", headers=headers).status_code == 200

    # the desk person is logged in elsewhere; disabling ends it
    other = app.test_client()
    login(other, "mesa@ccss.example")
    assert other.get("/desk/").status_code == 200
    url = f"/platform/desk-accounts/{account_id}/disable"
    asked = client.post(url)
    assert asked.status_code == 409 and "its API tokens stop working" in _text(asked)
    done = client.post(url, data={"confirmed": "y"}, follow_redirects=True)
    assert "mesa@ccss.example is disabled." in _text(done)
    assert other.get("/desk/").status_code == 302  # sent to log in
    assert other.post("/login", data={"email": "mesa@ccss.example",
                                      "password": PASSWORD}).status_code != 302
    assert client.get("/api/v1/batches/", headers=headers).status_code == 401
    assert "Enable the account" in _text(client.get("/platform/"))
    enabled = client.post(f"/platform/desk-accounts/{account_id}/enable",
                          follow_redirects=True)
    assert "mesa@ccss.example can use the desk again" in _text(enabled)
    assert client.get("/api/v1/batches/", headers=headers).status_code == 200
    assert client.post("/platform/desk-accounts/999999/enable").status_code == 404
    actives = [e.changes["active"] for e in _audited(app, "users", "update")
               if "active" in e.changes]
    assert len(actives) == 2


# ---- the federation admin's work -----------------------------------------------------------

def test_the_federation_admin_grants_and_revokes_roles_in_their_federation(app, client, coop,
                                                                          other_coop):
    mine = federation_of(app, coop)
    theirs = federation_of(app, other_coop, code="FEDOT")
    admin = federation_user(app, mine, "federation_admin")
    stranger = federation_user(app, theirs, "federation_analyst", email="them@example.org")
    login(client, admin)
    made = client.post("/federation/roles", data={
        "email": "analista@fed.example", "role": "federation_analyst", "name": "Analista",
        "password": PASSWORD}, follow_redirects=True)
    assert "analista@fed.example: Federation analyst." in _text(made)
    page = _text(client.get("/federation/"))
    assert "analista@fed.example" in page and stranger not in page
    with app.app_context():
        ids = dict(db.session.execute(select(User.email, FederationMembership.id).join(
            FederationMembership, FederationMembership.user_id == User.id)).all())
    # another federation's role: 404, asked or not
    for data in ({}, {"confirmed": "y"}):
        assert client.post(f"/federation/roles/{ids[stranger]}/revoke",
                           data=data).status_code == 404
    own = client.post(f"/federation/roles/{ids[admin]}/revoke", data={"confirmed": "y"},
                      follow_redirects=True)
    assert "You cannot remove your own role" in _text(own)
    url = f"/federation/roles/{ids['analista@fed.example']}/revoke"
    assert client.post(url).status_code == 409
    done = client.post(url, data={"confirmed": "y"}, follow_redirects=True)
    assert "analista@fed.example no longer holds a role in the federation" in _text(done)
    with app.app_context():
        left = set(db.session.scalars(select(FederationMembership.id)))
        assert left == {ids[admin], ids[stranger]}
    # a desk account gets no federation role
    with app.app_context(), acting_as(None, "tests"):
        agreement_with(coop, "CCSS", "AG-1")
        db.session.commit()
    client.post("/federation/desk-accounts", data={
        "email": "mesa@ccss.example", "name": "Mesa", "institution": "CCSS",
        "password": PASSWORD})
    refused = client.post("/federation/roles", data={
        "email": "mesa@ccss.example", "role": "federation_analyst"}, follow_redirects=True)
    assert "is an institution&#39;s desk account" in _text(refused)
    client.post("/logout")
    # the analyst may not
    login(client, federation_user(app, mine, "federation_analyst"))
    assert client.post("/federation/roles", data={
        "email": "z@example.org", "role": "federation_admin"}).status_code == 403
    assert client.post(f"/federation/roles/{ids[admin]}/revoke",
                       data={"confirmed": "y"}).status_code == 403
    assert "Give a person a role" not in _text(client.get("/federation/"))


def test_the_federation_admin_disables_only_their_federations_desk_accounts(app, client, coop,
                                                                           other_coop):
    mine = federation_of(app, coop)
    theirs = federation_of(app, other_coop, code="FEDOT")
    with app.app_context(), acting_as(None, "tests"):
        ours = desk.create_account_for("ours@ccss.example", "Ours", PASSWORD, "CCSS",
                                       db.session.get(Federation, mine)).id
        other = desk.create_account_for("other@ccss.example", "Other", PASSWORD, "CCSS",
                                        db.session.get(Federation, theirs)).id
        db.session.commit()
    login(client, federation_user(app, mine, "federation_admin"))
    for action, data in (("disable", {}), ("disable", {"confirmed": "y"}), ("enable", {})):
        assert client.post(f"/federation/desk-accounts/{other}/{action}",
                           data=data).status_code == 404
    asked = client.post(f"/federation/desk-accounts/{ours}/disable")
    assert asked.status_code == 409
    done = client.post(f"/federation/desk-accounts/{ours}/disable", data={"confirmed": "y"},
                       follow_redirects=True)
    assert "ours@ccss.example is disabled." in _text(done)
    with app.app_context():
        states = dict(db.session.execute(select(User.email, User.active).where(
            User.email.in_(["ours@ccss.example", "other@ccss.example"]))).all())
        assert states == {"ours@ccss.example": False, "other@ccss.example": True}
    again = client.post(f"/federation/desk-accounts/{ours}/enable", follow_redirects=True)
    assert "ours@ccss.example can use the desk again" in _text(again)


# ---- irreversible actions of the federation's and the platform's pages ----------------------

@pytest.mark.parametrize("level", ["federation_admin", "platform_admin"])
def test_their_irreversible_actions_ask_first(app, client, coop, make_user, make_member,
                                              level):
    ids = _ids_in(app, coop, make_member, make_user)
    if level == "platform_admin":
        login(client, _platform_admin(app))
    else:  # the matrix's objects are of its own federation: be its admin
        login(client, federation_user(app, ids["federation_id"], "federation_admin"))
    rules = _endpoints(app)
    checked = 0
    for endpoint, consequence in irreversible_endpoints(app).items():
        if ACCESS[endpoint] not in OUTSIDE_LEVELS or level not in ACCESS[endpoint]:
            continue
        response = client.post(_url(app, rules[endpoint], ids))
        html = _text(response)
        assert response.status_code == 409, endpoint
        assert str(consequence) in html or escape(str(consequence)) in html, endpoint
        assert 'name="confirmed" value="y" required' in html, endpoint
        checked += 1
    assert checked == 2
    with app.app_context():  # nothing was done
        assert db.session.get(FederationMembership, ids["federation_membership_id"])
        assert db.session.get(InstitutionAccount, ids["desk_account_id"]).user.active
        assert db.session.scalar(select(FederationCooperative.id).where(
            FederationCooperative.federation_id == ids["federation_id"])) is None


# ---- in the reader's language ----------------------------------------------------------------

@pytest.mark.parametrize("language", ["es", "fr", "pt"])
def test_the_platform_and_federation_pages_read_in_the_users_language(app, client, coop,
                                                                      language):
    from tests.core.test_every_page_in_spanish import _problems, _raw_codes, _Text

    federation_id = federation_of(app, coop)
    fed_admin = federation_user(app, federation_id, "federation_admin")
    platform = _platform_admin(app)
    with app.app_context(), acting_as(None, "tests"):
        desk.create_account_for("mesa@ccss.example", "Mesa", PASSWORD, "CCSS",
                                db.session.get(Federation, federation_id))
        for user in db.session.scalars(select(User).where(User.email.in_(
                [fed_admin, platform, "mesa@ccss.example"]))):
            user.locale = language
        db.session.commit()
    codes = _raw_codes(app, language)
    problems = {}
    for email, urls in ((platform, ["/platform/", f"/platform/federations/{federation_id}"]),
                        (fed_admin, ["/federation/"])):
        login(client, email)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.get_data(as_text=True)
            if url == "/platform/":
                assert {"es": "Federaciones", "fr": "Fédérations",
                        "pt": "Federações"}[language] in html
            parser = _Text()
            parser.feed(html)
            found = _problems(parser.nodes, codes, language)
            if found:
                problems[url] = found
        client.post("/logout")
    assert problems == {}, problems


def test_the_platform_and_federation_forms_need_the_csrf_token(app, client, coop):
    from tests.core.test_security import _token

    federation_id = federation_of(app, coop)
    platform = _platform_admin(app)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        token = _token(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"email": platform, "password": PASSWORD,
                                    "csrf_token": token})
        for path in ("/platform/federations", f"/platform/federations/{federation_id}/roles",
                     "/platform/desk-accounts", "/federation/roles"):
            assert client.post(path, data={"code": "FEDX", "name": "X"}).status_code == 400, path
        token = _token(client.get("/platform/").get_data(as_text=True))
        made = client.post("/platform/federations", data={"code": "FEDX", "name": "X",
                                                          "csrf_token": token})
        assert made.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        assert db.session.scalar(select(Federation.id).where(Federation.code == "FEDX"))
