"""The institution's desk: an institution account sees only the sealed batches of agreements
with its institution that cooperatives send through the desk (404 for anything else, and for
every cooperative page), downloads them (logged, SHA-256 shown, the batch counts as sent) and
uploads its answer, which the secretary applies (or which is applied at once when the
cooperative chose so); the cooperative's batch page says when each happened."""

from __future__ import annotations

from sqlalchemy import func, select

from coopreg.agreements.models import Registration, RegistrationStatus
from coopreg.batches import acks
from coopreg.batches import services as batch_services
from coopreg.batches.models import Acknowledgement, AckStatus, Batch, BatchStatus
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.federations import desk
from coopreg.federations.models import DeskEvent, InstitutionAccount
from tests.access_levels import INSTITUTION, LOGIN, OUTSIDE_LEVELS, PUBLIC
from tests.batches.helpers import ready_member
from tests.conftest import PASSWORD, login
from tests.core.test_access_matrix import ACCESS, _endpoints, _ids_in, _request, _url
from tests.federations.helpers import agreement_with, federation_of

MAPPING = {"id_number": "Cedula", "institution_number": "Numero", "result": "Resultado",
           "reason": "Motivo", "effective_date": "Desde"}


def _sealed_batch(app, cooperative, short_name="CCSS", reference="AG-DESK", mode="desk"):
    """A sealed enrolment batch of one ready member, under an agreement with `short_name`
    sent through the desk in `mode` (None: not through the desk)."""
    with app.test_request_context(), acting_as(None, "tests"):
        coop = db.session.get(Cooperative, cooperative.id)
        agreement = agreement_with(coop, short_name, reference)
        member, registration = ready_member(coop, agreement)
        batch = batch_services.create_batch(coop, agreement, "enrolment", None)
        batch_services.seal_batch(batch, None, app.config["EXPORT_DIR"])
        acks.save_mapping(agreement, MAPPING, "A, OK", "R, ERROR")
        if mode is not None:
            desk.set_desk_mode(coop, agreement.id, mode)
        ids = {"batch_id": batch.id, "registration_id": registration.id,
               "id_number": member.id_number, "member_id": member.id}
        db.session.commit()
    return ids


def _account(app, code="CCSS", federation_id=None, email="desk@ccss.example"):
    from coopreg.federations.models import Federation

    with app.test_request_context(), acting_as(None, "tests"):
        federation = db.session.get(Federation, federation_id) if federation_id else None
        desk.create_account_for(email, "Mesa CCSS", PASSWORD, code, federation)
        db.session.commit()
    return email


def _answer(id_number: str) -> bytes:
    return (f"Cedula;Numero;Resultado;Motivo;Desde\r\n{id_number};CC-0000042;A;;01/02/2026\r\n"
            ).encode("utf-8-sig")


