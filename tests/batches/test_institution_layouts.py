"""The built-in layouts modelled on the institutions' forms, each written from the demo and
sealed: its header, lines and footer compared field by field with the form's description
below, and the file opened by LibreOffice (no formula, leading zeros kept)."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from stdnum.ar import cuit
from stdnum.cr import cpf

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import (
    Agreement,
    DependantRegistration,
    Registration,
    RegistrationStatus,
)
from coopreg.batches import services
from coopreg.batches.layouts import BUILT_INS
from coopreg.batches.models import Batch, BatchKind, BatchLine
from coopreg.contributions.models import Remittance
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from coopreg.members import services as member_services
from coopreg.members.models import Member
from tests import factories

pytestmark = pytest.mark.no_transaction

# ---- the forms, as their public descriptions give them ---------------------------------------

RF1 = {  # PhilHealth RF-1, Employer's Remittance Report (2014 revision)
    "header": ["PhilHealth Employer Number (PEN)", "Employer TIN", "Employer Name",
               "Employer Address", "Employer Type",
               "Report Type (R regular, A addition, D deduction)",
               "Applicable Period (MMYYYY)"],
    "columns": ["PhilHealth Identification Number (PIN)", "Last Name", "First Name",
                "Name Extension", "Middle Name", "Date of Birth (if no PIN)",
                "Sex (if no PIN)", "Monthly Salary Bracket (MSB)", "Personal Share (PS)",
                "Employer Share (ES)", "Status (NH, S, NE)", "Effectivity Date"],
    "footer": ["Number of Members", "Total Personal Share", "Total Employer Share",
               "Total Amount Remitted", "Receipt / Payment Reference No.", "Transaction Date"],
}
PMRF = {"columns": ["PhilHealth Identification Number (PIN)", "Last Name", "First Name",
                    "Name Extension", "Middle Name", "Mother's Maiden Name", "Date of Birth",
                    "Sex", "Civil Status", "Citizenship", "PhilSys Number (PSN)", "TIN",
                    "Permanent Address", "Mobile Number", "Email Address", "Profession",
                    "Monthly Income",
                    *(f"Dependent {n} {title}" for n in (1, 2, 3, 4)
                      for title in ("Full Name", "Relationship", "Date of Birth"))]}
CCSS = {"columns": ["Tipo de identificación", "Número de identificación", "Primer apellido",
                    "Segundo apellido", "Nombre", "Sexo", "Fecha de nacimiento", "Nacionalidad",
                    "Provincia", "Cantón", "Distrito", "Ocupación", "Ingreso de referencia",
                    "Cuota del asegurado", "Cuota de la organización", "Total"]}
MONOTRIBUTO = {"columns": ["CUIL/CUIT", "Apellido", "Segundo apellido", "Nombres", "Sexo",
                           "Fecha de nacimiento", "Nacionalidad", "Domicilio", "Localidad",
                           "Teléfono", "Correo electrónico", "Actividad", "Categoría",
                           "Código de obra social", "Cantidad de adherentes",
                           "Adherentes (nombre y CUIL)", "N.º de inscripción del efector",
                           "Fecha de inscripción"]}
SSS_R1A = {"columns": ["SS Number", "Surname", "Given Name", "Name Extension", "Middle Name",
                       "Date of Birth", "Sex", "National ID", "Date of Employment",
                       "Monthly Earnings", "Position"]}


@dataclass(frozen=True)
class Person:  # a dependant sent with the member
    name: str
    relation: str
    date_of_birth: date | None
    id_number: str | None


@dataclass
class Sealed:
    path: Path
    members: list[dict]  # per line, in line order: the member's record as the test reads it
    facts: dict = field(default_factory=dict)


def _member_facts(member: Member, registration, sent: list) -> dict:
    return {"last_name": member.last_name, "first_name": member.first_name,
            "second_last_name": member.second_last_name, "middle_name": member.middle_name,
            "name_extension": member.name_extension,
            "mothers_maiden_name": member.mothers_maiden_name,
            "date_of_birth": member.date_of_birth, "sex": member.sex.value,
            "id_type": member.id_type, "id_number": member.id_number,
            "civil_status": getattr(member.civil_status, "value", None),
            "nationality": member.nationality, "tax_number": member.tax_number,
            "phone": member.phone, "email": member.email, "address": member.address,
            "locality": member.locality, "occupation": member.occupation,
            "district_code": member.district_code, "canton_code": member.canton_code,
            "province_code": member.province_code,
            "dependants": sent, "joined_on": member.joined_on,
            "number": registration.institution_member_number,
            "coverage_start": registration.coverage_start}


def _seal(cooperative, agreement, kind, export_dir, period=None, registration_ids=None):
    batch = services.create_batch(cooperative, agreement, kind, None, period=period,
                                  registration_ids=registration_ids)
    path = services.seal_batch(batch, None, export_dir)
    return batch, Path(path)


def _enrol_the_pending(cooperative, export_dir) -> Batch:
    """The demo's pending members of the cooperative's agreement given their documents and
    consent, marked ready and sent in an enrolment batch with the demo's layout."""
    agreement = db.session.scalar(select(Agreement).where(
        Agreement.cooperative_id == cooperative.id))
    pending = db.session.scalars(select(Registration).where(
        Registration.cooperative_id == cooperative.id,
        Registration.agreement_id == agreement.id,
        Registration.status == RegistrationStatus.PENDING)).all()
    for registration in pending:
        member = registration.member
        if member.id_number and not member.consent_given:
            member.consent_given, member.consent_date = True, member.joined_on
            member.consent_method = "signed_form"
        member_services.set_documents(member, {t.id: member.joined_on
                                               for t in agreement.required_documents})
    agreement_services.mark_ready_many(agreement, [r.id for r in pending], None)
    batch, _path = _seal(cooperative, agreement, "enrolment", export_dir)
    return batch


