"""Building, sealing and sending batches: proposals per kind, line checks, sealing for good
(no service, route or statement changes a sealed batch or its file), the checksum on
download, superseding, and the CLI."""

from __future__ import annotations

import os
import stat
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select, text

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import Registration, RegistrationEvent, RegistrationStatus
from coopreg.batches import services
from coopreg.batches.models import Batch, BatchLine, BatchStatus
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.members import services as member_services
from tests.conftest import member_data

S = RegistrationStatus


def _rows(path: Path, sheet: str = "Lines") -> list[list]:
    workbook = CalamineWorkbook.from_path(str(path))
    return workbook.get_sheet_by_name(sheet).to_python()


def test_enrolment_proposes_ready_registrations_and_seals(cr, agreement, ready, export_dir):
    members = ready(3)
    other = agreement_services.enrol_member(
        agreement, member_services.create_member(cr, member_data(), confirm_duplicate=True),
        None)
    assert other.status == S.PENDING  # not proposed
    batch = services.create_batch(cr, agreement, "enrolment", None)
    assert batch.reference == f"B-{batch.number:06d}" and batch.status == BatchStatus.DRAFT
    assert services.line_counts(batch).included == 3
    path = services.seal_batch(batch, None, export_dir)
    assert path.parent == Path(export_dir) / cr.code
    assert path.name.startswith(batch.reference) and path.suffix == ".xlsx"
    assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert not os.stat(path).st_mode & 0o077, "sealed files are the app's account's only"
    assert not os.stat(path.parent).st_mode & 0o077
    assert batch.status == BatchStatus.SEALED and batch.row_count == 3
    assert batch.sha256 == services.sha256_file(path)
    rows = _rows(path)
    assert len(rows) == 4
    assert {r[1] for r in rows[1:]} == {m.id_number for m, _r in members}
    for _member, registration in members:
        assert registration.status == S.SUBMITTED
        event = db.session.scalar(select(RegistrationEvent).where(
            RegistrationEvent.registration_id == registration.id,
            RegistrationEvent.to_status == S.SUBMITTED))
        assert event.reason_params == {"ref": batch.reference}
    assert other.status == S.PENDING


def test_nothing_to_send(cr, agreement):
    with pytest.raises(DomainError, match="Nothing to send"):
        services.create_batch(cr, agreement, "enrolment", None)


def test_lines_with_problems_are_left_out_or_block(cr, agreement, ready, export_dir):
    ready(2)
    ready(1, phone="")
    layout = services.layout_for(agreement, "enrolment")
    phone = next(c for c in layout.columns if c.source == "member.phone")
    phone.required = True
    db.session.flush()
    batch = services.create_batch(cr, agreement, "enrolment", None, policy="block")
    counts = services.line_counts(batch)
    assert (counts.total, counts.included, counts.with_problems) == (3, 2, 1)
    problem = services.batch_lines(batch, "problems")[0]
    assert "Phone" in problem.problem and not problem.included
    with pytest.raises(DomainError, match="block"):
        services.seal_batch(batch, None, export_dir)
    services.set_policy(batch, "exclude")
    path = services.seal_batch(batch, None, export_dir)
    assert len(_rows(path)) == 3
    left_out = db.session.get(Registration, problem.registration_id)
    assert left_out.status == S.READY  # waits for the next batch


def test_fixed_width_preview_reports_values_that_do_not_fit(cr, agreement, ready):
    ready(1, last_name="Extraordinariamente-Larguísimo-Apellido-De-Prueba")
    ready(1)
    services.create_layout(agreement, "enrolment", "fixed_width_enrolment")
    batch = services.create_batch(cr, agreement, "enrolment", None)
    problems = services.batch_lines(batch, "problems")
    assert len(problems) == 1 and "does not fit in 25" in problems[0].problem


