"""Two whole days of work in a real browser, each through the pages only (clicks and typing;
the cooperative, its users, the institution, the agreement and its file layout are set up in
Python beforehand, as an admin would have done):

- the secretary adds a member, completes what the agreement asks for, enrols and marks the
  registration ready, makes an enrolment batch with the agreement's layout, seals it and
  downloads the file, which holds the member's national ID with its leading zero;
- the treasurer generates the month's dues (a job with its progress page), posts a collection
  sheet (the exceptions, the control count and total), follows the reconciliation, records
  the remittance and produces the remittance file, whose totals equal what was posted.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from coopreg.agreements import services as agreement_services
from coopreg.auth import services as auth_services
from coopreg.batches import services as batch_services
from coopreg.cooperatives.models import Cooperative, DocumentType
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.agreements.conftest import FLAT
from tests.browser.fixtures import assert_clean_console, log_in, screenshot, serve
from tests.conftest import PASSWORD
from tests.contributions.helpers import make_agreement, make_member, register

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

CENT = Decimal("0.01")
THIS_MONTH = date.today().replace(day=1)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The app over HTTP on a database of this module's own (see tests/browser/fixtures.py),
    writing its sealed files in a folder of its own (the other journeys' cooperative has the
    same code, and a file name already taken gets a suffix)."""
    with serve("journeys") as server:
        server.app.config["EXPORT_DIR"] = str(tmp_path_factory.mktemp("journeys-exports"))
        yield server


def _cooperative(live_server) -> Cooperative:
    return db.session.scalar(select(Cooperative).where(
        Cooperative.code == live_server.cooperative_code))


def _money(value) -> Decimal:
    """A spreadsheet amount (calamine reads numbers as floats) as an exact Decimal."""
    return Decimal(str(value)).quantize(CENT)


def _save(download, tmp_path):
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    return CalamineWorkbook.from_path(str(target))


# ---- the secretary ---------------------------------------------------------------------------

def _seed_enrolment_agreement(live_server) -> None:
    """An institution, an agreement requiring the copy of the national ID, and the agreement's
    enrolment layout (from the SSS R-1A starting point: names in capitals, the ID compact)."""
    with live_server.app.app_context(), acting_as(None, "tests"):
        cooperative = _cooperative(live_server)
        id_copy = db.session.scalar(select(DocumentType).where(
            DocumentType.cooperative_id == cooperative.id,
            DocumentType.name == "Copy of national ID"))
        institution = agreement_services.create_institution(
            cooperative, "Caja Costarricense de Seguro Social", "CCSS-J", "CR")
        scheme = agreement_services.create_scheme(institution, "Seguro de Salud",
                                                  ["medical_care", "sickness", "maternity"])
        agreement = agreement_services.create_agreement(cooperative, {
            "institution_id": institution.id, "reference": "CCSS-JOURNEY",
            "valid_from": date(2024, 1, 1), "scheme_ids": [scheme.id],
            "document_type_ids": [id_copy.id]}, FLAT, None)
        batch_services.create_layout(agreement, "enrolment", "sss_r1a_enrolment",
                                     name="CCSS enrolment sheet")
        db.session.commit()