def _lines(batch: Batch) -> list[dict]:
    rows = db.session.execute(select(BatchLine).where(
        BatchLine.cooperative_id == batch.cooperative_id, BatchLine.batch_id == batch.id,
        BatchLine.included.is_(True)).order_by(BatchLine.line_no)).scalars().all()
    sent: dict[int, list] = {}  # the dependants the batch sent with each member
    for enrolled in db.session.scalars(select(DependantRegistration).where(
            DependantRegistration.cooperative_id == batch.cooperative_id,
            DependantRegistration.batch_id == batch.id).order_by(
            DependantRegistration.dependant_id)):
        person = enrolled.dependant
        sent.setdefault(enrolled.registration_id, []).append(Person(
            person.name, person.relation.value, person.date_of_birth, person.id_number))
    return [_member_facts(line.registration.member, line.registration,
                          sent.get(line.registration_id, [])) for line in rows]


@pytest.fixture(scope="module")
def sealed(committed_app) -> dict[str, Sealed]:
    """The demo (40 members a cooperative), then one sealed file per built-in layout after
    an institution's form: the demo's own enrolment files (PMRF, Monotributo social), the
    last remitted month of CRAGRO (CCSS) and PHCOOP (RF-1), and an SSS agreement of PHCOOP's
    members (R-1A)."""
    app = committed_app
    result = app.test_cli_runner().invoke(args=["demo", "--members", "40"])
    assert result.exit_code == 0, result.output
    export_dir = app.config["EXPORT_DIR"]
    found: dict[str, Sealed] = {}
    with app.app_context(), acting_as(None, "tests"):
        coops = {c.code: c for c in db.session.scalars(select(Cooperative))}
        for code, key in (("PHCOOP", "philhealth_pmrf"), ("ARCOOP", "monotributo_social")):
            batch = db.session.scalar(select(Batch).where(
                Batch.cooperative_id == coops[code].id, Batch.kind == BatchKind.ENROLMENT))
            if batch is None:  # a small demo left too few ready: complete their files
                batch = _enrol_the_pending(coops[code], export_dir)
            assert batch.layout_snapshot["built_in_origin"] == key
            found[key] = Sealed(Path(export_dir) / batch.file_path, _lines(batch))
        for code, key in (("CRAGRO", "ccss_collective_agreement"),
                          ("PHCOOP", "philhealth_rf1")):
            cooperative = coops[code]
            agreement = db.session.scalar(select(Agreement).where(
                Agreement.cooperative_id == cooperative.id))
            remittance = db.session.scalars(select(Remittance).where(
                Remittance.cooperative_id == cooperative.id,
                Remittance.agreement_id == agreement.id)
                .order_by(Remittance.period.desc())).first()
            batch, path = _seal(cooperative, agreement, "remittance", export_dir,
                                period=remittance.period)
            facts = {"period": remittance.period, "reference": remittance.reference,
                     "remitted_on": remittance.remitted_on, "pen": agreement.reference,
                     "tin": cooperative.tax_number, "name": cooperative.name,
                     "address": cooperative.contact}
            found[key] = Sealed(path, _lines(batch), facts)
        ph = coops["PHCOOP"]
        sss = factories.make_agreement(ph, reference="SSS-DEMO", scheme="Social security",
                                       branches=("old_age",))
        members = db.session.scalars(select(Member.id).where(
            Member.cooperative_id == ph.id).order_by(Member.id).limit(12)).all()
        enrolled = agreement_services.enrol_members(sss, members, None)
        agreement_services.mark_ready_many(sss, [r.id for r in enrolled.done], None)
        services.create_layout(sss, "enrolment", "employment_report_enrolment")  # old name
        batch, path = _seal(ph, sss, "enrolment", export_dir)
        assert batch.layout_snapshot["built_in_origin"] == "sss_r1a_enrolment"
        found["sss_r1a_enrolment"] = Sealed(path, _lines(batch))
        db.session.commit()
    return found