def test_csv_layout_in_cp1252_reports_unwritable_characters(cr, agreement, ready, export_dir):
    ready(1, first_name="Zoë")
    ready(1, first_name="Łucja")
    layout = services.create_layout(agreement, "enrolment", "generic_enrolment")
    services.update_layout(layout, {"name": "CSV", "format": "csv", "encoding": "cp1252",
                                    "delimiter": ";", "decimal_mark": ","})
    batch = services.create_batch(cr, agreement, "enrolment", None)
    assert services.line_counts(batch).with_problems == 1
    path = services.seal_batch(batch, None, export_dir)
    text_ = path.read_bytes().decode("cp1252")
    assert "Zoë" in text_ and ";" in text_ and "Łucja" not in text_


def test_a_member_named_like_a_formula_comes_out_as_text(cr, agreement, ready, export_dir):
    ready(1, first_name='=HYPERLINK("http://x","y")', last_name="@SUM(1)")
    path = services.seal_batch(services.create_batch(cr, agreement, "enrolment", None), None,
                               export_dir)
    row = _rows(path)[1]
    assert row[4] == '=HYPERLINK("http://x","y")' and row[2] == "@SUM(1)"


def test_remittance_uses_the_contributions_provider(cr, agreement, ready, export_dir,
                                                    monkeypatch):
    people = ready(2)
    for _m, registration in people:
        agreement_services.transition_registration(registration, S.SUBMITTED, None)
        agreement_services.transition_registration(
            registration, S.REGISTERED, None,
            institution_number=f"CC-{1000000 + registration.id:07d}",
            coverage_start=date(2025, 1, 1))
    calls = []

    def fake(agreement_, period):
        calls.append(period)
        return [{"member": m, "registration": r, "period": period,
                 "member_share": Decimal("250.25"), "cooperative_share": Decimal("249.75"),
                 "total": Decimal("500.00")} for m, r in people]

    monkeypatch.setitem(services.BATCH_SOURCES, "remittance", fake)
    monkeypatch.setitem(services.BATCH_TOTALS, "remittance", lambda a, p: Decimal("999.99"))
    batch = services.create_batch(cr, agreement, "remittance", None, period="2025-03")
    assert calls == [date(2025, 3, 1)]
    with pytest.raises(DomainError, match="differs from the remittance recorded"):
        services.seal_batch(batch, None, export_dir)
    monkeypatch.setitem(services.BATCH_TOTALS, "remittance", lambda a, p: Decimal("1000.00"))
    path = services.seal_batch(batch, None, export_dir)
    assert batch.totals == {"total": 100000, "member_share": 50050, "cooperative_share": 49950}
    rows = _rows(path)
    assert rows[1][4] == date(2025, 3, 1) and rows[1][5:] == [250.25, 249.75, 500.0]
    summary = {r[0]: r[1:] for r in _rows(path, "Summary")}
    assert summary["Total"][2] == 1000.0 and summary["Member share"][2] == 500.5
    assert summary["Lines"][1] == 2
    for _m, registration in people:
        assert registration.status == S.REGISTERED  # a remittance moves nobody


def test_the_app_connects_the_contributions_ledger_to_remittance_batches(app):
    """Batches and contributions sit in one layer and never import each other: the factory
    connects the ledger's lines and total to the batches' registries."""
    from coopreg.contributions import services as contributions

    assert services.BATCH_SOURCES["remittance"] is contributions.remittance_batch_lines
    assert services.BATCH_TOTALS["remittance"] is contributions.remittance_total


def _register(registration, n: int):
    agreement_services.transition_registration(registration, S.REGISTERED, None,
                                               institution_number=f"CC-{n:07d}",
                                               coverage_start=date(2025, 1, 1))


