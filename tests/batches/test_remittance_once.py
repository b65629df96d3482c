"""A due goes into one remittance file only: a second remittance batch for the same agreement
and period is refused (web, service and CLI) with the batch that holds the lines; superseding
stays the way to correct a file; the remittance page links to its file(s)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from coopreg.agreements import services as agreement_services
from coopreg.agreements.models import Agreement, RegistrationStatus
from coopreg.batches import services
from coopreg.batches.models import Batch, BatchLine, BatchStatus
from coopreg.contributions import services as money
from coopreg.contributions.models import Due, Remittance
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.batches.helpers import make_agreement, ready_member
from tests.contributions.helpers import receipt_input

S = RegistrationStatus
MARCH = date(2025, 3, 1)


def _remitted_march(cooperative: Cooperative, agreement: Agreement, people: int = 2
                    ) -> Remittance:
    """`people` registered members whose March 2025 dues are paid and remitted."""
    for n in range(people):
        member, registration = ready_member(cooperative, agreement)
        agreement_services.transition_registration(registration, S.SUBMITTED, None)
        agreement_services.transition_registration(
            registration, S.REGISTERED, None, institution_number=f"CC-{4000000 + n:07d}",
            coverage_start=MARCH)
    money.generate_dues(agreement, MARCH, MARCH)
    for due in db.session.scalars(select(Due).where(Due.agreement_id == agreement.id)):
        money.record_receipt(cooperative, receipt_input(
            due.member, money.from_minor(due.member_share_minor, cooperative.currency),
            received_on=date(2025, 3, 5)), None, today=date(2025, 4, 1))
    total = money.remittable_total(agreement, MARCH)
    return money.record_remittance(agreement, MARCH, date(2025, 4, 2),
                                   money.from_minor(total, cooperative.currency), "TRF-1",
                                   None, today=date(2025, 4, 2))


def test_a_second_remittance_batch_for_the_same_period_is_refused(cr, agreement, export_dir):
    _remitted_march(cr, agreement)
    first = services.create_batch(cr, agreement, "remittance", None, period="2025-03")
    # a second draft beside the first one is refused already
    with pytest.raises(services.RemittanceFileExists) as refused:
        services.create_batch(cr, agreement, "remittance", None, period="2025-03")
    assert refused.value.batch.id == first.id and first.reference in refused.value.message
    services.seal_batch(first, None, export_dir)
    with pytest.raises(services.RemittanceFileExists, match=first.reference):
        services.create_batch(cr, agreement, "remittance", None, period="2025-03")
    with pytest.raises(services.RemittanceFileExists):
        services.check_new_batch(cr, agreement, "remittance", period="2025-03")
    assert db.session.scalar(select(func.count()).select_from(Batch)) == 1
    # superseding stays the way to correct the file; then the new one holds the lines
    second = services.supersede_batch(first, None)
    services.seal_batch(second, None, export_dir)
    assert first.status == BatchStatus.SUPERSEDED
    with pytest.raises(services.RemittanceFileExists, match=second.reference):
        services.create_batch(cr, agreement, "remittance", None, period="2025-03")


def test_a_discarded_draft_holds_nothing(cr, agreement):
    _remitted_march(cr, agreement)
    draft = services.create_batch(cr, agreement, "remittance", None, period="2025-03")
    services.discard_batch(draft)
    again = services.create_batch(cr, agreement, "remittance", None, period="2025-03")
    assert again.status == BatchStatus.DRAFT


def test_an_older_second_draft_cannot_be_sealed_after_the_first(cr, agreement, export_dir):
    """Two drafts made before the rule existed: the first sealed file holds the lines, the
    other draft can no longer be sealed."""
    _remitted_march(cr, agreement)
    first = services.create_batch(cr, agreement, "remittance", None, period="2025-03")
    second = Batch(cooperative_id=cr.id, agreement_id=agreement.id, kind=first.kind,
                   number=first.number + 1, reference=f"B-{first.number + 1:06d}",
                   period=first.period, status=BatchStatus.DRAFT, problem_policy="exclude",
                   layout_id=first.layout_id, file_format=first.file_format,
                   layout_snapshot=first.layout_snapshot, col_widths=first.col_widths)
    db.session.add(second)
    db.session.flush()
    for line in services.batch_lines(first):
        db.session.add(BatchLine(cooperative_id=cr.id, batch_id=second.id,
                                 line_no=line.line_no, member_id=line.member_id,
                                 registration_id=line.registration_id, values=line.values,
                                 amount_minor=line.amount_minor,
                                 member_share_minor=line.member_share_minor,
                                 cooperative_share_minor=line.cooperative_share_minor,
                                 included=True))
    db.session.flush()
    services.seal_batch(first, None, export_dir)
    with pytest.raises(services.RemittanceFileExists, match=first.reference):
        services.seal_batch(second, None, export_dir)
    assert second.status == BatchStatus.DRAFT


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_cli_second_sealed_remittance_exits_non_zero_and_writes_nothing(run, app, coop):
    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, "CLI-R")
        _remitted_march(cooperative, agreement)
        db.session.commit()
    args = ("batches", "create", "--cooperative", "CRTEST", "--agreement", "CLI-R",
            "--kind", "remittance", "--period", "2025-03", "--seal")
    first = run(*args)
    assert first.exit_code == 0, first.output
    with app.app_context():
        reference = db.session.scalar(select(Batch.reference))
        count = db.session.scalar(select(func.count()).select_from(Batch))
    second = run(*args)
    assert second.exit_code != 0
    assert reference in second.output and "Mar 2025" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Batch)) == count
        assert db.session.scalar(select(func.sum(Batch.total_minor))) == 100000


def test_web_refuses_with_a_link_and_the_remittance_page_links_the_file(
        app, client, coop, make_user, export_dir):
    from tests.conftest import login

    with app.app_context(), acting_as(None, "tests"):
        cooperative = db.session.get(Cooperative, coop.id)
        agreement = make_agreement(cooperative, "WEB-R")
        remittance = _remitted_march(cooperative, agreement)
        batch = services.create_batch(cooperative, agreement, "remittance", None,
                                      period="2025-03")
        services.seal_batch(batch, None, export_dir)
        db.session.commit()
        ids = {"agreement": agreement.id, "remittance": remittance.id, "batch": batch.id,
               "reference": batch.reference}
    _user_id, email = make_user(coop, "treasurer")
    login(client, email, cooperative=coop)
    page = client.get(f"/contributions/remittances/{ids['remittance']}").get_data(as_text=True)
    assert f"/batches/{ids['batch']}" in page and ids["reference"] in page
    assert f"/batches/{ids['batch']}/download" in page
    assert "kind=remittance" not in page  # no button to make a second file
    response = client.post("/batches/new", data={
        "agreement_id": ids["agreement"], "kind": "remittance", "period": "2025-03",
        "policy": "exclude"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert f'href="/batches/{ids["batch"]}"' in text and ids["reference"] in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Batch)) == 1
