"""The member import's rules: mapping, every kind of problem, all or nothing, faults, the
register export and its exact round trip."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import AuditEvent
from coopreg.core.errors import DomainError
from coopreg.core.sentences import say
from coopreg.core.spreadsheets import read_table
from coopreg.extensions import db
from coopreg.imports import fields as F
from coopreg.imports import services
from coopreg.imports.export import export_register, register_rows, write_template
from coopreg.imports.models import ImportMapping, ImportRun, ImportStatus
from coopreg.jobs.models import Job, JobStatus
from coopreg.members import services as member_services
from coopreg.members.models import Member, MemberStatus
from tests.imports.conftest import CEDULAS, HEADER, csv_bytes, fixture_bytes, good_row


def members_of(cooperative) -> list[Member]:
    return db.session.scalars(select(Member).where(Member.cooperative_id == cooperative.id)
                              .order_by(Member.id)).all()


def audit_count(entity: str = "members") -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.entity == entity))


def dry(cooperative, data: bytes, name: str = "socios.csv", **options):
    analysis, _run = services.import_file(cooperative, data, name, dry_run=True, **options)
    return analysis


def problems_of(analysis, row: int) -> list[str]:
    return [p.message for p in analysis.problems if p.row == row]


# ---- headers and values ------------------------------------------------------------------------

@pytest.mark.parametrize("header,field", [
    ("Cédula", "id_number"), ("CPF", "id_number"), ("Nombre", "first_name"),
    ("Apellidos", "last_name"), ("Fecha de nacimiento", "date_of_birth"),
    ("Date de naissance", "date_of_birth"), ("Teléfono", "phone"),
    ("FECHA DE NACIMIENTO (dd/mm/aaaa)", "date_of_birth"), ("Segundo apellido",
                                                            "second_last_name"),
    ("Fecha de ingreso", "joined_on"), ("Ingreso mensual", "declared_income"),
    ("Data de nascimento", "date_of_birth"), ("Prénom", "first_name"), ("Nom", "last_name"),
    ("Member number", "member_number"), ("N° de socio", "member_number"),
])
def test_headers_in_four_languages_are_recognised(header, field):
    assert F.guess_field(header)[0] == field


@pytest.mark.parametrize("header,field", [
    ("Estado civil", "civil_status"), ("Nacionalidad", "nationality"),
    ("Correo electrónico", "email"), ("Código de distrito", "district_code"),
    ("Apellido de soltera de la madre", "mothers_maiden_name"), ("TIN", "tax_number"),
    ("Situation matrimoniale", "civil_status"), ("Sufijo", "name_extension"),
    ("District", "locality"),  # a district written out stays the locality's
])
def test_the_record_institutions_ask_for_is_recognised(header, field):
    assert F.guess_field(header)[0] == field


def test_unknown_headers_map_to_nothing():
    assert F.guess_field("Color favorito") == (None, False)
    assert F.guess_field("") == (None, False)


@pytest.mark.parametrize("value,expected", [
    ("1980-05-17", date(1980, 5, 17)), ("17/05/1980", date(1980, 5, 17)),
    ("17-05-1980", date(1980, 5, 17)), ("17.05.1980", date(1980, 5, 17)),
    ("7/5/1980", date(1980, 5, 7)), ("29358", date(1980, 5, 17)), (29358.0, date(1980, 5, 17)),
    (date(1980, 5, 17), date(1980, 5, 17)), ("1980-05-17 00:00:00", date(1980, 5, 17)),
    ("", None),
])
def test_dates_in_the_forms_people_type(ctx, value, expected):
    assert F.parse_date(value, "Date of birth") == expected


@pytest.mark.parametrize("value,message", [
    ("05/17/1980", "has no month 17; dates are read day first"),
    ("17/05/80", "four digits"), ("1980", "only a year"), ("31/02/1980", "not a real date"),
    ("yesterday", "is not a date"), (True, "is not a date"), (12.0, "is not a date"),
])
def test_ambiguous_or_broken_dates_are_refused_with_a_reason(ctx, value, message):
    with pytest.raises(DomainError, match=message):
        F.parse_date(value, "Date of birth")


@pytest.mark.parametrize("value,expected", [
    ("250.000,50", "250000.50"), ("250,000.50", "250000.50"), ("250 000,50", "250000.50"),
    ("250000", "250000"), ("250,5", "250.5"), ("1.250.000", "1250000"), (250000.0, "250000"),
    (1234.5, "1234.5"), ("₡250000", "250000"), ("", ""),
])
def test_amounts_written_many_ways(value, expected):
    assert F.amount_text(value) == expected


def test_the_header_row_is_found_below_title_rows(ctx):
    table = read_table(fixture_bytes("members-title-rows.xlsx"), filename="x.xlsx")
    assert services.find_header_row(table.rows) == 3


# ---- files made by other programs -----------------------------------------------------------

def test_ods_from_libreoffice_imports(cr):
    analysis, run = services.import_file(cr, fixture_bytes("members-libreoffice.ods"),
                                         "members-libreoffice.ods")
    assert analysis.counts["created"] == 3 and analysis.counts["refused"] == 0
    jean = next(m for m in members_of(cr) if m.first_name == "Jean")
    assert jean.id_number == "0111111248"  # a number cell: the leading zero is back
    assert jean.sex.value == "male" and jean.sector.value == "fishing"
    assert jean.date_of_birth == date(1979, 11, 30)
    assert run.status == ImportStatus.COMMITTED and run.source == "cli"


def test_xlsx_with_title_rows_and_typed_dates(cr):
    analysis = dry(cr, fixture_bytes("members-title-rows.xlsx"), "lista.xlsx")
    assert analysis.header_row == 4
    assert analysis.counts == {"read": 4, "created": 3, "updated": 0, "unchanged": 0,
                               "skipped": 0, "refused": 1, "warnings": 0}
    [problem] = list(analysis.problems)
    assert (problem.row, problem.column) == (7, "D · Fecha de nacimiento")
    assert problem.message == "The date of birth is in the future."
    maria = analysis.results[0].values
    assert maria["id_number"] == "0102340371"
    assert maria["last_name"] == "Núñez Solís"


def test_windows_1252_semicolon_csv_with_mixed_dates(cr):
    analysis = dry(cr, fixture_bytes("members-cp1252-semicolon.csv"))
    dates = [r.values["date_of_birth"] for r in analysis.results]
    assert dates == [date(1980, 5, 17), date(1981, 5, 17), date(1982, 5, 17),
                     date(1980, 5, 17)]
    assert analysis.results[2].values["joined_on"] == date(2020, 1, 15)  # serial 43845
    assert analysis.results[0].values["last_name"] == "Núñez"
    assert problems_of(analysis, 2) == [
        "The same ID number is also on row 5; keep one row per person."]
    assert "Same names and date of birth as row 2" in problems_of(analysis, 5)[1]
    assert analysis.counts["refused"] == 2 and analysis.counts["created"] == 2


# ---- every kind of problem ------------------------------------------------------------------

@pytest.mark.parametrize("changes,column,message", [
    ({"First name": ""}, "A · First name", "First name is required."),
    ({"Sex": "??"}, "C · Sex", "Sex must be one of: female, male, other."),
    ({"Sex": ""}, "C · Sex", "Sex is required."),
    ({"Date of birth": "31/02/1980"}, "D · Date of birth", "is not a real date"),
    ({"Date of birth": "2999-01-01"}, "D · Date of birth", "in the future"),
    ({"Date of birth": "1800-01-01"}, "D · Date of birth", "more than 120 years ago"),
    ({"ID number": "0102340372x"}, "E · ID number", "Cédula de identidad"),
    ({"Phone": "12"}, "F · Phone", "“12” is not a phone number of CR"),
    ({"Sector": "astronaut"}, "G · Sector", "Sector must be one of"),
    ({"Joined on": ""}, "H · Joined on", "Joined on is required."),
    ({"Joined on": "1970-01-01"}, "H · Joined on", "before the date of birth"),
])
def test_each_problem_names_the_row_the_column_and_the_reason(cr, changes, column, message):
    data = csv_bytes([HEADER, good_row(0), good_row(1, **changes)])
    analysis = dry(cr, data)
    problems = [p for p in analysis.problems if p.row == 3]
    assert problems and problems[0].column == column, problems
    assert message in problems[0].message
    assert analysis.counts["refused"] == 1 and analysis.counts["created"] == 1


def test_every_problem_of_a_row_is_listed_not_only_the_first(cr):
    row = good_row(0, **{"First name": "", "Sex": "zz", "Date of birth": "yesterday",
                         "Phone": "1"})
    analysis = dry(cr, csv_bytes([HEADER, row]))
    fields = [p.field for p in analysis.problems]
    assert sorted(fields) == ["date_of_birth", "first_name", "phone", "sex"]


def test_duplicates_inside_the_file(cr):
    rows = [HEADER + ["Member number"], good_row(0) + ["7"], good_row(1) + ["7"],
            good_row(2, **{"ID number": CEDULAS[0]}) + [""]]
    analysis = dry(cr, csv_bytes(rows))
    assert "The same member number is also on row 3." in problems_of(analysis, 2)
    assert "The same ID number is also on row 4; keep one row per person." in \
        problems_of(analysis, 2)
    assert analysis.counts["refused"] == 3


def test_against_the_register(cr, enrol):
    enrol(cr, first_name="Ana1", last_name="Rojas", date_of_birth=date(1980, 5, 17),
          id_number=CEDULAS[5])
    taken = enrol(cr, id_number=CEDULAS[6])
    rows = [HEADER + ["Member number"],
            good_row(1) + [""],                       # same names + DOB: a warning
            good_row(2) + [taken.member_number],      # someone else's member number
            good_row(3, **{"ID number": CEDULAS[6], "Phone": "7000-0000"}) + [""]]
    analysis = dry(cr, csv_bytes(rows))
    assert analysis.results[0].action == "create"
    assert "same names and date of birth is already in the register" in \
        problems_of(analysis, 2)[0]
    assert problems_of(analysis, 3) == [
        f"Member number {taken.member_number} is already taken."]
    assert analysis.results[2].action == "skipped"
    assert "Already in the register as member" in problems_of(analysis, 4)[0]
    assert "Phone" in problems_of(analysis, 4)[0]
    updating = dry(cr, csv_bytes(rows), update_existing=True)
    assert updating.results[2].action == "update"


def test_a_small_file_reads_only_the_members_it_could_match(cr, enrol, monkeypatch):
    """The register is read where the file's rows could match it (member number, ID, birth
    date of a possible twin): the same decisions as reading it whole, from far fewer rows."""
    twin = enrol(cr, first_name="Ana1", last_name="Rojas", date_of_birth=date(1980, 5, 17),
                 id_number=CEDULAS[5])
    taken = enrol(cr, id_number=CEDULAS[6])
    same_id = enrol(cr, id_number=CEDULAS[7], date_of_birth=date(1975, 1, 1))
    unrelated = [enrol(cr, date_of_birth=date(1950, 1, 1) + timedelta(days=n))
                 for n in range(8)]
    rows = [HEADER + ["Member number"],
            good_row(1) + [""],                                   # a twin of `twin`
            good_row(2) + [taken.member_number],                  # a number taken
            good_row(3, **{"ID number": CEDULAS[7], "Phone": "7000-0000"}) + [""],  # same ID
            good_row(4, **{"Date of birth": "01/01/1990"}) + [""]]  # new
    loaded = []
    real = services._Register._load

    def counting(self, condition=None):
        before = len(self._seen)
        real(self, condition)
        loaded.append(len(self._seen) - before)

    monkeypatch.setattr(services._Register, "_load", counting)
    targeted = dry(cr, csv_bytes(rows), update_existing=True)
    assert sum(loaded) == 3  # the twin, the number's owner, the ID's owner: no one else
    monkeypatch.setattr(services, "_TARGETED_KEYS", 0)  # the whole register, as for big files
    loaded.clear()
    whole = dry(cr, csv_bytes(rows), update_existing=True)
    assert sum(loaded) == 3 + len(unrelated)
    assert [(r.action, r.member_id, [p.message for p in r.problems]) for r in targeted.results
            ] == [(r.action, r.member_id, [p.message for p in r.problems])
                  for r in whole.results]
    assert [r.action for r in targeted.results] == ["create", "refused", "update", "create"]
    assert targeted.results[2].member_id == same_id.id
    assert str(twin.member_number) in targeted.results[0].problems[0].message


def test_the_template_example_row_is_refused(cr):
    buffer = io.BytesIO()
    write_template(cr, buffer)
    analysis = dry(cr, buffer.getvalue(), "template.xlsx")
    assert problems_of(analysis, 2) == ["This is the template's example row: delete it."]


def test_an_id_typed_as_a_number_gets_its_zeros_back(ctx, make_cooperative):
    brazil = db.session.get(Cooperative, make_cooperative(country="BR", currency="BRL").id)
    row = good_row(0, **{"ID number": "1234567890"})  # CPF 012.345.678-90 lost its zero
    analysis = dry(brazil, csv_bytes([HEADER, row]))
    assert analysis.results[0].values["id_number"] == "01234567890"


# ---- mapping ------------------------------------------------------------------------------------

def _upload(cooperative, data: bytes, name: str = "socios.csv") -> ImportRun:
    run = services.store_upload(cooperative, None, name, data)
    db.session.flush()
    return run


def test_mapping_is_proposed_then_remembered_per_cooperative(cr):
    data = csv_bytes([["Nombre", "Apellidos", "Género", "Nacimiento", "Ingreso", "Rubro",
                       "Color"], ["Ana", "Rojas", "F", "17/05/1980", "2020-01-15", "pesca",
                                  "azul"]])
    run = _upload(cr, data)
    columns = services.source_columns(run.sample, run.header_row - 1)
    proposed = services.propose_mapping(cr.id, columns)
    assert proposed == {0: "first_name", 1: "last_name", 2: "sex", 3: "date_of_birth",
                        4: "declared_income", 5: "sector", 6: ""}
    fixed = {**proposed, 4: "joined_on"}
    services.save_mapping(run, 1, fixed, {})
    assert db.session.scalar(select(ImportMapping.field).where(
        ImportMapping.cooperative_id == cr.id, ImportMapping.header_key == "ingreso")) == \
        "joined_on"
    assert services.propose_mapping(cr.id, columns) == fixed


def test_mapping_must_cover_the_required_fields_once(cr):
    with pytest.raises(DomainError, match="Choose the column that holds: Sex"):
        services.check_mapping({0: "first_name", 1: "last_name", 2: "date_of_birth",
                                3: "sector", 4: "joined_on"}, {})
    with pytest.raises(DomainError, match="chosen for two columns"):
        services.check_mapping({0: "first_name", 1: "first_name"}, {})
    services.check_mapping({0: "first_name", 1: "last_name", 2: "sex", 3: "date_of_birth"},
                           {"sector": "crafts", "joined_on": date(2020, 1, 1)})


# ---- all or nothing -------------------------------------------------------------------------

def test_nothing_is_written_when_any_row_fails(cr):
    data = csv_bytes([HEADER, good_row(0), good_row(1, **{"Sex": "??"}), good_row(2)])
    before = audit_count()
    with pytest.raises(services.ImportRefused) as refusal:
        services.import_file(cr, data, "socios.csv")
    assert refusal.value.analysis.counts["refused"] == 1
    assert members_of(cr) == [] and audit_count() == before
    assert db.session.scalar(select(func.count()).select_from(ImportRun)) == 0


def test_valid_rows_only_writes_them_with_numbers_search_fields_and_audit(cr, enrol):
    enrol(cr, id_number=CEDULAS[9])  # number 1 taken by hand-less enrolment
    data = csv_bytes([HEADER + ["Locality"], good_row(0) + ["San Carlos"],
                      good_row(1, **{"Sex": "??"}) + [""], good_row(2) + ["Upala"]])
    analysis, run = services.import_file(cr, data, "socios.csv", valid_rows_only=True)
    assert (run.rows_created, run.rows_refused) == (2, 1)
    created = members_of(cr)[1:]
    assert [m.member_number for m in created] == ["2", "3"]
    assert db.session.get(Cooperative, cr.id).last_member_number == 3
    first = created[0]
    assert first.search_name == "rojas ana0" and first.locality_key == "san carlos"
    assert first.status == MemberStatus.ACTIVE
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity == "members", AuditEvent.entity_id == first.id)).all()
    assert event.action == "create" and event.actor_label == "tests"
    assert event.changes["first_name"] == {"before": None, "after": "Ana0"}
    assert event.changes["sex"] == {"before": None, "after": "female"}
    assert event.changes["date_of_birth"] == {"before": None, "after": "1980-05-17"}
    assert "search_name" not in event.changes and "created_at" not in event.changes
    # the same shape as the ORM hook writes for a member created through the form
    orm_member = enrol(cr)
    [orm_event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity == "members", AuditEvent.entity_id == orm_member.id)).all()
    assert set(orm_event.changes) == set(event.changes)


def test_update_existing_changes_only_the_columns_in_the_file(cr, enrol):
    member = enrol(cr, id_number=CEDULAS[0], phone="8888-1234", locality="Upala",
                   address="Casa azul")
    data = csv_bytes([["ID number", "First name", "Last name", "Sex", "Date of birth",
                       "Sector", "Joined on", "Phone"],
                      [CEDULAS[0], member.first_name, member.last_name, "female",
                       "1980-05-17", "agriculture", "2020-01-15", "7000-1111"]])
    skipped = dry(cr, data)
    assert skipped.counts["skipped"] == 1 and skipped.counts["created"] == 0
    analysis, run = services.import_file(cr, data, "socios.csv", update_existing=True)
    assert analysis.counts["updated"] == 1
    db.session.refresh(member)
    assert member.phone == "+50670001111"
    assert member.address == "Casa azul" and member.locality == "Upala"  # not in the file
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity == "members", AuditEvent.entity_id == member.id,
        AuditEvent.action == "update")).one()
    assert event.changes == {"phone": {"before": "+50688881234", "after": "+50670001111"}}


# ---- the web flow through jobs, and a fault in the middle -------------------------------------

def _previewed_run(cooperative, data: bytes) -> ImportRun:
    run = _upload(cooperative, data)
    columns = services.source_columns(run.sample, run.header_row - 1)
    services.save_mapping(run, run.header_row, services.propose_mapping(cooperative.id,
                                                                         columns), {})
    job_id = services.start_preview(run, None)
    db.session.commit()
    services.launch(job_id)
    db.session.refresh(run)
    return run


def _commit(run) -> Job:
    job_id = services.start_commit(run, None, update_existing=False, valid_rows_only=False)
    db.session.commit()
    services.launch(job_id)
    db.session.refresh(run)
    return db.session.get(Job, job_id)


def test_preview_then_commit_as_jobs(cr):
    data = csv_bytes([HEADER] + [good_row(n) for n in range(5)])
    run = _previewed_run(cr, data)
    assert run.status == ImportStatus.PREVIEWED and run.rows_created == 5
    assert members_of(cr) == []  # the preview writes nothing
    job = _commit(run)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert run.status == ImportStatus.COMMITTED and run.committed_at is not None
    assert len(members_of(cr)) == 5


def test_a_database_error_in_the_middle_leaves_nothing_and_a_retry_works(cr, monkeypatch):
    data = csv_bytes([HEADER] + [good_row(n) for n in range(7)])
    run = _previewed_run(cr, data)
    before = audit_count()
    monkeypatch.setattr(services, "CHUNK", 3)
    real_insert = services._insert_members
    calls = {"n": 0}

    def failing_insert(rows):
        calls["n"] += 1
        if calls["n"] == 2:  # the second chunk: rows 4 to 6
            raise OperationalError("INSERT INTO members", {}, Exception("disk I/O error"))
        return real_insert(rows)

    monkeypatch.setattr(services, "_insert_members", failing_insert)
    job = _commit(run)
    assert job.status == JobStatus.FAILED
    assert run.status == ImportStatus.FAILED
    assert run.message == {"code": "imports.unexpected_stop",
                           "params": {"kind": "OperationalError"}}
    assert "nothing was written" in say(run.message) and "OperationalError" in say(run.message)
    assert members_of(cr) == [] and audit_count() == before
    assert db.session.get(Cooperative, cr.id).last_member_number == 0

    monkeypatch.setattr(services, "_insert_members", real_insert)
    job = _commit(run)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert len(members_of(cr)) == 7 and audit_count() == before + 7


def _stage(run):
    return services.import_dir(run.cooperative_id) / f"run-{run.id}-checked.json"


def test_the_commit_uses_the_rows_the_preview_checked(cr, monkeypatch):
    data = csv_bytes([HEADER] + [good_row(n) for n in range(4)])
    run = _previewed_run(cr, data)
    assert _stage(run).is_file()

    def no_second_check(self, cells):
        raise AssertionError("the commit checked a row again")

    monkeypatch.setattr(services.RowChecker, "check", no_second_check)
    job = _commit(run)
    assert job.status == JobStatus.SUCCEEDED, job.error
    members = members_of(cr)
    assert [m.first_name for m in members] == ["Ana0", "Ana1", "Ana2", "Ana3"]
    assert members[0].sex.value == "female" and members[0].date_of_birth == date(1980, 5, 17)
    assert members[0].id_number == CEDULAS[0] and members[0].phone == "+50688881234"
    assert members[0].version == 1 and members[0].status == MemberStatus.ACTIVE
    assert not _stage(run).exists()  # done: nothing kept
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity == "members", AuditEvent.entity_id == members[0].id)).one()
    assert event.action == "create" and event.changes["sex"] == {"before": None,
                                                                 "after": "female"}
    assert event.changes["date_of_birth"]["after"] == "1980-05-17"
    assert event.changes["consent_given"]["after"] is False


def test_a_stale_or_unreadable_preview_is_checked_again_at_commit(cr, monkeypatch):
    data = csv_bytes([HEADER] + [good_row(n) for n in range(3)])
    run = _previewed_run(cr, data)
    _stage(run).write_text("not what the preview wrote")
    checked = []
    real_check = services.RowChecker.check

    def counting_check(self, cells):
        checked.append(cells)
        return real_check(self, cells)

    monkeypatch.setattr(services.RowChecker, "check", counting_check)
    job = _commit(run)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert len(checked) == 3 and len(members_of(cr)) == 3

    # another day (or other settings, mapping, file): the kept rows do not apply
    again = _previewed_run(cr, csv_bytes([HEADER] + [good_row(n) for n in range(3, 5)]))
    checked.clear()
    monkeypatch.setattr(services, "_stage_key", lambda *args: "another day")
    job = _commit(again)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert len(checked) == 2 and len(members_of(cr)) == 5


def test_a_duplicate_created_after_the_preview_is_caught_at_commit(cr, enrol):
    header = HEADER + ["Member number"]
    data = csv_bytes([header, good_row(0) + ["7"], good_row(1) + [""], good_row(2) + [""]])
    run = _previewed_run(cr, data)
    assert run.rows_created == 3 and run.rows_refused == 0
    # meanwhile, someone enrols the person of row 3 and gives number 7 to someone else
    enrol(cr, id_number=CEDULAS[1], first_name="Ana1", last_name="Rojas")
    enrol(cr, id_number=CEDULAS[5], member_number="7")
    db.session.commit()
    job = _commit(run)
    assert job.status == JobStatus.FAILED
    assert run.status == ImportStatus.FAILED and "1 row(s) have problems" in say(run.message)
    assert len(members_of(cr)) == 2  # nothing written

    job_id = services.start_commit(run, None, update_existing=False, valid_rows_only=True)
    db.session.commit()
    services.launch(job_id)
    db.session.refresh(run)
    assert run.status == ImportStatus.COMMITTED, run.message
    assert (run.rows_created, run.rows_unchanged, run.rows_refused) == (1, 1, 1)
    assert len(members_of(cr)) == 3
    assert db.session.scalar(select(func.count()).select_from(Member).where(
        Member.cooperative_id == cr.id, Member.id_number == CEDULAS[1])) == 1
    table = read_table(services.problems_path(run).read_bytes(), filename="p.xlsx")
    assert table.rows[1][1] == "2" and "Member number 7 is already taken" in table.rows[1][0]
    assert table.rows[1][2:4] == ["Ana0", "Rojas"]  # the row as it was in the file


def test_changing_the_mapping_drops_the_checked_rows(cr):
    run = _previewed_run(cr, csv_bytes([HEADER, good_row(0)]))
    assert _stage(run).is_file()
    columns = services.source_columns(run.sample, run.header_row - 1)
    services.save_mapping(run, run.header_row, services.propose_mapping(cr.id, columns), {})
    assert not _stage(run).exists() and run.status == ImportStatus.DRAFT


def test_commit_refuses_a_file_with_problems_unless_valid_rows_only(cr):
    data = csv_bytes([HEADER, good_row(0), good_row(1, **{"Sex": "?"})])
    run = _previewed_run(cr, data)
    with pytest.raises(services.ImportRefused, match="1 row\\(s\\) have problems"):
        services.start_commit(run, None, update_existing=False, valid_rows_only=False)
    assert run.status == ImportStatus.PREVIEWED and members_of(cr) == []
    job_id = services.start_commit(run, None, update_existing=False, valid_rows_only=True)
    db.session.commit()
    services.launch(job_id)
    db.session.refresh(run)
    assert run.status == ImportStatus.COMMITTED
    assert (run.rows_created, run.rows_refused) == (1, 1)
    assert services.problems_path(run) is not None  # the refused row stays in the file
    table = read_table(services.problems_path(run).read_bytes(), filename="p.xlsx")
    assert table.rows[0][:3] == ["Problems", "Source row", "First name"]
    assert table.rows[1][1] == "3" and "Sex must be one of" in table.rows[1][0]


# ---- the way out ------------------------------------------------------------------------------

def _register(cr, enrol):
    people = [
        enrol(cr, id_number=CEDULAS[0], first_name="=HYPERLINK(\"http://x\",\"y\")",
              phone="+506 8888 1234", notes="line one\nline two", declared_income="1234.50",
              middle_name="José", name_extension="Jr.", mothers_maiden_name="Mora",
              civil_status="common_law", nationality="NI", tax_number="1-0234-0567",
              email="jose@example.org", district_code="10501"),
        enrol(cr, id_number="", first_name="Sin", last_name="Cédula", phone="",
              declared_income="", consent_given=False, locality=""),
        enrol(cr, id_number=CEDULAS[1], member_number="A-7", address="-5 al sur",
              occupation="@home"),
        enrol(cr, id_number=CEDULAS[2], joined_on=date(2019, 3, 1), first_name="Leonor"),
    ]
    member_services.change_member_status(people[3], MemberStatus.LEFT, date(2021, 6, 30),
                                         "moved", None)
    return people


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_imports_back_without_a_single_change(cr, enrol, fmt):
    _register(cr, enrol)
    buffer = io.BytesIO()
    assert export_register(cr, None, fmt, buffer) == 4
    before = audit_count()
    analysis, run = services.import_file(cr, buffer.getvalue(), f"register.{fmt}",
                                         update_existing=True)
    counts = analysis.counts
    assert (counts["created"], counts["updated"], counts["refused"]) == (0, 0, 0), \
        list(analysis.problems)
    assert counts["unchanged"] == 4
    assert audit_count() == before


def test_export_as_of_a_date_lists_who_was_a_member_then(cr, enrol):
    people = _register(cr, enrol)
    late = enrol(cr, joined_on=date(2023, 1, 1), first_name="Tardía")
    rows = list(register_rows(cr, date(2021, 1, 1)))
    names = {r[1] for r in rows}
    assert people[3].first_name in names          # left in 2021-06: still a member then
    assert late.first_name not in names           # joined later
    status_of = {r[1]: r[-2] for r in rows}
    assert status_of[people[3].first_name] == "Active"  # its label, in the language of the file
    after = {r[1] for r in register_rows(cr, date(2022, 1, 1))}
    assert people[3].first_name not in after


def test_export_keeps_text_as_text_and_dates_as_dates(cr, enrol):
    _register(cr, enrol)
    buffer = io.BytesIO()
    export_register(cr, None, "xlsx", buffer)
    table = read_table(buffer.getvalue(), filename="x.xlsx")
    header = table.rows[0]
    assert header[:3] == ["Member number", "First name", "Middle name"]
    first = table.rows[1]
    assert first[header.index("First name")] == "=HYPERLINK(\"http://x\",\"y\")"
    assert first[header.index("ID number")] == CEDULAS[0]
    assert first[header.index("Date of birth")] == date(1980, 5, 17)
    assert first[header.index("Declared monthly income")] == 1234.5
    csv_buffer = io.BytesIO()
    export_register(cr, None, "csv", csv_buffer)
    text = csv_buffer.getvalue().decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'-5 al sur" in text
    # a phone is written as people dial it in the country, with no escape in front
    assert ",8888 1234," in text and "'+506" not in text and "'8888" not in text
    assert "1234.50" in text


def test_export_refuses_a_future_date(cr):
    with pytest.raises(DomainError, match="future"):
        export_register(cr, date(2999, 1, 1), "csv", io.BytesIO())


def test_member_numbers_are_reserved_in_bulk_skipping_taken_ones(cr, enrol):
    enrol(cr, member_number="2")
    numbers = member_services.reserve_member_numbers(cr.id, 3, exclude={"4"})
    assert numbers == ["1", "3", "5"]
    assert db.session.get(Cooperative, cr.id).last_member_number == 5
    assert member_services.next_member_number(cr.id) == "6"


def test_bulk_numbers_look_past_a_window_full_of_taken_ones(cr, enrol):
    for number in range(1, 80):  # more than the window of numbers read at once
        if number != 70:
            enrol(cr, member_number=str(number))
    enrol(cr, member_number="0081")  # typed with zeros: "81" is still free
    numbers = member_services.reserve_member_numbers(cr.id, 4, exclude={"80"})
    assert numbers == ["70", "81", "82", "83"]
    assert db.session.get(Cooperative, cr.id).last_member_number == 83


def test_declared_income_in_decimal_comma(cr):
    data = csv_bytes([HEADER + ["Ingreso mensual"], good_row(0) + ["250.000,50"]],
                     delimiter=";")
    analysis = dry(cr, data)
    assert analysis.results[0].values["declared_income_minor"] == 25_000_050


def test_an_export_in_spanish_imports_back_in_any_language(app, cr, enrol):
    """Headers, codes (sex, sector, consent) and yes/no are written in the file's language;
    the import reads them back, whatever the language of the person importing."""
    import io

    from flask_babel import force_locale

    from coopreg.core.spreadsheets import read_table
    from coopreg.imports.export import export_register
    from coopreg.imports.fields import enum_value, guess_field

    enrol(cr, first_name="Rosa", sex="female", sector="home_based_work",
          consent_method="signed_form")
    stream = io.BytesIO()
    with force_locale("es"):
        export_register(cr, None, "xlsx", stream)
    table = read_table(stream.getvalue(), filename="socios.xlsx")
    header, row = table.rows[0], table.rows[1]
    assert "Fecha de nacimiento" in header and "Date of birth" not in header
    cells = dict(zip(header, row, strict=False))
    assert cells["Sexo"] == "Femenino" and cells["Estado"] == "Activo"
    assert cells["Sector"] == "Trabajo a domicilio"
    with force_locale("fr"):  # a French admin imports the Spanish file
        assert guess_field("Fecha de nacimiento") == ("date_of_birth", True)
        assert guess_field("Forma del consentimiento") in (("consent_method", True),
                                                           ("consent_method", False))
        assert enum_value("sector", "Trabajo a domicilio") == "home_based_work"
        assert enum_value("consent_method", cells["Forma del consentimiento"]) == "signed_form"


def test_the_record_institutions_ask_for_imports_from_the_words_people_use(cr):
    data = csv_bytes([HEADER + ["Estado civil", "Nacionalidad", "Código de distrito",
                                "Correo electrónico", "NIF"],
                      good_row(0) + ["Viuda", "Nicaragua", "21001", "ana@example.org",
                                     "1-0234-0567"],
                      good_row(1) + ["casado", "AR", "99999", "", ""]])
    analysis = dry(cr, data)
    assert problems_of(analysis, 3) == ["“99999” is not in the country's list of districts."]
    analysis, _run = services.import_file(cr, data, "socios.csv", valid_rows_only=True)
    [member] = members_of(cr)
    assert (member.civil_status.value, member.nationality, member.email) == (
        "widowed", "NI", "ana@example.org")
    assert (member.province_code, member.canton_code, member.district_code) == (
        "2", "210", "21001")
    assert member.tax_number == "0102340567"
