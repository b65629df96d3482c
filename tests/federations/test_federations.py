"""Federations: the command line, the cooperative's member-records setting, the duplicate
check across the federation's cooperatives (run on both databases like the whole suite), the
duplicate report and the roll-ups."""

from __future__ import annotations

from sqlalchemy import func, select

from coopreg.agreements import services as agreement_services
from coopreg.agreements.coverage import coverage_report
from coopreg.agreements.models import Agreement, RegistrationStatus
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import AuditEvent, acting_as
from coopreg.extensions import db
from coopreg.federations import rollups, services
from coopreg.federations.models import Federation, FederationCooperative, FederationMembership
from coopreg.members import services as member_services
from tests.conftest import login, member_data
from tests.factories import cedula
from tests.federations.helpers import agreement_with, federation_of, federation_user


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# ---- the command line -----------------------------------------------------------------------
def test_create_and_add_from_the_command_line(app, coop, other_coop):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["federations", "create", "fedcr", "--name", "Unión Norte"])
    assert result.exit_code == 0, result.output
    assert "Created federation FEDCR" in result.output
    result = runner.invoke(args=["federations", "add", "FEDCR", coop.code])
    assert result.exit_code == 0, result.output
    with app.app_context():
        place = db.session.scalar(select(FederationCooperative).where(
            FederationCooperative.cooperative_id == coop.id))
        assert place.federation.code == "FEDCR" and place.shares_member_records is False


def test_bad_arguments_exit_2_with_the_reason_and_change_nothing(app, coop, make_user):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["federations", "create", "FEDA", "--name", "A"]).exit_code == 0
    before = (_count(app, Federation), _count(app, FederationCooperative))
    cases = [
        (["federations", "create", "x", "--name", "Too short"], "2 to 20"),
        (["federations", "create", "FEDA", "--name", "Again"], "already a federation FEDA"),
        (["federations", "create", "FEDB", "--name", "  "], "name"),
        (["federations", "create", "FEDB"], "--name"),
        (["federations", "add", "NOPE", coop.code], "no federation with code 'NOPE'"),
        (["federations", "add", "FEDA", "NOCOOP"], "no cooperative with code 'NOCOOP'"),
        (["federations", "grant", "nobody@example.org", "--federation", "FEDA", "--role",
          "federation_analyst"], "no user"),
        (["federations", "grant", "x@example.org", "--federation", "FEDA", "--role", "boss"],
         "boss"),
    ]
    for args, reason in cases:
        result = runner.invoke(args=args)
        assert result.exit_code == 2, (args, result.output)
        assert reason in result.output, (args, result.output)
    assert runner.invoke(args=["federations", "add", "FEDA", coop.code]).exit_code == 0
    again = runner.invoke(args=["federations", "add", "FEDA", coop.code])
    assert again.exit_code == 2 and "already in FEDA" in again.output, again.output
    assert (_count(app, Federation), _count(app, FederationCooperative)) == (
        before[0], before[1] + 1)


def test_grant_a_federation_role_from_the_command_line(app, make_user):
    runner = app.test_cli_runner()
    runner.invoke(args=["federations", "create", "FEDG", "--name", "G"])
    _uid, email = make_user()
    result = runner.invoke(args=["federations", "grant", email, "--federation", "FEDG",
                                 "--role", "federation_analyst"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        membership = db.session.scalar(select(FederationMembership))
        assert membership.role.value == "federation_analyst"


# ---- the member-records setting ----------------------------------------------------------------
def test_the_cooperative_admin_opens_member_records_and_it_is_audited(app, client, coop,
                                                                      make_user):
    federation_of(app, coop)
    _uid, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)
    assert "belongs to the federation" in client.get("/federation/sharing").get_data(True)
    response = client.post("/federation/sharing", data={"shares_member_records": "y"})
    assert response.status_code == 302
    with app.app_context():
        place = db.session.scalar(select(FederationCooperative).where(
            FederationCooperative.cooperative_id == coop.id))
        assert place.shares_member_records is True
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.entity == "federation_cooperatives", AuditEvent.action == "update"))
        assert event is not None and "shares_member_records" in event.changes


