"""The institution's answer file read as institutions send it (issue 18): the header row below
title rows, the columns proposed from their names in four languages and remembered per
agreement, the result words' meanings proposed, dates in any common form with no pattern to
type, problems said in the reader's language, and uploads that expire."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from openpyxl import Workbook

from coopreg.agreements.models import RegistrationStatus
from coopreg.batches import acks, services
from coopreg.batches.answer_reading import AnswerRole, find_header_row, propose_columns
from coopreg.batches.models import AckStatus, BatchStatus, ProblemKind
from coopreg.core.errors import DomainError
from coopreg.core.models import utcnow
from coopreg.extensions import db

S = RegistrationStatus
R = AnswerRole


@pytest.fixture
def sealed(cr, agreement, ready, export_dir):
    people = ready(6)
    batch = services.create_batch(cr, agreement, "enrolment", None)
    services.seal_batch(batch, None, export_dir)
    return batch, people


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def test_a_spanish_answer_with_title_rows_english_words_and_three_date_forms_needs_no_mapping(
        sealed, agreement):
    batch, people = sealed
    ids = [m.id_number for m, _r in people]
    data = _xlsx([
        ["CAJA COSTARRICENSE DE SEGURO SOCIAL"],
        ["Respuesta al lote", batch.reference, None, None, None],
        [],
        ["Cédula", "Número de asegurado", "Resultado", "Motivo de rechazo", "Fecha de vigencia"],
        [ids[0], "CC-0000101", "ACEPTADO", None, "01/02/2025"],
        [ids[1], "CC-0000102", "APPROVED", None, "2025-02-01"],
        [ids[2], "CC-0000103", "Aceptada", None, "1 de febrero de 2025"],
        [ids[3], None, "RECHAZADO", "Ya asegurado por su patrono", None],
        [ids[4], None, "DENIED", "Duplicate record", None],
        [ids[5], "CC-0000106", "aprobado", None, date(2025, 2, 1)],
    ])
    ack = acks.upload_acknowledgement(batch, data, "respuesta CCSS.xlsx", None)
    assert ack.interpreted, acks.propose(ack)
    assert ack.header_row == 4 and ack.row_count == 6
    assert (ack.accepted_count, ack.rejected_count, ack.problem_count) == (4, 2, 0), [
        row.problem_text for row in ack.lines]
    mapping = acks.mapping_for(agreement)  # proposed, kept for the next file, audited
    assert mapping.columns == {"id_number": "Cédula", "member_number": None,
                               "institution_number": "Número de asegurado",
                               "result": "Resultado", "reason": "Motivo de rechazo",
                               "effective_date": "Fecha de vigencia"}
    acks.apply_acknowledgement(ack, None)
    registrations = [r for _m, r in people]
    assert [r.status for r in registrations] == [S.REGISTERED] * 3 + [S.REJECTED] * 2 + [
        S.REGISTERED]
    assert {r.coverage_start for r in registrations if r.status == S.REGISTERED} == {
        date(2025, 2, 1)}
    assert registrations[3].rejection_reason == "Ya asegurado por su patrono"
    assert batch.status == BatchStatus.ACKNOWLEDGED


def test_a_philhealth_answer_writes_the_month_first(cr, agreement, ready, export_dir):
    agreement.cooperative.country = "PH"  # nothing in the column decides: the country does
    people = ready(2)
    batch = services.create_batch(cr, agreement, "enrolment", None)
    services.seal_batch(batch, None, export_dir)
    data = ("ID NUMBER,PIN,STATUS,REMARKS,EFFECTIVITY DATE\r\n"
            f"{people[0][0].id_number},CC-0000201,APPROVED,,02/01/2025\r\n"
            f"{people[1][0].id_number},CC-0000202,Approved,,03/01/2025\r\n").encode()
    ack = acks.upload_acknowledgement(batch, data, "rf1-answer.csv", None)
    assert ack.interpreted and ack.problem_count == 0, [r.problem_text for r in ack.lines]
    assert [row.effective_date for row in ack.lines] == [date(2025, 2, 1), date(2025, 3, 1)]


def test_a_column_mixing_both_date_orders_is_never_guessed(sealed, agreement):
    batch, people = sealed
    rows = "\r\n".join(f"{m.id_number};CC-000030{i};A;;{when}" for i, ((m, _r), when) in
                       enumerate(zip(people[:2], ["13/02/2025", "02/13/2025"], strict=True)))
    data = ("Cedula;Numero de asegurado;Resultado;Motivo;Vigencia\r\n" + rows).encode()
    ack = acks.upload_acknowledgement(batch, data, "mixed.csv", None)
    assert ack.problem_count == 2
    assert all("day first and others month first" in row.problem_text for row in ack.lines)
    mapping = acks.mapping_for(agreement)
    acks.save_mapping(agreement, mapping.columns, mapping.accepted_values,
                      mapping.rejected_values, "dmy")  # the secretary says which
    acks.interpret(ack)
    assert ack.problem_count == 1 and "is not a date" in ack.lines[1].problem_text


def test_the_mapping_is_remembered_for_the_next_file_whatever_its_column_order(sealed,
                                                                             agreement):
    batch, people = sealed
    acks.save_mapping(agreement, {"id_number": "Doc", "institution_number": "Nro",
                                  "result": "Res", "effective_date": "Alta"}, "SI", "NO")
    data = ("Alta;Res;Nro;Doc\r\n"
            f"01/03/2025;SI;CC-0000401;{people[0][0].id_number}\r\n").encode()
    ack = acks.upload_acknowledgement(batch, data, "a.csv", None)
    assert ack.interpreted and ack.accepted_count == 1
    assert ack.lines[0].effective_date == date(2025, 3, 1)


def test_unknown_words_wait_for_the_secretary_with_every_word_proposed(sealed):
    batch, people = sealed
    data = ("Cédula;Número de asegurado;Estado;Vigencia\r\n"
            f"{people[0][0].id_number};CC-0000501;ACEPTADO;01/02/2025\r\n"
            f"{people[1][0].id_number};;EN TRAMITE;\r\n").encode()
    ack = acks.upload_acknowledgement(batch, data, "a.csv", None)
    proposal = acks.propose(ack)
    assert not ack.interpreted and proposal.unknown_words == ["en tramite"]
    assert proposal.columns[R.RESULT] == "Estado" and "aceptado" in proposal.accepted


def test_headers_are_recognised_in_four_languages():
    for headers, expected in [
        (["N° CÉDULA", "ESTADO", "OBSERVACIONES"], (R.ID_NUMBER, R.RESULT, R.REASON)),
        (["PhilHealth No.", "Status", "Remarks"], (R.INSTITUTION_NUMBER, R.RESULT, R.REASON)),
        (["Numéro d'assuré", "Résultat", "Motif"], (R.INSTITUTION_NUMBER, R.RESULT, R.REASON)),
        (["CPF", "Situação", "Data de início"], (R.ID_NUMBER, R.RESULT, R.EFFECTIVE_DATE)),
    ]:
        proposal = propose_columns(headers)
        assert [proposal[role] for role in expected] == headers, headers
    rows = [["Informe de afiliación 2025"], ["Generado el 01/02/2025"], [],
            ["Cédula", "Resultado"], ["101110111", "A"]]
    assert find_header_row(rows) == 3


def test_problems_are_said_in_the_readers_language(sealed):
    batch, people = sealed
    data = ("Cédula;Número de asegurado;Resultado;Vigencia\r\n"
            f"{people[0][0].id_number};12345;ACEPTADO;01/02/2025\r\n"
            "999999999;CC-0000601;ACEPTADO;01/02/2025\r\n").encode()
    ack = acks.upload_acknowledgement(batch, data, "a.csv", None)
    assert ack.lines[0].problem_kind == ProblemKind.BLOCKING
    assert ack.lines[1].problem_kind == ProblemKind.SKIPPED
    with force_locale("es"):
        spanish = ack.lines[1].problem_text
    with force_locale("fr"):
        french = ack.lines[1].problem_text
    assert "999999999" in spanish and "999999999" in french and spanish != french
    assert "No line of batch" not in spanish and "No line of batch" not in french


def test_answers_never_applied_expire_and_keep_their_record(app, sealed):
    batch, people = sealed
    data = ("Cédula;Número de asegurado;Resultado;Vigencia\r\n"
            f"{people[0][0].id_number};CC-0000701;A;01/02/2025\r\n").encode()
    ack = acks.upload_acknowledgement(batch, data, "old.csv", None)
    fresh = acks.upload_acknowledgement(batch, data.replace(b"701", b"702"), "new.csv", None)
    hours = app.config["IMPORT_UPLOAD_RETENTION_HOURS"]
    assert acks.answer_expires_at(ack) is not None
    ack.created_at = utcnow() - timedelta(hours=hours + 1)
    db.session.flush()
    assert acks.expire_answers() == 1
    db.session.expire_all()
    assert ack.status == AckStatus.EXPIRED and ack.lines == [] and ack.sha256
    assert fresh.status == AckStatus.UPLOADED and len(fresh.lines) == 1
    assert acks.answer_expires_at(ack) is None
    with pytest.raises(DomainError, match="expired"):
        acks.apply_acknowledgement(ack, None)
    assert acks.expire_answers() == 0  # nothing twice


@pytest.mark.parametrize("language", ["es", "fr", "pt"])
def test_an_answer_files_page_reads_in_the_users_language(app, client, coop, make_user, sealed,
                                                          language):
    """A Spanish secretary, a French treasurer and a Portuguese admin read the same answer
    file (uploaded once): each row's problems and results in their own language, no English
    message and no raw code (issue 16)."""
    from flask_babel import refresh

    from coopreg.auth.models import User
    from coopreg.core.languages import speaking
    from coopreg.core.sentences import say
    from tests.conftest import login
    from tests.core.test_every_page_in_spanish import _problems, _raw_codes, _Text

    batch, people = sealed
    data = ("Cédula;Número de asegurado;Resultado;Vigencia\r\n"
            f"{people[0][0].id_number};12345;ACEPTADO;01/02/2025\r\n"
            f"{people[1][0].id_number};CC-0000602;ACEPTADO;\r\n"
            "999999999;CC-0000601;ACEPTADO;01/02/2025\r\n").encode()
    ack = acks.upload_acknowledgement(batch, data, "a.csv", None)
    kept = [problem for row in ack.lines for problem in row.problems or []]
    ack_id = ack.id
    db.session.commit()
    role = {"es": "secretary", "fr": "treasurer", "pt": "admin"}[language]
    user_id, email = make_user(coop, role)
    db.session.get(User, user_id).locale = language
    db.session.commit()
    login(client, email, cooperative=coop)
    refresh()  # the service test's app context is the request's: forget its language
    response = client.get(f"/batches/answers/{ack_id}")
    assert response.status_code == 200
    parser = _Text()
    parser.feed(response.get_data(as_text=True))
    assert _problems(parser.nodes, _raw_codes(app, language), language) == []
    with app.test_request_context(), speaking(language):
        said = [" ".join(say(problem).split()) for problem in kept]
    assert len(said) >= 3 and all(text in parser.nodes for text in said), (said, parser.nodes)