# the sheets' titles are in the cooperative's language: they are found by their place
LINES, HEADER, FOOTER = 0, 1, 2


def _sheet(path: Path, index: int) -> list[list]:
    workbook = load_workbook(path)
    rows = [list(row) for row in workbook.worksheets[index].iter_rows(values_only=True)]
    workbook.close()
    return rows


def _records(path: Path, index: int) -> dict[str, str]:
    return {label: value for label, value in _sheet(path, index)[1:]}


def _lines_of(path: Path, form: dict) -> list[dict]:
    rows = _sheet(path, LINES)
    assert rows[0] == form["columns"]  # every column of the form, in its order, its titles
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _upper(text):
    return text.upper() if text else None


def _mdy(day):
    return day.strftime("%m/%d/%Y") if day else None


def test_every_institution_layout_says_which_form_and_edition_it_follows():
    for key in ("philhealth_rf1", "philhealth_pmrf", "ccss_collective_agreement",
                "monotributo_social", "sss_r1a_enrolment"):
        note = BUILT_INS[key]["note"]
        assert re.search(r"(19|20)\d\d", note), key  # the edition
        assert "starting point" in note or "punto de partida" in note, key
    assert "R-1A-like" not in str(BUILT_INS["sss_r1a_enrolment"]["name"])


def test_philhealth_rf1_header_lines_and_footer(sealed):
    file = sealed["philhealth_rf1"]
    facts = file.facts
    header = _records(file.path, HEADER)
    assert list(header) == RF1["header"]
    assert header["PhilHealth Employer Number (PEN)"] == facts["pen"]
    assert header["Employer TIN"] == facts["tin"] == "004567890000"  # leading zeros kept
    assert header["Employer Name"] == facts["name"]
    assert header["Employer Address"] == facts["address"]
    assert header["Employer Type"] == "Private"
    assert header["Report Type (R regular, A addition, D deduction)"] == "R"
    assert header["Applicable Period (MMYYYY)"] == facts["period"].strftime("%m%Y")

    lines = _lines_of(file.path, RF1)
    assert len(lines) == len(file.members) > 0
    personal = employer = Decimal(0)
    for line, member in zip(lines, file.members, strict=True):
        assert line["PhilHealth Identification Number (PIN)"] == member["number"]
        assert re.fullmatch(r"\d{2}-\d{9}-\d", line["PhilHealth Identification Number (PIN)"])
        assert line["Last Name"] == member["last_name"].upper()
        assert line["First Name"] == member["first_name"].upper()
        assert line["Name Extension"] == _upper(member["name_extension"])
        assert line["Middle Name"] == _upper(member["middle_name"])
        # asked only of a member without a PIN yet
        assert line["Date of Birth (if no PIN)"] is None and line["Sex (if no PIN)"] is None
        assert line["Personal Share (PS)"] > 0 and line["Employer Share (ES)"] > 0
        personal += Decimal(str(line["Personal Share (PS)"]))
        employer += Decimal(str(line["Employer Share (ES)"]))
        status = line["Status (NH, S, NE)"]
        assert status in (None, "NH", "S")
        if status == "NH":
            assert line["Effectivity Date"].date() == member["coverage_start"]
        elif status is None:
            assert line["Effectivity Date"] is None

    footer = _records(file.path, FOOTER)
    assert list(footer) == RF1["footer"]
    assert footer["Number of Members"] == str(len(lines))
    assert Decimal(footer["Total Personal Share"]) == personal
    assert Decimal(footer["Total Employer Share"]) == employer
    assert Decimal(footer["Total Amount Remitted"]) == personal + employer
    assert footer["Receipt / Payment Reference No."] == facts["reference"]
    assert footer["Transaction Date"] == _mdy(facts["remitted_on"])


