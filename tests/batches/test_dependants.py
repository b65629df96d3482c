"""Dependants sent with their member: enrolled with the member's registration, carried by the
enrolment file (a line per dependant, or columns on the member's line), sent when the batch is
sealed, and answered with their member or by a row that gives their own ID."""

from __future__ import annotations

from datetime import date

import pytest
from python_calamine import CalamineWorkbook

from coopreg.agreements import families
from coopreg.agreements.models import DependantStatus, RegistrationStatus
from coopreg.batches import acks, services
from coopreg.batches.models import BatchLine, BatchStatus
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.members import services as member_services
from tests.factories import cedula

D = DependantStatus
S = RegistrationStatus
MAPPING = {"id_number": "Cedula", "institution_number": "Numero", "result": "Resultado",
           "reason": "Motivo", "effective_date": "Desde"}


@pytest.fixture
def family(cr, agreement, ready):
    """Two ready members; the first carries a spouse and a child, the second a child; the
    scheme covers spouses at any age and children up to 18 (25 while studying)."""
    scheme = agreement.schemes[0]
    families.set_family_rule(scheme, "spouse")
    families.set_family_rule(scheme, "child", max_age=18, student_max_age=25)
    (m1, r1), (m2, r2) = ready(2)
    spouse = member_services.add_dependant(m1, "Ana Mora", "spouse", date(1985, 3, 1),
                                           cedula())
    child = member_services.add_dependant(m1, "Luis Mora", "child", date(2015, 6, 1),
                                          cedula())
    other = member_services.add_dependant(m2, "Sofía Rojas", "child", date(2012, 1, 9),
                                          cedula())
    enrolled = {d.id: families.enrol_dependant(r, d)
                for r, d in ((r1, spouse), (r1, child), (r2, other))}
    return {"members": [(m1, r1), (m2, r2)], "dependants": [spouse, child, other],
            "enrolled": enrolled}


def _layout(agreement, mode: str, sources: list[tuple[str, str]]):
    layout = services.layout_for(agreement, "enrolment")
    services.update_layout(layout, {"name": "Con familias", "format": "xlsx",
                                    "dependants_mode": mode})
    for header, source in sources:
        services.add_column(layout, {"header": header, "source": source})
    return layout


def _rows(path) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Lines").to_python()


def test_a_line_per_dependant_after_the_member(cr, agreement, family, export_dir):
    _layout(agreement, "lines", [("Tipo", "line.kind"), ("Dependiente", "dependant.name"),
                                 ("Cedula dependiente", "dependant.id_number"),
                                 ("Parentesco", "dependant.relation")])
    batch = services.create_batch(cr, agreement, "enrolment", None)
    lines = db.session.scalars(db.select(BatchLine).where(
        BatchLine.batch_id == batch.id).order_by(BatchLine.line_no)).all()
    assert len(lines) == 5  # two members, three dependants
    assert sum(1 for line in lines if line.dependant_id) == 3
    path = services.seal_batch(batch, None, export_dir)
    rows = _rows(path)
    header = rows[0]
    kind, name = header.index("Tipo"), header.index("Dependiente")
    relation, member_number = header.index("Parentesco"), header.index("Member number")
    spouse, child, other = family["dependants"]
    (m1, _r1), (m2, _r2) = family["members"]
    by_name = {row[name]: row for row in rows[1:] if row[kind] == "D"}
    assert set(by_name) == {spouse.name, child.name, other.name}
    # a dependant's line names the member who carries them
    assert by_name[child.name][member_number] == m1.member_number
    assert by_name[child.name][relation] == "child"
    assert by_name[other.name][member_number] == m2.member_number
    assert [row[kind] for row in rows[1:]].count("M") == 2
    # sealing sent them with their members
    for enrolled in family["enrolled"].values():
        assert enrolled.status == D.SUBMITTED and enrolled.batch_id == batch.id


def test_dependants_in_columns_on_the_members_line(cr, agreement, family, export_dir):
    _layout(agreement, "columns", [("Dep 1", "dependants.1.name"),
                                   ("Dep 1 cedula", "dependants.1.id_number"),
                                   ("Dep 2", "dependants.2.name")])
    batch = services.create_batch(cr, agreement, "enrolment", None)
    assert services.line_counts(batch).total == 2  # one line per member, no more
    rows = _rows(services.seal_batch(batch, None, export_dir))
    header = rows[0]
    first, second = header.index("Dep 1"), header.index("Dep 2")
    spouse, child, other = family["dependants"]
    (m1, _r1), _second = family["members"]
    member_number = header.index("Member number")
    line_of = {row[member_number]: row for row in rows[1:]}
    assert (line_of[m1.member_number][first], line_of[m1.member_number][second]) == (
        spouse.name, child.name)
    assert line_of[m1.member_number][header.index("Dep 1 cedula")] == spouse.id_number
    assert other.name in [row[first] for row in rows[1:]]
    assert all(e.status == D.SUBMITTED for e in family["enrolled"].values())


def test_a_layout_without_dependants_leaves_them_enrolled(cr, agreement, family, export_dir):
    batch = services.create_batch(cr, agreement, "enrolment", None)
    services.seal_batch(batch, None, export_dir)
    assert all(e.status == D.ENROLLED for e in family["enrolled"].values())