def test_the_institution_downloads_answers_and_the_secretary_applies(app, client, coop,
                                                                     make_user):
    ids = _sealed_batch(app, coop)
    email = _account(app)
    login(client, email)
    home = client.get("/desk/")
    assert home.status_code == 200 and "B-" in home.get_data(as_text=True)
    page = client.get(f"/desk/batches/{ids['batch_id']}").get_data(as_text=True)
    with app.app_context():
        batch = db.session.get(Batch, ids["batch_id"])
        sha256, status = batch.sha256, batch.status
    assert sha256 in page and status == BatchStatus.SEALED
    response = client.post(f"/desk/batches/{ids['batch_id']}/download")
    assert response.status_code == 200 and response.data
    with app.app_context():
        batch = db.session.get(Batch, ids["batch_id"])
        assert batch.status == BatchStatus.SENT and batch.sent_channel == "portal"
        event = db.session.scalar(select(DeskEvent))
        assert event.kind.value == "downloaded" and event.sha256 == sha256
    response = client.post(f"/desk/batches/{ids['batch_id']}/answer",
                           data={"file": (__import__("io").BytesIO(_answer(ids["id_number"])),
                                          "respuesta.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "the cooperative applies it" in response.get_data(as_text=True)
    with app.app_context():
        ack = db.session.scalar(select(Acknowledgement))
        assert ack.status == AckStatus.UPLOADED and ack.interpreted
        ack_id = ack.id
        registration = db.session.get(Registration, ids["registration_id"])
        assert registration.status == RegistrationStatus.SUBMITTED
    # the cooperative's side: when the institution downloaded, when the answer arrived
    client.post("/logout")
    _uid, secretary = make_user(coop, "secretary")
    login(client, secretary, cooperative=coop)
    batch_page = client.get(f"/batches/{ids['batch_id']}").get_data(as_text=True)
    assert "The institution downloaded the file at its desk" in batch_page
    assert "The institution&#39;s answer arrived at its desk" in batch_page
    response = client.post(f"/batches/answers/{ack_id}/apply", data={"confirmed": "y"})
    assert response.status_code == 302
    with app.app_context():
        registration = db.session.get(Registration, ids["registration_id"])
        assert registration.status == RegistrationStatus.REGISTERED
        assert registration.institution_member_number == "CC-0000042"


def test_an_answer_is_applied_at_once_when_the_agreement_says_so(app, coop):
    ids = _sealed_batch(app, coop, mode="desk_applied")
    email = _account(app)
    with app.test_request_context(), acting_as(None, "tests"):
        account = db.session.scalar(select(InstitutionAccount))
        batch = desk.desk_batch(account, ids["batch_id"])
        ack = desk.receive_answer(account, batch, _answer(ids["id_number"]), "r.csv",
                                  account.user_id)
        assert ack.status == AckStatus.APPLIED
        registration = db.session.get(Registration, ids["registration_id"])
        assert registration.status == RegistrationStatus.REGISTERED
    assert email


def test_the_desk_sees_only_its_institutions_batches_sent_through_it(app, client, coop,
                                                                     other_coop,
                                                                     make_cooperative):
    mine = _sealed_batch(app, coop, "CCSS", "AG-1")
    by_hand = _sealed_batch(app, coop, "CCSS", "AG-2", mode=None)
    other_institution = _sealed_batch(app, coop, "INS", "AG-3")
    outside = make_cooperative("CROUT", name="Outside")
    outside_federation = _sealed_batch(app, outside, "CCSS", "AG-4")
    federation_id = federation_of(app, coop)
    email = _account(app, federation_id=federation_id)
    login(client, email)
    listed = client.get("/desk/").get_data(as_text=True)
    assert f"/desk/batches/{mine['batch_id']}" in listed
    for hidden in (by_hand, other_institution, outside_federation):
        assert f"/desk/batches/{hidden['batch_id']}\"" not in listed
        assert client.get(f"/desk/batches/{hidden['batch_id']}").status_code == 404
        assert client.post(f"/desk/batches/{hidden['batch_id']}/download").status_code == 404
        assert client.post(f"/desk/batches/{hidden['batch_id']}/answer").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeskEvent)) == 0


def test_an_institution_account_gets_404_from_every_cooperative_page(app, client, coop,
                                                                     make_user, make_member):
    ids = _ids_in(app, coop, make_member, make_user)
    mine = _sealed_batch(app, coop, "CCSS", "AG-M")
    ids["batch_id"] = mine["batch_id"]  # a batch it may see at the desk, never in the books
    login(client, _account(app))
    checked = 0
    for endpoint, rule in _endpoints(app).items():
        if endpoint == "auth.logout":
            continue
        response = _request(client, rule, _url(app, rule, ids))
        allowed = ACCESS[endpoint]
        if allowed in (PUBLIC, LOGIN) or allowed == INSTITUTION:
            assert response.status_code != 403, endpoint
        elif allowed in OUTSIDE_LEVELS:  # a federation's or the platform's pages
            assert response.status_code == 403, endpoint
        elif endpoint == "core.index":
            assert response.headers["Location"].endswith("/desk/"), endpoint
        else:
            assert response.status_code == 404, f"the desk reached {endpoint}"
            checked += 1
    assert checked > 50


def test_desk_settings_are_the_cooperative_admins(app, client, coop, make_user):
    ids = _sealed_batch(app, coop, mode=None)
    _uid, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)
    with app.app_context():
        agreement_id = db.session.get(Batch, ids["batch_id"]).agreement_id
    assert "AG-DESK" in client.get("/desk/settings").get_data(as_text=True)
    response = client.post("/desk/settings", data={"agreement": agreement_id,
                                                   f"a{agreement_id}-mode": "desk_applied"},
                           follow_redirects=True)
    assert "Saved for AG-DESK" in response.get_data(as_text=True)
    with app.app_context(), app.test_request_context():
        settings = desk.desk_settings(db.session.get(Cooperative, coop.id))
        assert settings[agreement_id].applies_answers is True
    response = client.post("/desk/settings", data={"agreement": "999999",
                                                   "a999999-mode": "desk"},
                           follow_redirects=True)
    assert "Choose one of the cooperative&#39;s agreements" in response.get_data(as_text=True)


