"""The register's counters (`member_counts`, `registration_counts`, kept by triggers, migration
0027) always equal the counts recomputed from the register, whatever the secretaries do:
members added, leaving, dying, suspended and coming back (one at a time and in a set-based
UPDATE), enrolments one by one and many at once, single transitions, a sealed batch's
set-based moves, exits flagged and terminated, registrations and members deleted. And the
funnel read from them equals the one the filtered queries count."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from coopreg.agreements import services
from coopreg.agreements.models import Registration, RegistrationStatus
from coopreg.cooperatives.models import Cooperative
from coopreg.core.errors import DomainError
from coopreg.extensions import db
from coopreg.members.models import Member, MemberStatus
from coopreg.members.services import change_member_status
from tests.contributions.helpers import make_agreement, make_member

S = RegistrationStatus
TODAY = date(2025, 3, 3)
# what the counters stand for, recomputed from the register
MEMBERS = "SELECT cooperative_id, status, count(*) FROM members GROUP BY 1, 2"
COUNTED_MEMBERS = "SELECT cooperative_id, status, n FROM member_counts WHERE n <> 0"
REGISTRATIONS = """
SELECT r.cooperative_id, r.agreement_id, r.status, m.status, count(*),
       sum(CASE WHEN r.exit_flagged THEN 1 ELSE 0 END)
FROM registrations r JOIN members m ON m.id = r.member_id GROUP BY 1, 2, 3, 4"""
COUNTED_REGISTRATIONS = """
SELECT cooperative_id, agreement_id, status, member_status, n, flagged
FROM registration_counts WHERE n <> 0 OR flagged <> 0"""


def _rows(sql: str) -> set[tuple]:
    return {tuple(r) for r in db.session.execute(sa.text(sql))}


def assert_counters_hold() -> None:
    db.session.flush()
    assert _rows(COUNTED_MEMBERS) == _rows(MEMBERS)
    assert _rows(COUNTED_REGISTRATIONS) == _rows(REGISTRATIONS)


class Register(RuleBasedStateMachine):
    cooperative_id: int = 0

    def __init__(self):
        super().__init__()
        self.savepoint = db.session.begin_nested()
        self.cooperative = db.session.get(Cooperative, self.cooperative_id)
        self.agreements = [make_agreement(self.cooperative) for _ in range(2)]
        self.members = [make_member(self.cooperative, joined_on=date(2020, 1, 1)).id
                        for _ in range(3)]

    def teardown(self):
        self.savepoint.rollback()

    def _try(self, action) -> None:
        """One secretary's action: a refused one leaves nothing behind."""
        step = db.session.begin_nested()
        try:
            action()
        except DomainError:
            step.rollback()
        else:
            step.commit()

    def _registrations(self) -> list[Registration]:
        return list(db.session.scalars(sa.select(Registration).where(
            Registration.cooperative_id == self.cooperative_id).order_by(Registration.id)))

    @rule()
    def add_member(self):
        self.members.append(make_member(self.cooperative, joined_on=date(2020, 1, 1)).id)

    @rule(m=st.integers(0, 20), a=st.integers(0, 1))
    def enrol(self, m, a):
        member = db.session.get(Member, self.members[m % len(self.members)])
        self._try(lambda: services.enrol_member(self.agreements[a], member, None, TODAY))

    @rule(a=st.integers(0, 1))
    def enrol_everyone_left(self, a):
        agreement = self.agreements[a]
        self._try(lambda: services.enrol_members(
            agreement, services.not_enrolled_ids(agreement, {}), None, TODAY))

    @rule(r=st.integers(0, 50), to=st.sampled_from(list(S)))
    def transition(self, r, to):
        registrations = self._registrations()
        if not registrations:
            return
        registration = registrations[r % len(registrations)]
        self._try(lambda: services.transition_registration(
            registration, to, None, reason="tests", institution_number=f"N{registration.id}",
            coverage_start=TODAY, today=TODAY))

    @rule()
    def force_ready(self):
        # readiness needs documents: the raw set-based UPDATE a data fix would run
        db.session.execute(sa.update(Registration).where(
            Registration.cooperative_id == self.cooperative_id,
            Registration.status == S.PENDING).values(status=S.READY))

    @rule(to=st.sampled_from([S.SUBMITTED, S.TERMINATED]))
    def seal_batch(self, to):
        sources = {S.SUBMITTED: {S.READY}, S.TERMINATED: {S.REGISTERED, S.SUSPENDED}}[to]
        ids = [r.id for r in self._registrations() if r.status in sources]
        self._try(lambda: services.transition_many(ids, to, None, "batch", TODAY,
                                                   cooperative_id=self.cooperative_id))

    @rule(m=st.integers(0, 20), to=st.sampled_from(list(MemberStatus)))
    def member_status(self, m, to):
        member = db.session.get(Member, self.members[m % len(self.members)])
        self._try(lambda: change_member_status(member, to, TODAY, "tests", None, today=TODAY))

    @rule(to=st.sampled_from([MemberStatus.ACTIVE, MemberStatus.SUSPENDED]))
    def everyone_at_once(self, to):
        db.session.execute(sa.update(Member).where(
            Member.cooperative_id == self.cooperative_id,
            Member.status != MemberStatus.DECEASED).values(status=to))
        db.session.expire_all()

    @rule(r=st.integers(0, 50))
    def delete_registration(self, r):
        registrations = self._registrations()
        if registrations:
            db.session.execute(sa.text("DELETE FROM registration_events "
                                       "WHERE registration_id = :id"),
                               {"id": registrations[r % len(registrations)].id})
            db.session.execute(sa.delete(Registration).where(
                Registration.id == registrations[r % len(registrations)].id))
            db.session.expire_all()

    @rule()
    def delete_a_member_without_registrations(self):
        held = set(db.session.scalars(sa.select(Registration.member_id).where(
            Registration.cooperative_id == self.cooperative_id)))
        free = [m for m in self.members if m not in held]
        if free:
            db.session.execute(sa.text("DELETE FROM member_status_changes "
                                       "WHERE member_id = :id"), {"id": free[-1]})
            db.session.execute(sa.delete(Member).where(Member.id == free[-1]))
            self.members.remove(free[-1])
            db.session.expire_all()

    @invariant()
    def counters_equal_the_register(self):
        assert_counters_hold()

    @invariant()
    def funnel_from_counters_equals_the_counted_one(self):
        for agreement in self.agreements:
            from_counters = services.funnel(agreement)
            # a filter every member passes takes the counting path
            counted = services.funnel(agreement, {"q": "", "sex": "", "x": "1"})
            assert from_counters == counted
            assert from_counters["not_enrolled"] == len(
                services.not_enrolled_ids(agreement, {}))


def test_register_counters_hold_whatever_the_secretaries_do(ctx, coop):
    Register.cooperative_id = coop.id
    run_state_machine_as_test(Register, settings=settings(
        max_examples=15, stateful_step_count=12, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
