"""The coverage-gap report on a known fixture: counts and shares per branch, per sector, sex,
age band and locality, and the same figures in the xlsx export."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from coopreg.agreements import services
from coopreg.agreements.coverage import coverage_report, coverage_workbook
from coopreg.agreements.models import Branch, RegistrationStatus
from coopreg.members import services as member_services
from tests.agreements.conftest import force_status

S = RegistrationStatus
AS_OF = date(2025, 6, 30)
HEALTH = (Branch.MEDICAL_CARE, Branch.SICKNESS, Branch.MATERNITY)
PENSIONS = (Branch.INVALIDITY, Branch.OLD_AGE, Branch.SURVIVORS)


@pytest.fixture
def fixture(make_agreement, new_member, health, pensions):
    """Seven members; four kinds of not being covered."""
    a = make_agreement("A", schemes=[health])
    b = make_agreement("B", schemes=[pensions], member_number_pattern=None)
    old = make_agreement("OLD", schemes=[health], valid_from=date(2023, 1, 1),
                         valid_to=date(2024, 12, 31))

    def registered(agreement, member, start=date(2024, 1, 1), status=S.REGISTERED, today=None):
        registration = services.enrol_member(agreement, member, None, today=today)
        force_status(registration, status, coverage_start=start)
        return registration

    m1 = new_member(sex="female", sector="agriculture", date_of_birth=date(1990, 1, 1))
    registered(a, m1)
    registered(b, m1)
    m2 = new_member(sex="male", sector="agriculture", date_of_birth=date(1960, 1, 1))
    registered(a, m2)
    m3 = new_member(sex="female", sector="crafts", locality="Pérez Zeledón",
                    date_of_birth=date(2003, 1, 1))
    services.enrol_member(a, m3, None)  # pending
    m4 = new_member(sex="female", sector="crafts", locality="Perez Zeledon",
                    date_of_birth=date(1980, 7, 1))  # 44 on AS_OF, 45 the day after
    registered(a, m4, status=S.SUSPENDED)
    m5 = new_member(sex="male", sector="agriculture", locality="",
                    date_of_birth=date(1975, 6, 30))  # 50 on AS_OF
    registered(a, m5, start=date(2025, 7, 1))  # coverage not started yet
    m6 = new_member(sex="female", sector="agriculture")
    registered(a, m6)
    member_services.change_member_status(m6, "left", date(2025, 1, 1), "Moved", None)
    m7 = new_member(sex="female", sector="crafts", date_of_birth=date(1980, 5, 17))
    registered(old, m7, today=date(2024, 6, 1))  # the agreement has ended
    return a


def _counts(rows):
    return {c.branch: (c.covered, c.total) for c in rows}


def test_overall_counts_per_branch(fixture, cr):
    report = coverage_report(cr.id, as_of=AS_OF)
    assert report.total_active == 6
    assert report.covered_any == 2
    counts = _counts(report.branches)
    for branch in (Branch.MEDICAL_CARE, Branch.SICKNESS):
        assert counts[branch] == (2, 6)
    # maternity is counted among women: m1, m3, m4 and m7 are active; m1 is covered
    assert counts[Branch.MATERNITY] == (1, 4)
    assert report.women == 4
    for branch in PENSIONS:
        assert counts[branch] == (1, 6)
    for branch in (Branch.UNEMPLOYMENT, Branch.EMPLOYMENT_INJURY, Branch.FAMILY):
        assert counts[branch] == (0, 6)
    medical = report.branches[0]
    assert medical.branch == Branch.MEDICAL_CARE
    assert (medical.not_covered, medical.share, medical.percent) == (4, Decimal("0.3333"),
                                                                     Decimal("33.3"))
    assert medical.not_covered_percent == Decimal("66.7")


def _groups(report, name):
    return {g.label: (g.total, _counts(g.branches)[Branch.MEDICAL_CARE][0],
                      _counts(g.branches)[Branch.OLD_AGE][0])
            for g in report.breakdowns[name]}


def test_breakdowns(fixture, cr):
    report = coverage_report(cr.id, as_of=AS_OF)
    # (active members, covered for medical care, covered for old age)
    assert _groups(report, "sex") == {"Female": (4, 1, 1), "Male": (2, 1, 0)}
    assert [g.label for g in report.breakdowns["sex"]] == ["Female", "Male"]
    assert _groups(report, "sector") == {"Agriculture": (3, 2, 1), "Crafts": (3, 0, 0)}
    assert _groups(report, "age_band") == {"Under 25": (1, 0, 0), "35 to 44": (2, 1, 1),
                                           "45 to 54": (2, 0, 0), "65 and over": (1, 1, 0)}
    assert [g.label for g in report.breakdowns["age_band"]] == [
        "Under 25", "35 to 44", "45 to 54", "65 and over"]
    # localities are grouped without accents or case; largest first
    assert _groups(report, "locality") == {"San Carlos": (3, 2, 1),
                                           "Perez Zeledon": (2, 0, 0),
                                           "Not recorded": (1, 0, 0)}
    assert [g.label for g in report.breakdowns["locality"]][0] == "San Carlos"


def test_another_cooperatives_registrations_do_not_count(fixture, cr, other_coop):
    from coopreg.cooperatives.models import Cooperative
    from coopreg.extensions import db

    ph = db.session.get(Cooperative, other_coop.id)
    report = coverage_report(ph.id, as_of=AS_OF)
    assert report.total_active == 0
    assert all(c.covered == 0 and c.share == 0 for c in report.branches)


def test_an_empty_cooperative(cr):
    report = coverage_report(cr.id, as_of=AS_OF)
    assert report.total_active == 0 and report.covered_any == 0
    assert all(rows == [] for rows in report.breakdowns.values())


def test_the_workbook(fixture, cr, new_member):
    new_member(locality='=HYPERLINK("http://evil.example","x")')
    report = coverage_report(cr.id, as_of=AS_OF)
    content = coverage_workbook(report, "=Cooperativa")
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["Summary", "By sector", "By sex", "By age band",
                                   "By locality"]
    summary = workbook["Summary"]
    assert [c.value for c in summary[1]] == ["Branch", "Active members", "Covered",
                                             "Not covered", "Covered share",
                                             "Not covered share",
                                             "Covered outside the cooperative",
                                             "Covered nowhere"]
    assert all(c.font.bold for c in summary[1])
    assert summary.freeze_panes == "B2"
    assert [c.value for c in summary[2]][:4] == ["Medical care", 7, 2, 5]
    assert summary["E2"].number_format == "0.0%"
    assert abs(summary["E2"].value - 2 / 7) < 0.0001
    name_cell = next(row[1] for row in summary.iter_rows() if row[0].value == "Cooperative")
    assert name_cell.value == "=Cooperativa" and name_cell.data_type == "s"
    localities = workbook["By locality"]
    assert localities["A1"].value == "Locality"
    assert localities["C1"].value == "Medical care: covered"
    hostile = next(row for row in localities.iter_rows(min_row=2)
                   if str(row[0].value).startswith("=HYPERLINK"))
    assert hostile[0].data_type == "s"
    rows = {row[0].value: row[1].value for row in workbook["By sex"].iter_rows(min_row=2)}
    assert rows == {"Female": 5, "Male": 2}


def test_the_page_and_the_download(app, as_role, coop, make_member):
    client = as_role("viewer")
    page = client.get("/agreements/coverage")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "Medical care" in html and "Survivors" in html
    assert 'action="/agreements/coverage/export"' in html
    started = client.post("/agreements/coverage/export")
    assert started.status_code == 302
    response = client.get(started.headers["Location"] + "/download")
    assert response.status_code == 200
    assert response.mimetype == ("application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=coverage-CRTEST-")
    assert disposition.endswith(".xlsx")
    assert load_workbook(io.BytesIO(response.data)).sheetnames[0] == "Summary"
    response.close()


def test_a_registration_whose_coverage_ended_covers_nobody(make_agreement, new_member, health,
                                                          cr):
    """Issue 14 (the same kind of wrong figure): a registration still `registered` whose
    coverage ended before the day counted as covering the member."""
    agreement = make_agreement("END", schemes=[health])
    ended = new_member()
    registration = services.enrol_member(agreement, ended, None)
    force_status(registration, S.REGISTERED, coverage_start=date(2024, 1, 1),
                 coverage_end=date(2025, 3, 31))
    running = new_member()
    registration = services.enrol_member(agreement, running, None)
    force_status(registration, S.REGISTERED, coverage_start=date(2024, 1, 1),
                 coverage_end=date(2025, 12, 31))
    report = coverage_report(cr.id, as_of=AS_OF)
    assert report.covered_any == 1
    assert _counts(report.branches)[Branch.MEDICAL_CARE] == (1, 2)
