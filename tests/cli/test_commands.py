"""The `coopreg` command line: each command changes nothing and exits non-zero with a one-line
reason on bad arguments."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from coopreg.auth.models import Membership, User
from coopreg.cooperatives.models import Cooperative
from coopreg.extensions import db
from coopreg.members.models import Member
from coopreg.members.national_ids import ID_TYPES_BY_COUNTRY


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args, stdin: str | None = None):
        return runner.invoke(args=list(args), input=stdin)
    return invoke


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_create_cooperative(run, app):
    result = run("cooperatives", "create", "brcoop", "--name", "Cooperativa Reciclar",
                 "--country", "br", "--currency", "brl")
    assert result.exit_code == 0, result.output
    assert "Created cooperative BRCOOP" in result.output
    with app.app_context():
        cooperative = db.session.scalar(select(Cooperative).where(Cooperative.code == "BRCOOP"))
        assert (cooperative.country, cooperative.currency) == ("BR", "BRL")
        assert len(cooperative.document_types) == 3


@pytest.mark.parametrize("args,reason", [
    (["X", "--name", "N", "--country", "CR", "--currency", "CRC"], "2 to 20"),
    (["OK1", "--name", "N", "--country", "ZZ", "--currency", "CRC"], "ISO 3166"),
    (["OK1", "--name", "N", "--country", "CR", "--currency", "EURO"], "ISO 4217"),
    (["OK1", "--name", " ", "--country", "CR", "--currency", "CRC"], "name is required"),
    (["OK1", "--name", "N", "--country", "CR", "--currency", "CRC", "--id-pattern", "(["],
     "regular expression"),
])
def test_create_cooperative_refuses_bad_arguments(run, app, args, reason):
    before = _count(app, Cooperative)
    result = run("cooperatives", "create", *args)
    assert result.exit_code != 0
    assert reason in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert _count(app, Cooperative) == before


def test_duplicate_cooperative_code(run, coop):
    result = run("cooperatives", "create", coop.code, "--name", "Again", "--country", "CR",
                 "--currency", "CRC")
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_create_user_with_password_on_stdin(run, app, coop):
    result = run("users", "create", "Treasurer@Example.org", "--cooperative", coop.code,
                 "--role", "treasurer", "--name", "Tere", "--password-stdin",
                 stdin="a long treasurer passphrase\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "treasurer@example.org"))
        assert user.role_in(coop.id) == "treasurer"


def test_create_user_with_prompt(run, app, coop):
    result = run("users", "create", "prompted@example.org", "--cooperative", coop.code,
                 "--role", "viewer",
                 stdin="a long viewer passphrase\na long viewer passphrase\n")
    assert result.exit_code == 0, result.output
    assert _count(app, User) == 1


def test_existing_user_gets_a_role_in_another_cooperative(run, app, coop, other_coop,
                                                          make_user):
    _id, email = make_user(coop, "secretary")
    result = run("users", "create", email, "--cooperative", other_coop.code, "--role", "viewer")
    assert result.exit_code == 0, result.output
    assert "Updated" in result.output
    assert _count(app, Membership) == 2


@pytest.mark.parametrize("args,stdin,reason", [
    (["bad-email", "--cooperative", "CRTEST", "--role", "admin"], "a long enough pass 1\n",
     "not an email"),
    (["a@example.org", "--cooperative", "NOPE", "--role", "admin"], "a long enough pass 1\n",
     "No cooperative"),
    (["a@example.org", "--cooperative", "CRTEST", "--role", "boss"], "a long enough pass 1\n",
     "Invalid value"),
    (["a@example.org", "--cooperative", "CRTEST", "--role", "admin"], "short\n",
     "at least 12"),
])
def test_create_user_refuses_bad_arguments(run, app, coop, args, stdin, reason):
    result = run("users", "create", *args, "--password-stdin", stdin=stdin)
    assert result.exit_code != 0
    assert reason in result.output
    assert _count(app, User) == 0


def test_demo_is_idempotent_and_prints_logins(run, app):
    result = run("demo", "--members", "25")
    assert result.exit_code == 0, result.output
    assert "admin@demo.coop" in result.output and "coopreg-demo-2026" in result.output
    with app.app_context():
        codes = set(db.session.scalars(select(Cooperative.code)))
        assert {"CRAGRO", "PHCOOP", "ARCOOP"} <= codes
        counts = dict(db.session.execute(
            select(Cooperative.code, func.count(Member.id)).join(Member)
            .group_by(Cooperative.code)).all())
        assert counts == {"CRAGRO": 25, "PHCOOP": 25, "ARCOOP": 25}
        users = db.session.scalar(select(func.count()).select_from(User))
        roles = set(db.session.scalars(select(Membership.role)))
        assert roles == {"admin", "secretary", "treasurer", "viewer"}
    again = run("demo", "--members", "25")
    assert again.exit_code == 0
    assert "already there" in again.output
    assert _count(app, Member) == 75
    assert _count(app, User) == users


def test_demo_members_have_valid_ids_of_their_country(run, app):
    run("demo", "--members", "30")
    with app.app_context():
        rows = db.session.execute(select(Cooperative.country, Member.id_type, Member.id_number)
                                  .join(Member).where(Member.id_number.is_not(None))).all()
    assert rows
    assert {country for country, _type, _number in rows} == {"CR", "PH", "AR"}
    for country, id_type, number in rows:
        if country in ("CR", "AR"):  # cédulas (cr.cpf) and CUILs (ar.cuit)
            module = dict((t.code, t) for t in ID_TYPES_BY_COUNTRY[country])[id_type].stdnum()
            assert module.is_valid(number), number
        else:
            assert len(number) == 12 and number.isdigit()
