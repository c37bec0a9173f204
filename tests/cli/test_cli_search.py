"""``sandbox-registry projects --search TEXT``: any part of a title or an applicant, with the
other filters; a blank search filters nothing."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sandbox.cli import main
from tests.fixtures.read_models import sqlite_world


def searched(db: Path, *args: str) -> list[str]:
    result = CliRunner().invoke(main, ["projects", "--db", str(db), "--json", *args])
    assert result.exit_code == 0, result.output
    return sorted(p["id"] for p in json.loads(result.stdout))


def test_projects_are_searched_by_any_part_of_a_title_or_an_applicant(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    w = sqlite_world(db)
    toll = w.create("ecny-pilot", title="福州数字人民币e-CNY通行费试点", lead_name="福州农村商业银行")
    credit = w.create("fintech-sandbox", title="小微企业智能信贷服务", lead_name="厦门国际银行", region="厦门")
    w.fintech_application(credit)  # with the partner techco, 榕城数科
    w.store.close()
    assert searched(db, "--search", "数字人民币") == [toll]
    assert searched(db, "--search", "银行") == sorted([toll, credit])
    assert searched(db, "--search", "榕") == [credit]
    assert searched(db, "--search", "币E-c") == [toll]
    assert searched(db, "--search", "福州 银行") == [toll]
    assert searched(db, "--search", "银行", "--region", "厦门") == [credit]
    assert searched(db, "--search", "银行", "--state", "draft") == sorted([toll, credit])
    assert searched(db, "--search", "上海") == []
    assert searched(db, "--search", " ") == sorted([toll, credit])
    table = CliRunner().invoke(main, ["projects", "--db", str(db), "--search", "福州"])
    assert table.exit_code == 0 and toll in table.stdout and credit not in table.stdout