def test_exit_and_update_batches(cr, agreement, ready, export_dir):
    people = ready(3)
    services.seal_batch(services.create_batch(cr, agreement, "enrolment", None), None,
                        export_dir)
    for n, (_m, registration) in enumerate(people, start=1):
        _register(registration, n)
    with pytest.raises(DomainError, match="has changed"):
        services.create_batch(cr, agreement, "update", None)
    people[0][0].phone = "2222-3333"
    db.session.flush()
    update = services.create_batch(cr, agreement, "update", None)
    lines = services.batch_lines(update)
    assert [line.registration_id for line in lines] == [people[0][1].id]
    services.seal_batch(update, None, export_dir)
    with pytest.raises(DomainError, match="has changed"):
        services.create_batch(cr, agreement, "update", None)

    agreement_services.flag_registrations_for_exit(people[1][0], "Left", date(2025, 6, 30))
    exit_batch = services.create_batch(cr, agreement, "exit", None)
    path = services.seal_batch(exit_batch, None, export_dir)
    assert people[1][1].status == S.TERMINATED and not people[1][1].exit_flagged
    assert _rows(path)[1][0] == "CC-0000002" and _rows(path)[1][4] == date(2025, 6, 30)


# ---- sealing is final ----------------------------------------------------------------------

@pytest.fixture
def sealed(cr, agreement, ready, export_dir):
    ready(2)
    batch = services.create_batch(cr, agreement, "enrolment", None)
    path = services.seal_batch(batch, None, export_dir)
    db.session.flush()
    return batch, path


def test_services_refuse_to_change_a_sealed_batch(sealed, export_dir):
    batch, path = sealed
    before = path.read_bytes()
    for action in (lambda: services.seal_batch(batch, None, export_dir),
                   lambda: services.refresh_batch(batch),
                   lambda: services.set_policy(batch, "block"),
                   lambda: services.discard_batch(batch)):
        with pytest.raises(DomainError):
            action()
    assert path.read_bytes() == before and batch.status == BatchStatus.SEALED


@pytest.mark.parametrize("change", ["sha256", "file_path", "row_count", "line", "delete_line",
                                    "delete_batch", "back_to_draft", "add_line"])
def test_the_orm_refuses_to_change_a_sealed_batch(sealed, change):
    batch, _path = sealed
    line = db.session.scalar(select(BatchLine).where(BatchLine.batch_id == batch.id))
    if change == "sha256":
        batch.sha256 = "0" * 64
    elif change == "file_path":
        batch.file_path = "elsewhere.xlsx"
    elif change == "row_count":
        batch.row_count = 99
    elif change == "line":
        line.values = ["changed"]
    elif change == "delete_line":
        db.session.delete(line)
    elif change == "delete_batch":
        db.session.delete(batch)
    elif change == "back_to_draft":
        batch.status = BatchStatus.DRAFT
    else:
        db.session.add(BatchLine(cooperative_id=batch.cooperative_id, batch_id=batch.id,
                                 line_no=99, values=[], included=True))
    with pytest.raises(RuntimeError, match="sealed"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE batch_lines SET problem = 'x' WHERE batch_id = :id",
    "DELETE FROM batch_lines WHERE batch_id = :id",
    "INSERT INTO batch_lines (cooperative_id, batch_id, line_no, {values}, included) "
    "SELECT cooperative_id, id, 99, '[]', true FROM batches WHERE id = :id",
    "UPDATE batches SET sha256 = 'x' WHERE id = :id",
    "UPDATE batches SET file_path = 'x' WHERE id = :id",
    "UPDATE batches SET status = 'draft' WHERE id = :id",
    "DELETE FROM batches WHERE id = :id",
])
def test_the_database_refuses_to_change_a_sealed_batch(sealed, statement):
    batch, _path = sealed
    batch_id = batch.id
    db.session.commit()  # a savepoint of the test's transaction
    values = '"values"'
    with pytest.raises(Exception, match="sealed batch"), db.session.begin_nested():
        db.session.execute(text(statement.format(values=values)), {"id": batch_id})
    db.session.rollback()