def test_secretary_from_new_member_to_sealed_enrolment_file(live_server, page, tmp_path):
    _seed_enrolment_agreement(live_server)
    log_in(page, live_server, live_server.email)
    nav = page.get_by_role("navigation", name="Main")

    # a new member, with a cédula whose normal form starts with a zero
    nav.get_by_role("link", name="Members", exact=True).click()
    page.get_by_role("link", name="Add a member").click()
    expect(page.get_by_role("heading", name="Add a member")).to_be_visible()
    page.get_by_label("First name").fill("Marta")
    page.get_by_label("Last name", exact=True).fill("Jiménez")
    page.get_by_label("Second last name").fill("Arce")
    page.get_by_label("Sex").select_option(label="Female")
    page.get_by_label("Date of birth").fill("1986-04-12")
    page.get_by_label("ID type").select_option(label="Cédula de identidad")
    page.get_by_label("ID number").fill("4-0056-0789")
    page.get_by_label("Phone").fill("8712-3456")
    page.get_by_label("Locality").fill("Upala")
    page.get_by_label("Sector").select_option(label="Agriculture")
    page.get_by_label("Joined on").fill("2023-06-01")
    page.get_by_label("Consents to share data with institutions").check()
    page.get_by_label("Consent date").fill("2023-06-01")
    page.get_by_label("How consent was given").select_option(label="Signed form")
    screenshot(page, "journeys-secretary-01-member-form")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(re.escape(live_server.url) + r"/members/\d+$"))
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Member \S+ added\.$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Marta Jiménez Arce")
    expect(page.locator("dd.mono")).to_have_text("04-0056-0789")
    member_url = page.url
    assert_clean_console(page)

    # a dependant
    dependants = page.locator("#dependants")
    dependants.get_by_label("Name").fill("Tomás Jiménez")
    dependants.get_by_label("Relationship").select_option(label="Child")
    dependants.get_by_label("Date of birth").fill("2015-09-03")
    dependants.get_by_role("button", name="Add dependant").click()
    expect(page.get_by_role("status")).to_have_text("Dependant added.")
    expect(page.locator("#dependants tbody tr")).to_have_count(1)
    expect(page.locator("#dependants tbody")).to_contain_text("Tomás Jiménez")

    # enrolled under the agreement: the readiness check says the document is missing
    registrations = page.locator("#registrations")
    expect(registrations).to_contain_text("Not enrolled in any agreement.")
    registrations.get_by_label("Agreement").select_option(label="CCSS-JOURNEY · CCSS-J")
    registrations.get_by_role("button", name="Enrol").click()
    expect(page).to_have_url(re.compile(r"/agreements/registrations/\d+$"))
    registration_url = page.url
    expect(page.get_by_role("status")).to_have_text(
        "Marta Jiménez Arce enrolled in CCSS-JOURNEY.")
    expect(page.locator("dd.reg-status")).to_have_text("Pending")
    readiness = page.locator("#readiness")
    expect(readiness).to_contain_text("Document missing: Copy of national ID.")
    screenshot(page, "journeys-secretary-02-registration-pending")

    # the documents checklist, reached from the readiness check
    readiness.get_by_role("link", name="Documents checklist").click()
    expect(page).to_have_url(re.compile(re.escape(member_url) + r"\?back=.*#documents$"))
    documents = page.locator("#documents")
    documents.get_by_label("Copy of national ID").check()
    documents.get_by_role("button", name="Save checklist").click()
    # saved, and straight back to the registration it was ticked for
    expect(page.get_by_role("status")).to_have_text("Documents checklist saved.")
    expect(page).to_have_url(registration_url)
    expect(page.locator("#readiness")).to_contain_text(
        "Everything the agreement requires is in place.")
    page.get_by_role("button", name="Mark ready").click()
    expect(page.get_by_role("status")).to_have_text("Registration is now Ready.")
    expect(page.locator("dd.reg-status")).to_have_text("Ready")
    screenshot(page, "journeys-secretary-03-registration-ready")
    assert_clean_console(page)

    # the enrolment batch, made with the agreement's layout
    nav.get_by_role("link", name="Batches").click()
    expect(page.get_by_role("heading", name="Batches", exact=True)).to_be_visible()
    page.get_by_role("link", name="Prepare a batch").click()
    page.get_by_label("Agreement").select_option(label="CCSS-JOURNEY · CCSS-J")
    expect(page.get_by_label("Kind of batch")).to_have_value("enrolment")
    page.get_by_role("button", name="Make the draft").click()

    # the work runs as a job: its page shows the progress, then the outcome
    expect(page.locator(".flash-success")).to_contain_text("Draft B-")
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("CCSS-JOURNEY")
    expect(page.locator("dl.details")).to_contain_text("CCSS enrolment sheet (")
    lines = page.locator("table.lines tbody tr")
    expect(lines).to_have_count(1)
    expect(lines).to_contain_text("JIMÉNEZ")
    expect(lines).to_contain_text("0400560789")
    expect(lines.locator("td").nth(1)).to_have_text("yes")
    screenshot(page, "journeys-secretary-04-batch-preview")

    # an irreversible step: the disclosure states the consequence and asks "I understand"
    page.locator("summary", has_text="Seal: write the file").click()
    opened = page.locator("details[open]")
    opened.get_by_label("I understand, go ahead").check()
    opened.get_by_role("button", name="Seal: write the file").click()
    # the work runs as a job: its page shows the progress, then the outcome
    expect(page.locator(".flash-success")).to_contain_text("is sealed")
    page.get_by_role("link", name="Continue").click()
    expect(page.locator(".heading .badge")).to_have_text("Sealed")
    expect(page.locator("dd.checksum").first).to_have_text(re.compile("^[0-9a-f]{64}$"))
    screenshot(page, "journeys-secretary-05-batch-sealed")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the file").click()
    download = info.value
    assert re.fullmatch(r"B-\d{6}-enrolment\.xlsx", download.suggested_filename)
    rows = _save(download, tmp_path).get_sheet_by_name("Lines").to_python()
    headers = rows[0]
    assert headers[:3] == ["SS Number", "Surname", "Given Name"]  # the layout's
    line = dict(zip(headers, rows[1], strict=True))
    assert len(rows) == 2
    assert line["National ID"] == "0400560789"  # text, the leading zero kept
    assert (line["Surname"], line["Given Name"]) == ("JIMÉNEZ", "MARTA")
    assert line["Date of Birth"] == date(1986, 4, 12)  # a real date
    assert_clean_console(page)

    # sealing moved the registration on: the member's page says it was submitted
    nav.get_by_role("link", name="Members", exact=True).click()
    page.get_by_role("searchbox", name="Search").fill("jimenez arce")
    page.get_by_role("button", name="Search").click()
    page.locator("table.list tbody").get_by_role("link", name=re.compile("Jiménez")).click()
    expect(page).to_have_url(member_url)
    expect(page.locator("#registrations tbody tr").first.locator(".badge")).to_have_text(
        "Submitted")
    page.locator("#registrations").get_by_role("link", name="Details and history").click()
    expect(page).to_have_url(registration_url)
    expect(page.locator("dd.reg-status")).to_have_text("Submitted")
    assert_clean_console(page)


