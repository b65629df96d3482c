"""`coopreg batches create` for scheduled use, and the demo's batches."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from coopreg.agreements.models import Agreement, Registration, RegistrationStatus
from coopreg.batches.models import AckMapping, Batch, BatchStatus
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.batches.helpers import make_agreement, ready_member


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.fixture
def seeded(app, coop):
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, "CLI-1")
        for _ in range(2):
            ready_member(cooperative, agreement)
        db.session.commit()
    return coop


def test_create_and_seal_prints_the_path(run, app, seeded):
    result = run("batches", "create", "--cooperative", "CRTEST", "--agreement", "cli-1",
                 "--kind", "enrolment", "--seal")
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert path.is_file() and path.parent.name == "CRTEST"
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Lines").to_python()
    assert len(rows) == 3
    with app.app_context():
        assert db.session.scalar(select(Batch.status)) == BatchStatus.SEALED
        statuses = set(db.session.scalars(select(Registration.status)))
        assert statuses == {RegistrationStatus.SUBMITTED}
    again = run("batches", "create", "--cooperative", "CRTEST", "--agreement", "CLI-1",
                "--kind", "enrolment", "--seal")
    assert again.exit_code != 0 and "Nothing to send" in again.output


def test_a_line_with_a_problem_fails_unless_left_out(run, app, seeded):
    with app.app_context(), acting_as(None, "tests"):
        agreement = db.session.scalar(select(Agreement).where(Agreement.reference == "CLI-1"))
        from coopreg.batches import services
        layout = services.layout_for(agreement, "enrolment")
        next(c for c in layout.columns if c.source == "member.middle_name").required = True
        db.session.commit()
    result = run("batches", "create", "--cooperative", "CRTEST", "--agreement", "CLI-1",
                 "--kind", "enrolment", "--seal")
    assert result.exit_code != 0 and "Middle name" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Batch)) == 0
    result = run("batches", "create", "--cooperative", "CRTEST", "--agreement", "CLI-1",
                 "--kind", "enrolment", "--seal", "--leave-out-problems")
    assert result.exit_code != 0 and "every line" in result.output


def test_unknown_agreement_and_period(run, seeded):
    result = run("batches", "create", "--cooperative", "CRTEST", "--agreement", "NOPE",
                 "--kind", "enrolment")
    assert result.exit_code != 0 and "No agreement" in result.output
    result = run("batches", "create", "--cooperative", "CRTEST", "--agreement", "CLI-1",
                 "--kind", "remittance", "--period", "March")
    assert result.exit_code != 0 and "month" in result.output


def test_demo_leaves_an_answered_batch_and_ready_registrations(run, app):
    result = run("demo", "--members", "40")
    assert result.exit_code == 0, result.output
    with app.app_context():
        for code in ("CRAGRO", "PHCOOP"):
            batch = db.session.scalar(select(Batch).join(Cooperative).where(
                Cooperative.code == code))
            assert batch is not None, result.output
            assert batch.status == BatchStatus.ACKNOWLEDGED
            assert (Path(app.config["EXPORT_DIR"]) / batch.file_path).is_file()
            ready = db.session.scalar(select(func.count()).select_from(Registration).where(
                Registration.agreement_id == batch.agreement_id,
                Registration.status == RegistrationStatus.READY))
            assert ready > 0
            rejected = db.session.scalar(select(func.count()).select_from(Registration).where(
                Registration.agreement_id == batch.agreement_id,
                Registration.rejection_reason.like("%ivil%")))  # civil registry, Registro Civil
            assert rejected >= 1
            # the institution's own headers, words and date form, read with no mapping typed
            mapping = db.session.scalar(select(AckMapping).where(
                AckMapping.agreement_id == batch.agreement_id))
            assert mapping.columns["result"] == {"CRAGRO": "Resultado",
                                                 "PHCOOP": "Status"}[code]
    again = run("demo", "--members", "40")
    assert again.exit_code == 0 and "already there; kept" in again.output
