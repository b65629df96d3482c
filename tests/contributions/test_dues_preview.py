"""Dues generation shows what it would create before it creates anything: per period, the
new dues with each payer's share and what already exists; the default is the current period
alone, reaching back is an explicit choice (web and CLI); `--dry-run` writes nothing; the demo
leaves no past period of a registration without its dues."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from coopreg.agreements.models import Agreement, Registration
from coopreg.agreements.services import periods_between
from coopreg.contributions import services
from coopreg.contributions.models import Due
from coopreg.cooperatives.models import Cooperative
from coopreg.core.audit import acting_as
from coopreg.extensions import db
from tests.contributions.helpers import make_agreement, make_member, register

THIS_MONTH = date.today().replace(day=1)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)


def _count(*where) -> int:
    return db.session.scalar(select(func.count()).select_from(Due).where(*where))


def test_preview_matches_what_generation_then_creates(ctx, coop):
    agreement = make_agreement(coop)  # flat 1000, member 60 %, monthly, since 2024-01
    ana = make_member(coop, joined_on=date(2020, 1, 1))
    beto = make_member(coop, joined_on=date(2020, 1, 1))
    register(agreement, ana, date(2024, 1, 1))
    register(agreement, beto, date(2024, 3, 1))
    services.generate_dues(agreement, date(2024, 1, 1), date(2024, 2, 1))
    preview = services.preview_dues(agreement, date(2024, 1, 1), date(2024, 4, 1))
    assert _count() == 2  # nothing written by the preview
    by_month = {p.month: p for p in preview.periods}
    assert [p.month.month for p in preview.periods] == [1, 2, 3, 4]
    assert (by_month[date(2024, 1, 1)].new_count, by_month[date(2024, 1, 1)].existing_count) \
        == (0, 1)
    assert by_month[date(2024, 1, 1)].existing_member_minor == 60000
    march = by_month[date(2024, 3, 1)]
    assert (march.new_count, march.new_member_minor, march.new_cooperative_minor,
            march.new_total_minor, march.existing_count) == (2, 120000, 80000, 200000, 0)
    assert preview.new_count == 4 and preview.members == 2
    text = "\n".join(preview.lines("CRC"))
    assert "Mar 2024: 2 new (member share 1200.00, cooperative share 800.00" in text
    result = services.generate_dues(agreement, date(2024, 1, 1), date(2024, 4, 1))
    assert result.created == preview.new_count
    after = services.preview_dues(agreement, date(2024, 1, 1), date(2024, 4, 1))
    assert after.new_count == 0 and after.total("existing_count") == 6


def test_preview_leaves_closed_periods_alone(ctx, coop):
    agreement = make_agreement(coop)
    member = make_member(coop, joined_on=date(2020, 1, 1))
    register(agreement, member, date(2024, 1, 1))
    services.close_period(agreement, date(2024, 1, 1), None, today=date(2024, 3, 1))
    preview = services.preview_dues(agreement, date(2024, 1, 1), date(2024, 2, 1))
    assert preview.skipped_closed == [date(2024, 1, 1)]
    assert [p.month for p in preview.periods] == [date(2024, 2, 1)]


def _world(app, coop):
    with app.app_context(), acting_as(None, "tests"):
        agreement = make_agreement(coop, valid_from=date(2024, 1, 1), reference="PRE-1")
        member = make_member(coop, joined_on=date(2020, 1, 1))
        register(agreement, member, date(2024, 1, 1))
        db.session.commit()
        return agreement.id


def test_the_page_bills_the_current_month_alone_unless_told(app, as_role, coop):
    agreement_id = _world(app, coop)
    client = as_role("treasurer")
    data = {"agreement_id": agreement_id, "through": f"{THIS_MONTH:%Y-%m}", "start": ""}
    text = client.post("/contributions/dues/generate", data=data).get_data(as_text=True)
    assert "1 dues would be created for 1 member(s)" in text
    token = re.search(r'name="confirm" type="hidden" value="([^"]+)"', text).group(1)
    # the confirmation is for what was previewed: another range is previewed again
    again = client.post("/contributions/dues/generate",
                        data={**data, "from_start": "y", "confirm": token})
    assert again.status_code == 200 and "Create these dues" in again.get_data(as_text=True)
    with app.app_context():
        assert _count() == 0
    done = client.post("/contributions/dues/generate", data={**data, "confirm": token})
    assert done.status_code == 302
    client.get(done.headers["Location"])
    with app.app_context():
        assert _count() == 1
        assert db.session.scalar(select(Due.period)) == THIS_MONTH


def test_cli_dry_run_prints_the_preview_and_writes_nothing(app, coop):
    _world(app, coop)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["dues", "generate", "--cooperative", "CRTEST", "--agreement",
                              "PRE-1", "--through", "2024-03", "--from-start", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing written" in dry.output
    assert "3 to create for 1 member(s)" in dry.output
    assert "Feb 2024: 1 new (member share 600.00, cooperative share 400.00, total 1000.00 CRC)" \
        in dry.output
    with app.app_context():
        assert _count() == 0
    # without --from or --from-start the run is the --through month alone
    one = runner.invoke(args=["dues", "generate", "--cooperative", "CRTEST", "--agreement",
                              "PRE-1", "--through", "2024-03"])
    assert one.exit_code == 0 and "1 dues created for 1 period(s)" in one.output


def test_the_demo_leaves_no_past_period_without_its_dues(app):
    result = app.test_cli_runner().invoke(args=["demo", "--members", "40"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        for cooperative in db.session.scalars(select(Cooperative).where(
                Cooperative.code.in_(["CRAGRO", "PHCOOP"]))):
            agreements = db.session.scalars(select(Agreement).where(
                Agreement.cooperative_id == cooperative.id)).all()
            assert agreements
            for agreement in agreements:
                # pressing Generate now, for this month or from the start, creates nothing
                for start in (THIS_MONTH, agreement.valid_from):
                    preview = services.preview_dues(agreement, start, THIS_MONTH)
                    assert preview.new_count == 0, (agreement.reference, start)
                covered = db.session.scalar(select(func.count()).select_from(Registration)
                                            .where(Registration.agreement_id == agreement.id,
                                                   Registration.coverage_start.is_not(None)))
                assert covered and _count(Due.agreement_id == agreement.id) >= covered
                first = periods_between(agreement, agreement.valid_from, THIS_MONTH)[0]
                assert _count(Due.agreement_id == agreement.id,
                              Due.period == first.month) > 0 or all(
                    r.coverage_start > first.month for r in db.session.scalars(
                        select(Registration).where(Registration.agreement_id == agreement.id,
                                                   Registration.coverage_start.is_not(None))))
