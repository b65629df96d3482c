"""Gap-free numbers under concurrent writers (threads released together)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coopreg.cooperatives.services import create_cooperative
from coopreg.core.audit import acting_as
from coopreg.core.sequences import NumberSequence, next_number
from coopreg.extensions import db
from tests.conftest import run_together


def test_numbers_follow_each_other_per_cooperative_and_name(ctx, coop, other_coop):
    assert [next_number(coop.id, "receipt") for _ in range(3)] == [1, 2, 3]
    assert next_number(coop.id, "batch") == 1
    assert next_number(other_coop.id, "receipt") == 1


def test_a_rolled_back_number_is_given_again(app, coop):
    with app.app_context():
        assert next_number(coop.id, "receipt") == 1
        db.session.commit()
        assert next_number(coop.id, "receipt") == 2
        db.session.rollback()
        assert next_number(coop.id, "receipt") == 2


@pytest.mark.no_transaction
def test_eight_concurrent_writers_get_gap_free_unique_numbers(committed_app):
    app = committed_app
    with app.app_context(), acting_as(None, "tests"):
        cooperative_id = create_cooperative("SEQ", "Sequence coop", "CR", "CRC").id
        db.session.commit()

    def take_numbers(_i: int) -> list[int]:
        taken = []
        for n in range(10):
            with app.app_context():
                number = next_number(cooperative_id, "receipt")
                if n % 4 == 3:
                    db.session.rollback()  # an abandoned transaction gives its number back
                else:
                    db.session.commit()
                    taken.append(number)
        return taken

    results = run_together(8, take_numbers)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    numbers = sorted(n for r in results for n in r)
    assert numbers == list(range(1, len(numbers) + 1)), "numbers must be unique and gap-free"
    assert len(numbers) == 8 * 8
    with app.app_context():
        last = db.session.scalar(select(NumberSequence.last_value).where(
            NumberSequence.cooperative_id == cooperative_id))
        assert last == len(numbers)