def test_status_may_still_move_on_after_sealing(sealed):
    batch, _path = sealed
    services.mark_sent(batch, date.today(), "portal", "receipt 123")
    db.session.flush()
    assert batch.status == BatchStatus.SENT
    with pytest.raises(DomainError, match="already marked sent"):
        services.mark_sent(batch, date.today(), "email", None)


def test_mark_sent_checks_the_date(sealed):
    batch, _path = sealed
    with pytest.raises(DomainError, match="future"):
        services.mark_sent(batch, date(2999, 1, 1), "portal", None)
    with pytest.raises(DomainError, match="how"):
        services.mark_sent(batch, date.today(), "pigeon", None)


def test_download_checks_the_checksum(sealed, export_dir):
    batch, path = sealed
    data, name = services.verified_file(batch, export_dir)
    assert data == path.read_bytes() and name == path.name
    os.chmod(path, 0o644)
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(services.FileRefused, match="no longer matches"):
        services.verified_file(batch, export_dir)
    path.unlink()
    with pytest.raises(services.FileRefused, match="missing"):
        services.verified_file(batch, export_dir)


def test_sealing_never_replaces_an_existing_file(cr, agreement, ready, export_dir):
    """A file under the batch's name that no sealed batch records (a sealing that did not
    commit) is moved aside, kept, and the batch's file takes its own name (issue 26: no
    `-2` copy with other content beside it)."""
    ready(1)
    batch = services.create_batch(cr, agreement, "enrolment", None)
    directory = Path(export_dir) / cr.code
    directory.mkdir(parents=True, exist_ok=True)
    squatter = directory / f"{batch.reference}-enrolment.xlsx"
    if squatter.exists():
        squatter.chmod(0o644)
    squatter.write_bytes(b"someone else's")
    path = services.seal_batch(batch, None, export_dir)
    assert path == squatter and services.sha256_file(path) == batch.sha256
    kept = [p for p in (Path(export_dir) / "unrecorded").rglob(squatter.name)
            if p.read_bytes() == b"someone else's"]
    assert kept, "moved aside, not destroyed"


def test_a_failed_transaction_leaves_no_file(cr, agreement, ready, export_dir, monkeypatch):
    ready(2)
    batch = services.create_batch(cr, agreement, "enrolment", None)
    directory = Path(export_dir) / cr.code
    before = set(directory.iterdir()) if directory.exists() else set()

    def failing(*args, **kwargs):
        raise DomainError("the database said no")

    monkeypatch.setattr(agreement_services, "transition_many", failing)
    with pytest.raises(DomainError, match="said no"):
        services.seal_batch(batch, None, export_dir)
    # nothing new (an earlier test's unrecorded file under this name may have been moved
    # aside: the shared folder outlives the rolled-back batches)
    assert set(directory.iterdir()) <= before


def test_supersede_replaces_a_sealed_batch(sealed, cr, agreement, export_dir):
    batch, path = sealed
    replacement = services.supersede_batch(batch, None)
    assert replacement.supersedes_id == batch.id
    assert services.line_counts(replacement).included == 2
    new_path = services.seal_batch(replacement, None, export_dir)
    assert batch.status == BatchStatus.SUPERSEDED
    assert new_path != path and path.exists()
    summary = {r[0]: r[1:] for r in _rows(new_path, "Summary")}
    assert summary["Replaces batch"][0] == batch.reference
    registrations = db.session.scalars(select(Registration).where(
        Registration.agreement_id == agreement.id)).all()
    assert {r.status for r in registrations} == {S.SUBMITTED}
    with pytest.raises(DomainError):
        services.supersede_batch(batch, None)


def test_discarded_drafts_keep_their_number(cr, agreement, ready):
    ready(1)
    first = services.create_batch(cr, agreement, "enrolment", None)
    services.discard_batch(first)
    second = services.create_batch(cr, agreement, "enrolment", None)
    assert second.number == first.number + 1
    assert db.session.scalar(select(func.count()).select_from(Batch).where(
        Batch.cooperative_id == cr.id)) == 2
