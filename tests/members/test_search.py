"""The register's list: search (accents, case, words, numbers, IDs, phones), filters, sorting
and keyset pagination."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from coopreg.extensions import db
from coopreg.members import services
from coopreg.members.models import Member, MemberStatus


def found(cooperative, **kwargs) -> list[int]:
    return [m.id for m in services.list_members(cooperative.id, **kwargs).members]


@pytest.fixture
def people(cr, enrol):
    """A small register with distinct names, numbers, IDs, phones and places."""
    return {
        "maria": enrol(cr, first_name="María", middle_name="", last_name="Núñez",
                       second_last_name="Solís", id_number="1-0234-0567", phone="8888-1234",
                       locality="San José", sector="agriculture", member_number="101",
                       joined_on=date(2020, 1, 1)),
        "mario": enrol(cr, first_name="Mario", middle_name="", last_name="Jiménez",
                       second_last_name="Arce", id_number="", phone="7000-5555",
                       locality="Upala", sector="fishing", member_number="102",
                       joined_on=date(2019, 6, 1)),
        "ana": enrol(cr, first_name="Ana", middle_name="María", last_name="Rojas",
                     second_last_name="Vega", id_number="2-0345-0678", phone="6111-2222",
                     locality="San Jose", sector="crafts", member_number="103",
                     joined_on=date(2021, 3, 1)),
        "pedro": enrol(cr, first_name="Pedro", middle_name="", last_name="Nunez",
                       second_last_name="Castro", id_number="", phone="",
                       locality="", sector="agriculture", member_number="104",
                       joined_on=date(2018, 2, 1)),
    }


def ids(people, *names) -> set[int]:
    return {people[n].id for n in names}


# ---- search ---------------------------------------------------------------------------------

@pytest.mark.parametrize("q", ["nunez", "NÚÑEZ", "Nuñez", "  nunez  "])
def test_search_ignores_accents_and_case(cr, people, q):
    assert set(found(cr, q=q)) == ids(people, "maria", "pedro")


def test_search_by_several_words_needs_every_word(cr, people):
    assert set(found(cr, q="maria nunez")) == ids(people, "maria")
    assert set(found(cr, q="nunez maria")) == ids(people, "maria")
    assert set(found(cr, q="María")) == ids(people, "maria", "ana")
    assert set(found(cr, q="mari")) == ids(people, "maria", "mario", "ana")
    assert found(cr, q="maria jimenez") == []


def test_search_by_part_of_a_name(cr, people):
    assert set(found(cr, q="jimen")) == ids(people, "mario")
    assert set(found(cr, q="solis")) == ids(people, "maria")


def test_search_by_member_number(cr, people):
    assert found(cr, q="103") == [people["ana"].id]
    assert found(cr, q="10") == []  # a number is matched whole


def test_search_by_national_id(cr, people):
    # typed as shown on the page, as on the ID card, or compact
    for q in ("01-0234-0567", "1-0234-0567", "0102340567", "1 0234 0567"):
        assert found(cr, q=q) == [people["maria"].id], q
    assert found(cr, q="2-0345-0678") == [people["ana"].id]


def test_search_by_phone_digits(cr, people):
    assert found(cr, q="8888-1234") == [people["maria"].id]
    assert found(cr, q="88881234") == [people["maria"].id]
    assert found(cr, q="5555") == [people["mario"].id]
    assert found(cr, q="6111 2222") == [people["ana"].id]


def test_empty_search_lists_everyone(cr, people):
    assert set(found(cr, q="   ")) == ids(people, "maria", "mario", "ana", "pedro")


def test_search_finds_nothing(cr, people):
    assert found(cr, q="zzz") == []
    assert found(cr, q="99999999") == []


def test_search_stays_in_the_cooperative(cr, ph, people, enrol):
    other = enrol(ph, first_name="María", last_name="Núñez", id_number="", phone="8888-1234",
                  member_number="101")
    assert people["maria"].id in found(cr, q="nunez")
    assert other.id not in found(cr, q="nunez")
    assert found(ph, q="nunez") == [other.id]
    assert found(ph, q="101") == [other.id]
    assert found(ph, q="88881234") == [other.id]


def test_like_wildcards_are_searched_literally(cr, enrol):
    plain = enrol(cr, first_name="Laxbo", last_name="Pérez", second_last_name="", middle_name="")
    underscore = enrol(cr, first_name="La_bo", last_name="Pérez", second_last_name="",
                       middle_name="")
    percent = enrol(cr, first_name="100%", last_name="Pérez", second_last_name="",
                    middle_name="")
    assert found(cr, q="a_b") == [underscore.id]
    assert found(cr, q="%") == [percent.id]
    assert found(cr, q="0%") == [percent.id]
    assert found(cr, q="la%o") == []
    assert set(found(cr, q="perez")) == {plain.id, underscore.id, percent.id}
    assert found(cr, q="\\") == []


def test_search_condition_is_none_for_an_empty_query():
    assert services.search_condition("") is None
    assert services.search_condition("   ") is None


# ---- filters --------------------------------------------------------------------------------

def test_filter_by_status(cr, people):
    services.change_member_status(people["mario"], "suspended", date(2022, 1, 1), "Dues", None)
    services.change_member_status(people["pedro"], "left", date(2022, 1, 1), "Moved", None)
    assert set(found(cr, status="active")) == ids(people, "maria", "ana")
    assert found(cr, status="suspended") == [people["mario"].id]
    assert found(cr, status="left") == [people["pedro"].id]
    assert found(cr, status="deceased") == []
    # an unknown status is no filter
    assert len(found(cr, status="bogus")) == 4


def test_filter_by_sector(cr, people):
    assert set(found(cr, sector="agriculture")) == ids(people, "maria", "pedro")
    assert found(cr, sector="fishing") == [people["mario"].id]
    assert found(cr, sector="transport") == []
    assert len(found(cr, sector="bogus")) == 4


@pytest.mark.parametrize("locality", ["San José", "san jose", "SAN JOSÉ", " San  Jose "])
def test_filter_by_locality_ignores_accents(cr, people, locality):
    assert set(found(cr, locality=locality)) == ids(people, "maria", "ana")


def test_filters_combine_with_the_search(cr, people):
    assert found(cr, q="maria", sector="crafts") == [people["ana"].id]
    assert found(cr, q="nunez", locality="san jose") == [people["maria"].id]
    assert found(cr, q="nunez", locality="upala") == []


def test_localities_lists_each_place_once(cr, people):
    localities = services.localities(cr.id)
    assert len(localities) == 2
    assert localities[1] == "Upala"
    assert localities[0] in ("San José", "San Jose")


# ---- sorting --------------------------------------------------------------------------------

def test_sort_by_name(cr, people):
    # surnames first: Jiménez, Núñez Solís, Nunez Castro → "nunez castro" < "nunez solis"
    assert found(cr, sort="name") == [people[n].id for n in ("mario", "pedro", "maria", "ana")]


def test_sort_by_number(cr, people):
    assert found(cr, sort="number") == [people[n].id for n in ("maria", "mario", "ana",
                                                                 "pedro")]


def test_sort_by_joining_date(cr, people):
    assert found(cr, sort="joined") == [people[n].id for n in ("pedro", "mario", "maria",
                                                                 "ana")]


def test_sort_by_most_recently_added(cr, people):
    assert found(cr, sort="recent") == [people[n].id for n in ("pedro", "ana", "mario",
                                                                 "maria")]


def test_unknown_sort_falls_back_to_name(cr, people):
    assert found(cr, sort="salary") == found(cr, sort="name")


# ---- keyset pagination ----------------------------------------------------------------------

SURNAMES = ["Alvarado", "Brenes", "Campos", "Díaz", "Esquivel"]


@pytest.fixture
def crowd(cr, enrol):
    """25 members with repeated names and joining dates, so sort keys tie and the id decides."""
    members = []
    for i in range(25):
        members.append(enrol(cr, first_name="Luis", middle_name="", second_last_name="",
                             last_name=SURNAMES[i % 5], joined_on=date(2020, 1 + i % 3, 1),
                             id_number="", phone=f"8000{i:04d}",
                             # numbers in another order than the ids
                             member_number=f"M-{(i * 7) % 25:03d}"))
    return members


def expected_order(members, sort):
    keys = {
        "name": lambda m: (m.search_name, m.id),
        "number": lambda m: (m.member_number, m.id),
        "joined": lambda m: (m.joined_on, m.id),
    }
    if sort == "recent":
        return [m.id for m in sorted(members, key=lambda m: m.id, reverse=True)]
    return [m.id for m in sorted(members, key=keys[sort])]


@pytest.mark.parametrize("sort", ["name", "number", "joined", "recent"])
def test_walk_forward_and_back_through_every_page(cr, crowd, sort):
    expected = expected_order(crowd, sort)
    pages = []
    page = services.list_members(cr.id, sort=sort, per_page=10)
    assert page.prev_cursor is None
    pages.append(page)
    while page.next_cursor:
        page = services.list_members(cr.id, sort=sort, per_page=10, after=page.next_cursor)
        assert page.prev_cursor is not None
        pages.append(page)
    assert [len(p.members) for p in pages] == [10, 10, 5]
    walked = [m.id for p in pages for m in p.members]
    assert walked == expected  # in order, none twice, none missing
    assert len(set(walked)) == 25

    # and back from the last page to the first
    back = [[m.id for m in pages[-1].members]]
    page = pages[-1]
    while page.prev_cursor:
        page = services.list_members(cr.id, sort=sort, per_page=10, before=page.prev_cursor)
        assert page.next_cursor is not None
        back.insert(0, [m.id for m in page.members])
    assert back == [[m.id for m in p.members] for p in pages]
    assert page.prev_cursor is None


def walk(cooperative, **kwargs) -> list[list[int]]:
    page = services.list_members(cooperative.id, **kwargs)
    pages = [[m.id for m in page.members]]
    while page.next_cursor:
        page = services.list_members(cooperative.id, after=page.next_cursor, **kwargs)
        pages.append([m.id for m in page.members])
    return pages


def test_pagination_keeps_the_search_and_filters(cr, crowd):
    brenes = [m.id for m in crowd if m.last_name == "Brenes"]  # same name: by id
    assert walk(cr, q="brenes", sort="name", per_page=2) == [brenes[:2], brenes[2:4],
                                                              brenes[4:]]
    february = [m.id for m in crowd if m.joined_on.month == 2]
    for m in crowd[:3]:
        services.change_member_status(m, "suspended", date(2021, 1, 1), "Dues", None)
    suspended = [m.id for m in crowd[:3]][::-1]
    assert walk(cr, status="suspended", sort="recent", per_page=2) == [suspended[:2],
                                                                        suspended[2:]]
    pages = walk(cr, q="luis", sort="joined", per_page=3)
    flat = [i for p in pages for i in p]
    assert len(flat) == 25
    assert [i for i in flat if i in february] == february


def test_exactly_one_full_page_has_no_next(cr, enrol):
    for _ in range(5):
        enrol(cr)
    page = services.list_members(cr.id, per_page=5)
    assert len(page.members) == 5
    assert page.next_cursor is None and page.prev_cursor is None


def test_empty_register(cr):
    page = services.list_members(cr.id)
    assert page.members == []
    assert page.next_cursor is None and page.prev_cursor is None


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "", "bnVsbA", "WzEsMiwzXQ",
                                    "eyJhIjogMX0", "WyJ4IiwgImFiYyJd", "W251bGwsIDFd"])
def test_a_garbage_cursor_gives_the_first_page(cr, crowd, cursor):
    first = services.list_members(cr.id, per_page=10)
    for sort in ("name", "joined", "recent"):
        expected = services.list_members(cr.id, per_page=10, sort=sort)
        assert [m.id for m in services.list_members(cr.id, per_page=10, sort=sort,
                                                    after=cursor).members] == \
            [m.id for m in expected.members]
        assert [m.id for m in services.list_members(cr.id, per_page=10, sort=sort,
                                                    before=cursor).members] == \
            [m.id for m in expected.members]
    assert len(first.members) == 10


def test_a_cursor_past_the_end_gives_an_empty_page(cr, crowd):
    last = max(crowd, key=lambda m: (m.search_name, m.id))
    cursor = services._encode_cursor(last, "name")
    page = services.list_members(cr.id, per_page=10, after=cursor)
    assert page.members == []
    assert page.next_cursor is None


def test_status_of_members_in_the_page(cr, crowd):
    services.change_member_status(crowd[0], "deceased", date(2021, 1, 1), "Died", None)
    page = services.list_members(cr.id, status="deceased")
    assert [m.status for m in page.members] == [MemberStatus.DECEASED]



def test_the_locality_filter_is_kept_a_while_and_refreshed_by_a_save(app, cr, enrol):
    """With LOCALITIES_CACHE_SECONDS set, the list reads the localities once, and a member saved
    in this process with a new locality shows at once."""
    enrol(cr, locality="San Isidro")
    app.config["LOCALITIES_CACHE_SECONDS"] = 60
    try:
        assert services.localities(cr.id) == ["San Isidro"]
        db.session.execute(sa.update(Member).where(Member.cooperative_id == cr.id)
                           .values(locality="Orotina", locality_key="orotina"))
        assert services.localities(cr.id) == ["San Isidro"]  # kept for a minute
        enrol(cr, locality="Atenas")
        assert services.localities(cr.id) == ["Atenas", "Orotina"]
    finally:
        app.config["LOCALITIES_CACHE_SECONDS"] = 0
        services.forget_localities(cr.id)
