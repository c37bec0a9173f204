"""Search by any part of a title or an applicant: the trigram index for terms of three
characters or more, ``LIKE`` for shorter ones, the same rule as the plain predicate the past
register applies, and a project found by what it is now, not by what it was."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.read_models import schema
from projections.read_models.search import matches, search_clause, terms
from schemas import commands as c
from tests.fixtures.read_models import models, sqlite_world
from tests.fixtures.world import ALICE, World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return sqlite_world(tmp_path / "r.db")


def ids(world: World, search: str, **filters: str) -> set[str]:
    _, rows = models(world).projects(search=search, limit=500, **filters)
    return {r["id"] for r in rows}


def test_a_project_is_found_by_any_part_of_its_title_or_applicants_however_short(world: World) -> None:
    toll = world.create(
        "ecny-pilot", title="福州数字人民币e-CNY高速公路通行费试点", lead_name="福州农村商业银行股份有限公司"
    )
    credit = world.create("fintech-sandbox", title="小微企业智能信贷服务", lead_name="厦门国际银行", region="厦门")
    world.fintech_application(credit)  # with the partner techco, 榕城数科
    assert ids(world, "数字人民币") == {toll}  # five characters: the trigram index
    assert ids(world, "高速公路通行费") == {toll}
    assert ids(world, "福州") == {toll}  # two characters: in the title and the lead's name
    assert ids(world, "银行") == {toll, credit}
    assert ids(world, "榕") == {credit}  # one character, in a partner's name
    assert ids(world, "techco") == {credit}  # an organisation code
    assert ids(world, "币e-c") == {toll}  # Chinese and Latin in one term, Latin in any case
    assert ids(world, "E-CNY") == {toll}
    assert ids(world, "福州 银行") == {toll}  # every term must match
    assert ids(world, "银行 信贷") == {credit}
    assert ids(world, "上海") == set() and ids(world, "上海银行") == set()
    assert ids(world, "%") == set() and ids(world, '"') == set()  # taken as text, not as syntax
    assert ids(world, "银行", region="厦门") == {credit}
    assert ids(world, "银行", program="ecny-pilot") == {toll}
    assert ids(world, "   ") == {toll, credit}  # a blank search filters nothing


def test_a_partner_that_withdraws_no_longer_finds_the_project(world: World) -> None:
    pid = world.create("fintech-sandbox")
    world.fintech_application(pid)
    assert ids(world, "榕城") == {pid} and ids(world, "榕城数科") == {pid}
    world.do(pid, ALICE, c.WithdrawPartner(organisation="techco"))
    assert ids(world, "榕城") == set() and ids(world, "榕城数科") == set()
    assert ids(world, "福州示范") == {pid}


def test_the_search_survives_a_rebuild(world: World) -> None:
    pid = world.create("ecny-pilot", title="数字人民币红包")
    rm = models(world)
    incremental = rm.dump()
    rm.rebuild()
    assert rm.dump() == incremental
    assert ids(world, "人民币红") == {pid} and ids(world, "红包") == {pid}


# -- the index and LIKE agree with the plain predicate -------------------------------------------

_ALPHABET = "福州银行数字人民币厦门农商科技aAbBcC-1 "
_texts = st.text(alphabet=_ALPHABET, max_size=14)


@pytest.fixture(scope="module")
def table() -> Iterator[sqlite_utils.Database]:
    """The read models' tables in memory, for the search's own rows."""
    db = sqlite_utils.Database(sqlite3.connect(":memory:"))
    schema.migrate(db)
    yield db
    db.conn.close()


_ids = itertools.count()


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(_texts, _texts), max_size=6), query=_texts)
def test_the_index_and_like_find_exactly_the_rows_the_predicate_matches(
    table: sqlite_utils.Database, rows: list[tuple[str, str]], query: str
) -> None:
    conn = table.conn
    conn.execute("DELETE FROM rm_search")
    keyed = {f"p{next(_ids)}": row for row in rows}
    conn.executemany(
        "INSERT INTO rm_search (id, title, applicants) VALUES (?, ?, ?)", [(k, *r) for k, r in keyed.items()]
    )
    found = terms(query)
    expected = {k for k, (title, applicants) in keyed.items() if matches(found, title, applicants)}
    if not found:
        assert expected == set(keyed)
        return
    clause, params = search_clause(found)
    got = {row[0] for row in conn.execute(f"SELECT id FROM rm_search WHERE {clause}", params)}
    assert got == expected


def test_terms_are_cut_at_whitespace() -> None:
    assert terms(" 福州\t银行  e-CNY ") == ["福州", "银行", "e-CNY"]
    assert terms("") == [] and terms(None) == []
    assert matches(["ab"], "xAbx", "") and not matches(["ab", "zz"], "ab", "")