def test_a_cooperative_outside_any_federation_is_told_so(app, client, coop, make_user):
    _uid, email = make_user(coop, "admin")
    login(client, email, cooperative=coop)
    assert "belongs to no federation" in client.get("/federation/sharing").get_data(True)
    response = client.post("/federation/sharing", data={"shares_member_records": "y"})
    assert response.status_code == 422
    assert "belongs to no federation" in response.get_data(True)


# ---- the duplicate check --------------------------------------------------------------------
def _two_cooperatives(app, make_cooperative):
    first = make_cooperative("COOPA", name="Cooperativa A")
    second = make_cooperative("COOPB", name="Cooperativa B")
    federation_of(app, first, second)
    return first, second


def _member_enrolled(cooperative, agreement, id_number, status=None, reason=None):
    coop = db.session.get(Cooperative, cooperative.id)
    member = member_services.create_member(coop, member_data(id_type="cr_cedula",
                                                             id_number=id_number),
                                           confirm_duplicate=True)
    registration = agreement_services.enrol_member(agreement, member, None)
    if status is not None:
        agreement_services.transition_registration(registration, status, None, reason=reason)
    return member


def test_an_id_enrolled_through_another_cooperative_is_found(app, make_cooperative):
    first, second = _two_cooperatives(app, make_cooperative)
    outsider = make_cooperative("COOPC", name="Outside")
    number, other = cedula(), cedula()
    with app.test_request_context(), acting_as(None, "tests"):
        ag_a = agreement_with(first, "CCSS", "A-1")
        ag_b = agreement_with(second, "CCSS", "B-1")
        ag_b_ins = agreement_with(second, "INS", "B-2")
        ag_c = agreement_with(outsider, "CCSS", "C-1")
        _member_enrolled(first, ag_a, number)
        _member_enrolled(outsider, ag_c, other)
        same = _member_enrolled(second, ag_b, number)
        fresh = _member_enrolled(second, ag_b, cedula())
        not_federated = _member_enrolled(second, ag_b, other)
        assert agreement_services.registered_elsewhere(
            ag_b, [same.id, fresh.id, not_federated.id]) == {same.id}
        # another institution: nothing to say
        assert agreement_services.registered_elsewhere(ag_b_ins, [same.id]) == set()


def test_a_terminated_registration_elsewhere_is_not_a_duplicate(app, make_cooperative):
    first, second = _two_cooperatives(app, make_cooperative)
    number = cedula()
    with app.test_request_context(), acting_as(None, "tests"):
        ag_a = agreement_with(first, "CCSS", "A-1")
        ag_b = agreement_with(second, "ccss", "B-1")  # the code compared in any case
        _member_enrolled(first, ag_a, number, RegistrationStatus.TERMINATED, "moved")
        member = _member_enrolled(second, ag_b, number)
        assert agreement_services.registered_elsewhere(ag_b, [member.id]) == set()