def test_desk_account_from_the_command_line(app, coop, make_user):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["federations", "desk-account", "mesa@ccss.example",
                                 "--institution", "ccss", "--password-stdin"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "desk of CCSS" in result.output
    _uid, coop_user = make_user(coop, "secretary")
    for args, reason in [
        (["federations", "desk-account", "mesa@ccss.example", "--institution", "CCSS"],
         "already an institution's account"),
        (["federations", "desk-account", coop_user, "--institution", "CCSS"],
         "holds a role in a cooperative"),
        (["federations", "desk-account", "x@y.example", "--institution", "CCSS",
          "--federation", "NOPE"], "no federation"),
        (["federations", "desk-account", "not-an-email", "--institution", "CCSS"],
         "not an email"),
    ]:
        refused = runner.invoke(args=args, input=PASSWORD + "\n")
        assert refused.exit_code == 2, (args, refused.output)
        assert reason in refused.output, (args, refused.output)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InstitutionAccount)) == 1


def test_the_federation_admin_creates_a_desk_account(app, client, coop):
    from tests.federations.helpers import federation_user

    federation_id = federation_of(app, coop)
    login(client, federation_user(app, federation_id, "federation_admin"))
    data = {"email": "mesa@ccss.example", "name": "Mesa CCSS", "institution": "ccss",
            "password": PASSWORD}
    # only for an institution the federation's cooperatives deal with
    response = client.post("/federation/desk-accounts", data=data, follow_redirects=True)
    assert ("No cooperative of the federation deals with an institution CCSS"
            in response.get_data(as_text=True))
    with app.app_context(), acting_as(None, "tests"):
        agreement_with(coop, "CCSS", "AG-1")
        db.session.commit()
    response = client.post("/federation/desk-accounts", data=data, follow_redirects=True)
    assert "mesa@ccss.example can now use the desk of CCSS" in response.get_data(as_text=True)
    again = client.post("/federation/desk-accounts", data=data, follow_redirects=True)
    assert "There is already an account for mesa@ccss.example" in again.get_data(as_text=True)
    weak = client.post("/federation/desk-accounts", data=dict(data, email="b@ccss.example",
                                                              password="123"),
                       follow_redirects=True)
    assert "b@ccss.example can now use" not in weak.get_data(as_text=True)
    with app.app_context():
        account = db.session.scalar(select(InstitutionAccount))
        assert (account.institution_code, account.federation_id) == ("CCSS", federation_id)
        assert db.session.scalar(select(func.count()).select_from(InstitutionAccount)) == 1
    client.post("/logout")
    login(client, "mesa@ccss.example")
    assert "desk: CCSS" in client.get("/desk/").get_data(as_text=True)