# ---- the treasurer ---------------------------------------------------------------------------

TREASURER = "tesorero-journey@example.org"
TERMS = {**FLAT, "flat_amount": "1250.75", "member_share_percent": "60"}  # 750.45 + 500.30


def _seed_contributions(live_server) -> dict:
    """An agreement since last month, three members registered (institution numbers given),
    a treasurer. No dues yet: the treasurer generates them."""
    with live_server.app.app_context(), acting_as(None, "tests"):
        cooperative = _cooperative(live_server)
        agreement = make_agreement(cooperative, TERMS, valid_from=LAST_MONTH,
                                   reference="APORTES-J")
        names = {}
        for n, first in enumerate(("Alba", "Bruno", "Carmen"), start=1):
            member = make_member(cooperative, first_name=first, last_name="Recaudo",
                                 id_type="cr_cedula", id_number=f"1-050{n}-060{n}",
                                 joined_on=date(2020, 1, 1))
            registration = register(agreement, member, LAST_MONTH)
            registration.institution_member_number = f"CCSS-{n:07d}"
            names[first] = member.full_name
        user = auth_services.create_user(TREASURER, "Tesorero Jornada", PASSWORD)
        auth_services.grant_role(user, cooperative, "treasurer")
        db.session.commit()
        label = f"{agreement.reference} · {agreement.institution.short_name}"
        return {"agreement_id": agreement.id, "label": label, "names": names}


