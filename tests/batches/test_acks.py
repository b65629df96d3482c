"""The institution's answers: mapping, matching (never guessing), preview, applying all or
nothing, several parts."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import RegistrationStatus
from coopreg.batches import acks, services
from coopreg.batches.models import AckStatus, BatchStatus
from coopreg.core.errors import DomainError
from coopreg.extensions import db

S = RegistrationStatus
MAPPING = {"id_number": "Cedula", "institution_number": "Numero", "result": "Resultado",
           "reason": "Motivo", "effective_date": "Desde"}


@pytest.fixture
def sent(cr, agreement, ready, export_dir):
    people = ready(4)
    batch = services.create_batch(cr, agreement, "enrolment", None)
    services.seal_batch(batch, None, export_dir)
    acks.save_mapping(agreement, MAPPING, "A, OK", "R, ERROR")
    return batch, people


def _csv(rows) -> bytes:
    lines = ["Cedula;Numero;Resultado;Motivo;Desde"] + [";".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def test_apply_registers_and_rejects(sent):
    batch, people = sent
    (m1, r1), (m2, r2), (m3, r3), (m4, r4) = people
    data = _csv([[m1.id_number, "CC-0000001", "A", "", "01/02/2025"],
                 [m2.id_number, "", "r", "Ya asegurado", ""],
                 ["999999999", "CC-0000009", "A", "", "01/02/2025"]])
    ack = acks.upload_acknowledgement(batch, data, "respuesta.csv", None)
    assert ack.interpreted  # the agreement's mapping was kept
    assert (ack.accepted_count, ack.rejected_count, ack.unmatched_count,
            ack.problem_count) == (1, 1, 1, 0)
    unmatched = [row for row in ack.lines if row.batch_line_id is None]
    assert "999999999" in unmatched[0].problem_text  # listed, never guessed
    acks.apply_acknowledgement(ack, None)
    assert r1.status == S.REGISTERED and r1.institution_member_number == "CC-0000001"
    assert r1.coverage_start == date(2025, 2, 1)
    assert r2.status == S.REJECTED and r2.rejection_reason == "Ya asegurado"
    assert r3.status == S.SUBMITTED
    assert batch.status == BatchStatus.PARTIALLY_ACKNOWLEDGED
    # the second part
    second = acks.upload_acknowledgement(batch, _csv([
        [m3.id_number, "CC-0000003", "OK", "", "2025-02-01"],
        [m4.id_number, "", "ERROR", "", ""],
        [m1.id_number, "CC-0000001", "A", "", "01/02/2025"]]), "parte2.csv", None)
    assert second.unmatched_count == 0 and "already answered" in second.lines[2].problem_text
    acks.apply_acknowledgement(second, None)
    assert r3.status == S.REGISTERED and r4.status == S.REJECTED
    assert batch.status == BatchStatus.ACKNOWLEDGED
    with pytest.raises(DomainError, match="already has an answer"):
        acks.upload_acknowledgement(batch, data, "again.csv", None)


def test_xlsx_answers_with_numeric_ids_and_real_dates(sent):
    batch, people = sent
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Cedula", "Numero", "Resultado", "Motivo", "Desde"])
    member, registration = people[0]
    sheet.append([int(member.id_number), "CC-0000011", "A", None, date(2025, 3, 1)])
    stream = io.BytesIO()
    workbook.save(stream)
    ack = acks.upload_acknowledgement(batch, stream.getvalue(), "answer.xlsx", None)
    assert ack.accepted_count == 1, [row.problem_text for row in ack.lines]
    acks.apply_acknowledgement(ack, None)
    assert registration.coverage_start == date(2025, 3, 1)


def test_blocking_problems_refuse_the_whole_file(sent):
    batch, people = sent
    (m1, r1), (m2, r2) = people[:2]
    ack = acks.upload_acknowledgement(batch, _csv([
        [m1.id_number, "CC-0000001", "A", "", "01/02/2025"],
        [m2.id_number, "12345", "A", "", "01/02/2025"],  # not the agreement's pattern
    ]), "answer.csv", None)
    assert ack.problem_count == 1 and "CC-[0-9]{7}" in ack.lines[1].problem_text
    with pytest.raises(DomainError, match="nothing was applied"):
        acks.apply_acknowledgement(ack, None)
    assert r1.status == S.SUBMITTED and r2.status == S.SUBMITTED


@pytest.mark.parametrize("rows, message", [
    ([["{id}", "CC-0000001", "MAYBE", "", "01/02/2025"]], "neither"),
    ([["{id}", "", "A", "", "01/02/2025"]], "member number"),
    ([["{id}", "CC-0000001", "A", "", "31/31/2025"]], "not a date"),
    ([["{id}", "CC-0000001", "A", "", "01/02/2025"], ["{id}", "CC-0000001", "R", "", ""]],
     "already answers"),
])
def test_line_problems(sent, rows, message):
    batch, people = sent
    member = people[0][0]
    rows = [[cell.format(id=member.id_number) for cell in row] for row in rows]
    ack = acks.upload_acknowledgement(batch, _csv(rows), "answer.csv", None)
    if message == "neither":  # a word nobody declared: the file waits for the mapping
        assert not ack.interpreted and acks.propose(ack).unknown_words == ["maybe"]
        acks.interpret(ack)  # read with the mapping as it is: the row cannot be applied
    assert any(message in row.problem_text for row in ack.lines)


def test_apply_is_all_or_nothing(sent, monkeypatch):
    batch, people = sent
    rows = [[m.id_number, f"CC-000000{i}", "A", "", "01/02/2025"]
            for i, (m, _r) in enumerate(people, start=1)]
    ack = acks.upload_acknowledgement(batch, _csv(rows), "answer.csv", None)
    db.session.commit()  # the upload is kept (a savepoint of the test's transaction)
    real = agreement_services.transition_registration
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise DomainError("the institution's number is taken")
        return real(*args, **kwargs)

    monkeypatch.setattr(agreement_services, "transition_registration", failing)
    with pytest.raises(DomainError):
        acks.apply_acknowledgement(ack, None)
    db.session.rollback()
    assert len(calls) == 3
    db.session.expire_all()
    assert {r.status for _m, r in people} == {S.SUBMITTED}
    assert ack.status == AckStatus.UPLOADED and not any(row.applied for row in ack.lines)
    assert batch.status == BatchStatus.SEALED


def test_mapping_is_checked(agreement):
    with pytest.raises(DomainError, match="identifies the member"):
        acks.save_mapping(agreement, {"result": "R"}, "A", "R")
    with pytest.raises(DomainError, match="both"):
        acks.save_mapping(agreement, {"id_number": "I", "result": "R"}, "A, X", "X")


def test_a_file_whose_columns_are_not_mapped_waits_for_the_mapping(cr, agreement, ready,
                                                                   export_dir):
    people = ready(1)
    batch = services.create_batch(cr, agreement, "enrolment", None)
    services.seal_batch(batch, None, export_dir)
    ack = acks.upload_acknowledgement(batch, b"ID,Status\r\n1,A\r\n", "a.csv", None)
    assert not ack.interpreted and ack.headers == ["ID", "Status"]
    acks.save_mapping(agreement, {"id_number": "ID", "result": "Status"}, "A", "R")
    acks.interpret(ack)
    assert ack.unmatched_count == 1
    assert people


def test_answers_only_for_sealed_batches(cr, agreement, ready):
    ready(1)
    draft = services.create_batch(cr, agreement, "enrolment", None)
    with pytest.raises(DomainError, match="Only a sealed batch"):
        acks.upload_acknowledgement(draft, _csv([]), "a.csv", None)


def test_hostile_files_are_refused(sent):
    batch, _people = sent
    with pytest.raises(DomainError):
        acks.upload_acknowledgement(batch, b"PK\x03\x04not a zip", "a.xlsx", None)
    with pytest.raises(DomainError):
        acks.upload_acknowledgement(batch, b"\x00\x01binary", "a.csv", None)