def test_the_layout_mode_and_its_columns_must_agree(agreement):
    layout = _layout(agreement, "columns", [("Dependiente", "dependant.name")])
    problems = services.layout_problems(layout)
    assert any("(dependant 1)" in p for p in problems)
    assert any("line per dependant" in p for p in problems)
    remittance = services.layout_for(agreement, "remittance")
    with pytest.raises(DomainError, match="only in enrolment files"):
        services.add_column(remittance, {"header": "X", "source": "dependant.name"})


def test_the_count_and_list_of_dependants_are_columns_on_the_members_line(agreement):
    """The adherentes' count and names (Monotributo social) are the dependants sent with the
    member: a layout that does not carry them in columns is told so, one that does is fine."""
    layout = _layout(agreement, "none", [("Adherentes", "dependants.count"),
                                         ("Nombres", "dependants.all")])
    assert any("dependants on the member's line" in p
               for p in services.layout_problems(layout))
    services.update_layout(layout, {"name": "Con familias", "format": "xlsx",
                                    "dependants_mode": "columns"})
    assert services.layout_problems(layout) == []


def _csv(rows) -> bytes:
    lines = ["Cedula;Numero;Resultado;Motivo;Desde"] + [";".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def test_the_answer_registers_and_rejects_dependants_with_their_member(
        cr, agreement, family, export_dir):
    _layout(agreement, "lines", [("Tipo", "line.kind"), ("Dependiente", "dependant.name"),
                                 ("Cedula dependiente", "dependant.id_number")])
    batch = services.create_batch(cr, agreement, "enrolment", None)
    services.seal_batch(batch, None, export_dir)
    acks.save_mapping(agreement, MAPPING, "A", "R")
    (m1, r1), (m2, r2) = family["members"]
    spouse, child, other = family["dependants"]
    enrolled = family["enrolled"]
    ack = acks.upload_acknowledgement(batch, _csv([
        [m1.id_number, "CC-0000001", "A", "", "01/02/2025"],
        # the institution answers for the child on a row of their own (their ID)
        [child.id_number, "", "R", "Falta constancia de nacimiento", ""],
        [m2.id_number, "", "R", "Cédula vencida", ""]]), "respuesta.csv", None)
    assert ack.unmatched_count == 1  # the dependant's row matches no member's line
    acks.apply_acknowledgement(ack, None)
    assert r1.status == S.REGISTERED and r2.status == S.REJECTED
    for e in enrolled.values():
        db.session.refresh(e)
    # the spouse followed the member: registered from the member's coverage start
    assert enrolled[spouse.id].status == D.REGISTERED
    assert enrolled[spouse.id].coverage_start == date(2025, 2, 1)
    # the child was answered on their own row
    assert enrolled[child.id].status == D.REJECTED
    assert enrolled[child.id].rejection_reason == "Falta constancia de nacimiento"
    # the rejected member's dependant is rejected with them, and says why
    assert enrolled[other.id].status == D.REJECTED
    assert "member's registration was rejected" in enrolled[other.id].rejection_reason
    # every member's line is answered: dependants' lines are not waited for
    assert batch.status == BatchStatus.ACKNOWLEDGED
    row = next(r for r in ack.lines if r.raw[0] == child.id_number)
    assert row.applied and row.problems is None


def test_a_rejected_dependant_is_corrected_and_sent_again(cr, agreement, family, export_dir):
    _layout(agreement, "lines", [("Dependiente", "dependant.name")])
    services.seal_batch(services.create_batch(cr, agreement, "enrolment", None), None,
                        export_dir)
    spouse = family["dependants"][0]
    enrolled = family["enrolled"][spouse.id]
    families.transition_dependant(enrolled, D.REJECTED, rejection_reason="Sin documento")
    with pytest.raises(DomainError, match="cannot become"):
        families.transition_dependant(enrolled, D.REGISTERED)
    with pytest.raises(DomainError, match="already enrolled"):
        families.enrol_dependant(family["members"][1][1], family["dependants"][2])
    again = families.enrol_dependant(family["members"][0][1], spouse)
    assert again.id == enrolled.id and again.status == D.ENROLLED
    assert again.rejection_reason is None and again.batch_id is None


def test_a_dependant_goes_only_with_a_line_that_is_written(cr, agreement, family, export_dir):
    """A member's line left out (a problem) leaves their dependants' lines out too, and those
    dependants stay enrolled for the next batch; a dependant whose own line has a problem
    stays enrolled while the member goes."""
    _layout(agreement, "lines", [("Dependiente", "dependant.name")])
    layout = services.layout_for(agreement, "enrolment")
    services.add_column(layout, {"header": "Cedula dependiente", "source": "dependant.id_number",
                                 "required": True})
    spouse, child, other = family["dependants"]
    child.id_number = None  # the child's own line cannot be written
    (_m1, _r1), (m2, _r2) = family["members"]
    m2.phone = None  # nor can the second member's
    services.add_column(layout, {"header": "Telefono", "source": "member.phone",
                                 "required": True})
    batch = services.create_batch(cr, agreement, "enrolment", None)
    services.set_policy(batch, "exclude")
    services.seal_batch(batch, None, export_dir)
    enrolled = family["enrolled"]
    for e in enrolled.values():
        db.session.refresh(e)
    assert enrolled[spouse.id].status == D.SUBMITTED
    assert enrolled[child.id].status == D.ENROLLED  # its own line had a problem
    assert enrolled[other.id].status == D.ENROLLED  # its member's line was left out