def test_treasurer_from_dues_to_remittance_file(live_server, page, tmp_path):
    seeded = _seed_contributions(live_server)
    names, label = seeded["names"], seeded["label"]
    last, this = f"{LAST_MONTH:%Y-%m}", f"{THIS_MONTH:%Y-%m}"
    log_in(page, live_server, TREASURER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contributions").click()
    expect(page.get_by_role("heading", name="Contributions", exact=True)).to_be_visible()
    subnav = page.get_by_role("navigation", name="Contributions")

    # last month's dues: a preview first, then generated by a job
    subnav.get_by_role("link", name="Generate dues").click()
    page.get_by_label("Agreement", exact=True).select_option(label=label)
    expect(page.get_by_label("Month", exact=True)).to_have_value(this)  # the current period
    page.get_by_label("Month", exact=True).fill(last)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("3 dues would be created for 3 member(s)")
    page.get_by_role("button", name="Create these dues").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.get_by_role("heading", name="Dues generation")).to_be_visible()
    expect(page.locator(".job-message")).to_have_text("Done")
    expect(page.locator("progress")).to_have_attribute("value", re.compile(r"^[1-9]"))
    expect(page.locator(".flash-success")).to_contain_text("3 dues created for 1 period(s).")
    screenshot(page, "journeys-treasurer-01-dues-generated")
    assert_clean_console(page)

    # the reconciliation before collecting: due, nothing paid
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contributions").click()
    subnav.get_by_role("link", name="Reconciliation").click()
    page.get_by_label("Agreement").select_option(label=label)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reconciliation · APORTES-J")
    last_row = page.locator(f"tr[data-period='{last}']")
    expect(last_row.locator("td.num").nth(0)).to_have_text("3")
    expect(last_row.locator("td.num").nth(1)).to_have_text("2,251.35")  # 3 × 750.45
    expect(last_row.locator("td[data-figure=allocated]")).to_have_text("0.00")
    expect(page.locator(f"tr[data-period='{this}']")).to_have_count(0)  # nothing collected
    screenshot(page, "journeys-treasurer-02-reconciliation-before")

    # the collection sheet of today: everyone's dues pre-filled; the exceptions typed
    subnav.get_by_role("link", name="Collection sheet").click()
    page.get_by_label("Agreement").select_option(label=label)
    expect(page.get_by_label("Collection date")).to_have_value(date.today().isoformat())
    page.get_by_role("button", name="Prepare the sheet").click()
    for first in ("Alba", "Bruno", "Carmen"):
        expect(page.get_by_label(f"Paid by {names[first]}")).to_have_value("750.45")
    expect(page.locator("#sheet-count")).to_have_text("3")
    expect(page.locator("#sheet-total")).to_have_text("2251.35")
    page.get_by_label(f"Paid by {names['Bruno']}").fill("")  # Bruno did not pay
    carmen = page.locator("table.sheet tbody tr", has_text=names["Carmen"])
    carmen.get_by_label("Method").select_option(label="Mobile money")
    carmen.get_by_label("Reference").fill("MM-55120")
    expect(page.locator("#sheet-count")).to_have_text("2")
    expect(page.locator("#sheet-total")).to_have_text("1500.90")
    page.get_by_label("Control: number of payments").fill("2")
    page.get_by_label("Control: total collected").fill("1500.90")
    screenshot(page, "journeys-treasurer-03-collection-sheet")
    page.get_by_role("button", name="Post the sheet").click()

    # back on the reconciliation, the figures moved
    expect(page.get_by_role("status")).to_contain_text("Collection sheet posted: 2 receipts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reconciliation · APORTES-J")
    collected = page.locator(f"tr[data-period='{this}'] td[data-figure=collected]")
    expect(collected).to_have_text("1,500.90")
    expect(last_row.locator("td[data-figure=allocated]")).to_have_text("1,500.90")
    expect(last_row.locator("td[data-figure=open]")).to_have_text("750.45")  # Bruno owes
    # to remit, both shares: 2 × 1250.75
    expect(last_row.locator("td[data-figure=unremitted]")).to_have_text("2,501.50")
    screenshot(page, "journeys-treasurer-04-reconciliation-after")
    collected.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Collected in the month")
    expect(page.locator("table.list tbody tr")).to_have_count(2)
    assert_clean_console(page)

    # the remittance of last month
    subnav.get_by_role("link", name="Remittances").click()
    page.get_by_label("Agreement").select_option(label=label)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.list")).to_contain_text("No remittance recorded yet.")
    page.get_by_role("link", name="Record a remittance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Record a remittance · APORTES-J")
    page.get_by_label("Period").fill(last)
    page.get_by_label("Sent on").fill(date.today().isoformat())
    page.get_by_label("Amount sent").fill("2501.50")
    page.get_by_label("Transfer reference").fill("TRF-2026-118")
    screenshot(page, "journeys-treasurer-05-remittance-form")
    page.get_by_role("button", name="Record the remittance").click()
    shown_month = format_date(LAST_MONTH, "MMM y", locale="en")  # months read as words
    expect(page.get_by_role("status")).to_have_text(f"Remittance for {shown_month} recorded.")
    details = page.locator("dl.details")
    expect(details).to_contain_text("₡2,501.50")
    # Alba's and Carmen's dues (the first table: the payers' columns follow)
    expect(page.locator("table.list").first.locator("tbody tr")).to_have_count(2)
    screenshot(page, "journeys-treasurer-06-remittance")
    remittance_url = page.url

    subnav.get_by_role("link", name="Reconciliation").click()
    page.get_by_label("Agreement").select_option(label=label)
    page.get_by_role("button", name="Show").click()
    expect(last_row.locator("td[data-figure=unremitted]")).to_have_text("0.00")  # none left
    expect(last_row.locator("td[data-figure=remitted]")).to_have_text("2,501.50")
    remittance = last_row.locator("td[data-figure=remittance]")
    expect(remittance).to_have_text("2,501.50")  # the remittance, a link to it
    remittance.get_by_role("link").click()
    expect(page).to_have_url(remittance_url)

    # the remittance file
    page.get_by_role("link", name="Produce the remittance file").click()
    expect(page.get_by_role("heading", name="Prepare a batch")).to_be_visible()
    expect(page.get_by_label("Kind of batch")).to_have_value("remittance")
    expect(page.get_by_label("Period (remittance)")).to_have_value(last)
    page.get_by_role("button", name="Make the draft").click()
    # the work runs as a job: its page shows the progress, then the outcome
    expect(page.locator(".flash-success")).to_contain_text("Draft B-")
    page.get_by_role("link", name="Continue").click()
    expect(page.locator("table.lines tbody tr")).to_have_count(2)
    expect(page.locator(".stats")).to_contain_text("₡2,501.50")
    screenshot(page, "journeys-treasurer-07-remittance-batch-preview")
    # an irreversible step: the disclosure states the consequence and asks "I understand"
    page.locator("summary", has_text="Seal: write the file").click()
    opened = page.locator("details[open]")
    opened.get_by_label("I understand, go ahead").check()
    opened.get_by_role("button", name="Seal: write the file").click()
    # the work runs as a job: its page shows the progress, then the outcome
    expect(page.locator(".flash-success")).to_contain_text("is sealed")
    page.get_by_role("link", name="Continue").click()
    expect(details).to_contain_text("₡1,500.90")  # member share
    expect(details).to_contain_text("₡2,501.50")  # total
    screenshot(page, "journeys-treasurer-08-remittance-batch-sealed")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the file").click()
    download = info.value
    assert re.fullmatch(r"B-\d{6}-remittance\.xlsx", download.suggested_filename)
    workbook = _save(download, tmp_path)
    rows = workbook.get_sheet_by_name("Lines").to_python()
    lines = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert sorted(line["First name"] for line in lines) == ["Alba", "Carmen"]
    # to the cent: the members' shares are what the sheet posted; the total what was remitted
    assert sum(_money(line["Member share"]) for line in lines) == Decimal("1500.90")
    assert sum(_money(line["Cooperative share"]) for line in lines) == Decimal("1000.60")
    assert sum(_money(line["Total"]) for line in lines) == Decimal("2501.50")
    summary = {row[0]: row for row in workbook.get_sheet_by_name("Summary").to_python()}
    assert summary["Lines"][2] == 2
    assert summary["Period"][1] == format_date(LAST_MONTH, "MMM y", locale="en")
    assert _money(summary["Total"][3]) == Decimal("2501.50")
    assert_clean_console(page)