def test_philhealth_pmrf_lines(sealed):
    file = sealed["philhealth_pmrf"]
    lines = _lines_of(file.path, PMRF)
    assert len(lines) == len(file.members) > 0
    for line, member in zip(lines, file.members, strict=True):
        assert line["Last Name"] == member["last_name"].upper()
        assert line["Name Extension"] == _upper(member["name_extension"])
        assert line["Mother's Maiden Name"] == _upper(member["mothers_maiden_name"])
        assert line["Date of Birth"].date() == member["date_of_birth"]
        assert line["Sex"] == member["sex"][0].upper()
        assert line["Civil Status"] == _upper(member["civil_status"])
        assert line["Citizenship"] == member["nationality"] == "PH"
        assert line["PhilSys Number (PSN)"] == member["id_number"]
        assert line["TIN"] == member["tax_number"]
        # the mobile number in digits, as PhilHealth's form has it: 09XXXXXXXXX
        assert re.fullmatch(r"09\d{9}", line["Mobile Number"]), line["Mobile Number"]
        assert "+63" + line["Mobile Number"][1:] == member["phone"]
        assert line["Email Address"] == member["email"]
        assert line["Profession"] == member["occupation"]
        # the declaration of dependents: those the batch sent with the member, in order
        for n in (1, 2, 3, 4):
            person = member["dependants"][n - 1] if n <= len(member["dependants"]) else None
            assert line[f"Dependent {n} Full Name"] == (person and person.name.upper())
            assert line[f"Dependent {n} Relationship"] == (
                person and person.relation.upper())
            assert line[f"Dependent {n} Date of Birth"] == (
                person and person.date_of_birth and datetime.combine(person.date_of_birth,
                                                                     time()))
    assert any(line["Dependent 1 Full Name"] for line in lines)


def test_ccss_collective_agreement_lines(sealed):
    file = sealed["ccss_collective_agreement"]
    lines = _lines_of(file.path, CCSS)
    assert len(lines) == len(file.members) > 0
    for line, member in zip(lines, file.members, strict=True):
        number = line["Número de identificación"]
        assert line["Tipo de identificación"] == "Cédula de identidad"
        # the CCSS's 9 digits: python-stdnum's 10 without the leading zero
        assert re.fullmatch(r"[1-9]\d{8}", number) and "0" + number == member["id_number"]
        assert cpf.is_valid(number)
        assert line["Primer apellido"] == member["last_name"].upper()
        assert line["Segundo apellido"] == _upper(member["second_last_name"])
        assert line["Nombre"] == member["first_name"].upper()
        assert line["Sexo"] == member["sex"][0].upper()
        assert line["Fecha de nacimiento"].date() == member["date_of_birth"]
        assert line["Nacionalidad"] == "CR"
        assert (line["Provincia"], line["Cantón"], line["Distrito"]) == (
            member["province_code"], member["canton_code"], member["district_code"])
        assert line["Cantón"] in ("105", "117", "120")  # Los Santos
        assert line["Distrito"].startswith(line["Cantón"])
        assert line["Ocupación"] == member["occupation"]
        assert line["Ingreso de referencia"] > 0
        assert Decimal(str(line["Cuota del asegurado"])) + Decimal(
            str(line["Cuota de la organización"])) == Decimal(str(line["Total"]))


