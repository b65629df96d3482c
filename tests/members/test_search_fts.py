"""The contains-searches on SQLite go through the FTS5 trigram table `members_search` (kept by
triggers, migration 0027) and find exactly what LIKE finds: accents and case ignored, words
shorter than a trigram still matched, the last four digits of an ID or a phone, and the table
follows every insert, edit and delete of a member. On PostgreSQL the same searches keep LIKE
(its pg_trgm indexes answer them)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from coopreg.extensions import db
from coopreg.members import services
from coopreg.members.models import Member
from tests.members.test_search import found, ids, people  # noqa: F401 - the fixture
from tests.sql_log import statements_run

QUERIES = ["nunez", "NÚÑEZ", "maría", "mar", "ma", "an", "ana rojas", "ana ro", "jiménez arce",
           "1234", "0567", "0234-0567", "1-0234-0567", "8888", "70005555", "san", "zz",
           "aria", "102", '"nu', "Nú ez"]



@pytest.mark.parametrize("q", QUERIES)
def test_the_full_text_path_finds_what_like_finds(cr, people, monkeypatch, q):  # noqa: F811
    through_index = set(found(cr, q=q))
    monkeypatch.setattr(services, "TRIGRAM", 10 ** 6)  # every text too short: LIKE only
    assert set(found(cr, q=q)) == through_index


def test_accents_names_and_last_four_digits_through_the_table(cr, people):  # noqa: F811
    sqlite = db.engine.dialect.name == "sqlite"
    for q, expected in (("NÚÑEZ", ids(people, "maria", "pedro")),
                        ("maría roj", ids(people, "ana")),
                        ("0567", ids(people, "maria")),  # the ID's last four digits
                        ("1234", ids(people, "maria")),  # the phone's
                        ("ez", ids(people, "maria", "mario", "pedro"))):  # shorter than a trigram
        with statements_run() as ran:
            assert set(found(cr, q=q)) == expected, q
        sql = " ".join(r.sql for r in ran)
        if sqlite and len(q.split()[0]) >= services.TRIGRAM:
            assert "members_search MATCH" in sql, q
        else:
            assert "members_search" not in sql, q


def test_the_table_follows_edits_and_deletes(cr, people):  # noqa: F811
    mario = people["mario"]
    services.update_member(mario, {**_data_of(mario), "first_name": "Marcelino",
                                   "phone": "7333-9090"})
    assert found(cr, q="marcelino") == [mario.id]
    assert found(cr, q="9090") == [mario.id]
    assert mario.id not in found(cr, q="mario")
    assert found(cr, q="5555") == []
    db.session.execute(sa.delete(Member).where(Member.id == people["pedro"].id))
    assert found(cr, q="castro") == []
    assert set(found(cr, q="nunez")) == ids(people, "maria")


def _data_of(member: Member) -> dict:
    from tests.conftest import member_data

    return member_data(first_name=member.first_name, middle_name=member.middle_name or "",
                       last_name=member.last_name,
                       second_last_name=member.second_last_name or "",
                       id_number=member.id_number or "", phone=member.phone or "",
                       member_number=member.member_number)