def test_the_secretary_is_warned_when_enrolling_and_nothing_more(app, client, make_cooperative,
                                                                 make_user):
    first, second = _two_cooperatives(app, make_cooperative)
    number = cedula()
    with app.test_request_context(), acting_as(None, "tests"):
        ag_a = agreement_with(first, "CCSS", "A-1")
        ag_b = agreement_with(second, "CCSS", "B-1")
        _member_enrolled(first, ag_a, number)
        coop_b = db.session.get(Cooperative, second.id)
        member = member_services.create_member(coop_b, member_data(
            id_type="cr_cedula", id_number=number, first_name="Ana", last_name="Rojas"),
            confirm_duplicate=True)
        member_id, agreement_id, first_agreement_id = member.id, ag_b.id, ag_a.id
        db.session.commit()
    _uid, email = make_user(second, "secretary")
    login(client, email, cooperative=second)
    response = client.post(f"/agreements/members/{member_id}/enrol",
                           data={"agreement_id": agreement_id}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "through another cooperative of the federation" in page
    assert "Cooperativa A" not in page and "COOPA" not in page
    # the bulk enrolment warns the same way
    with app.test_request_context(), acting_as(None, "tests"):
        coop_b = db.session.get(Cooperative, second.id)
        twin = member_services.create_member(coop_b, member_data(
            id_type="cr_cedula", id_number=cedula()), confirm_duplicate=True)
        _member_enrolled(first, db.session.get(Agreement, first_agreement_id), twin.id_number)
        twin_id = twin.id
        db.session.commit()
    response = client.post(f"/agreements/{agreement_id}/enrol",
                           data={"member_id": [twin_id]}, follow_redirects=True)
    assert "through another cooperative of the federation" in response.get_data(as_text=True)


def test_the_duplicate_report_names_members_only_where_records_are_shared(app, client,
                                                                        make_cooperative):
    first, second = _two_cooperatives(app, make_cooperative)
    number = cedula()
    with app.test_request_context(), acting_as(None, "tests"):
        _member_enrolled(first, agreement_with(first, "CCSS", "A-1"), number)
        shared = _member_enrolled(second, agreement_with(second, "CCSS", "B-1"), number)
        services.set_member_records_shared(db.session.get(Cooperative, second.id), True)
        federation = db.session.scalar(select(Federation))
        found = services.duplicates(federation)
        assert len(found) == 1 and found[0].institution == "CCSS"
        assert number[-3:] in found[0].national_id and number not in found[0].national_id
        holders = {h.cooperative: h.member for h in found[0].holders}
        assert holders["Cooperativa A"] is None
        assert holders["Cooperativa B"] == f"{shared.member_number} {shared.first_name} " \
                                            f"{shared.last_name}"
        federation_id, last_name = federation.id, shared.last_name
        db.session.commit()
    login(client, federation_user(app, federation_id, "federation_analyst"))
    page = client.get("/federation/duplicates").get_data(as_text=True)
    assert "Cooperativa A" in page and last_name in page


# ---- the roll-ups ---------------------------------------------------------------------------
def test_the_roll_up_is_the_sum_of_each_cooperatives_own_figures(app, client, make_cooperative):
    first, second = _two_cooperatives(app, make_cooperative)
    with app.test_request_context(), acting_as(None, "tests"):
        ag_a = agreement_with(first, "CCSS", "A-1")
        ag_b = agreement_with(second, "CCSS", "B-1")
        for _n in range(3):
            _member_enrolled(first, ag_a, cedula(), RegistrationStatus.READY)
        _member_enrolled(second, ag_b, cedula())
        coop_b = db.session.get(Cooperative, second.id)
        member_services.create_member(coop_b, member_data(id_type="cr_cedula",
                                                          id_number=cedula()),
                                      confirm_duplicate=True)
        federation = db.session.scalar(select(Federation))
        report = rollups.roll_up(federation)
        own = [coverage_report(first.id), coverage_report(second.id)]
        assert report.coverage.total_active == sum(r.total_active for r in own) == 5
        for i, branch in enumerate(report.coverage.branches):
            assert branch.total == sum(r.branches[i].total for r in own)
            assert branch.covered == sum(r.branches[i].covered for r in own)
        funnels = [agreement_services.funnel(ag_a), agreement_services.funnel(ag_b)]
        for key in rollups.FUNNEL_KEYS:
            assert report.funnel[key] == sum(f[key] for f in funnels), key
        assert report.funnel["ready"] == 3 and report.funnel["pending"] == 1
        assert report.funnel["not_enrolled"] == 1
        assert [row.code for row in report.cooperatives] == ["COOPA", "COOPB"]
        federation_id = federation.id
        db.session.commit()
    login(client, federation_user(app, federation_id, "federation_analyst"))
    page = client.get("/federation/roll-up").get_data(as_text=True)
    assert "<svg" in page and "Cooperativa B" in page
    brief = client.get("/federation/roll-up/brief?lang=es").get_data(as_text=True)
    assert "Federación de Prueba" in brief and 'lang="es"' in brief