def test_monotributo_social_lines(sealed):
    file = sealed["monotributo_social"]
    lines = _lines_of(file.path, MONOTRIBUTO)
    assert len(lines) == len(file.members) > 0
    for line, member in zip(lines, file.members, strict=True):
        assert line["CUIL/CUIT"] == member["id_number"] and cuit.is_valid(line["CUIL/CUIT"])
        assert line["Apellido"] == member["last_name"].upper()
        assert line["Nombres"] == member["first_name"].upper()
        assert line["Fecha de nacimiento"].date() == member["date_of_birth"]
        assert line["Nacionalidad"] == "AR"
        assert line["Domicilio"] == member["address"]
        assert line["Teléfono"].isascii() and line["Teléfono"].isdigit()
        assert line["Correo electrónico"] == member["email"]
        assert line["Actividad"] == member["occupation"]
        # the adherentes: the dependants the batch sent with the member, with their CUILs
        adherentes = member["dependants"]
        assert line["Cantidad de adherentes"] == len(adherentes)
        assert line["Adherentes (nombre y CUIL)"] == ("; ".join(
            f"{d.name} ({d.id_number})" for d in adherentes) or None)
        assert all(cuit.is_valid(d.id_number) for d in adherentes)
        # an enrolment: the efector's number comes back in the institution's answer
        assert line["N.º de inscripción del efector"] is None
        assert line["Fecha de inscripción"].date() == member["joined_on"]
    assert any(line["Cantidad de adherentes"] for line in lines)


def test_sss_r1a_lines(sealed):
    file = sealed["sss_r1a_enrolment"]
    lines = _lines_of(file.path, SSS_R1A)
    assert len(lines) == len(file.members) > 0
    for line, member in zip(lines, file.members, strict=True):
        assert line["Surname"] == member["last_name"].upper()
        assert line["Given Name"] == member["first_name"].upper()
        assert line["Date of Birth"].date() == member["date_of_birth"]
        assert line["National ID"] == member["id_number"]
        assert line["Position"] == member["occupation"]


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    assert found, "LibreOffice is needed: make libreoffice (Debian's libreoffice-calc-nogui)"
    return found


def _libreoffice_csv(path: Path, out: Path) -> dict[str, list[list[str]]]:
    """Every sheet of the file as LibreOffice reads it, converted to CSV (UTF-8)."""
    out.mkdir(parents=True, exist_ok=True)
    profile = out / "profile"
    subprocess.run([_soffice(), f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,'
                    'false,false,false,-1', "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=180)
    sheets = {}
    for produced in out.glob(f"{path.stem}*.csv"):
        text = produced.read_text(encoding="utf-8")
        sheets[produced.stem.removeprefix(path.stem).lstrip("-")] = list(
            csv.reader(io.StringIO(text)))
    return sheets


def test_the_files_open_in_libreoffice_with_no_formula_and_leading_zeros_kept(sealed,
                                                                              tmp_path):
    for key, file in sealed.items():
        workbook = load_workbook(file.path)
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                assert all(cell.data_type != "f" for cell in row), (key, sheet.title)
        names = workbook.sheetnames
        workbook.close()
        out = tmp_path / key
        sheets = _libreoffice_csv(file.path, out)
        assert set(sheets) == set(names), (key, list(sheets))
        assert len(sheets[names[LINES]]) == len(file.members) + 1
        text = "\n".join(",".join(row) for rows in sheets.values() for row in rows)
        assert "#NAME?" not in text and "Err:" not in text
    rf1 = _libreoffice_csv(sealed["philhealth_rf1"].path, tmp_path / "rf1")
    assert ["Employer TIN", "004567890000"] in rf1["Header"]  # not 4567890000
    pmrf = _libreoffice_csv(sealed["philhealth_pmrf"].path, tmp_path / "pmrf")
    mobile = pmrf["Lines"][0].index("Mobile Number")
    assert all(row[mobile].startswith("09") for row in pmrf["Lines"][1:] if row[mobile])
