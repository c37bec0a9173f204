"""Hostile text: what a command refuses, and how the command line shows what is stored."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import httpx
import msgspec
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from sandbox.cli import main
from sandbox.tokens import Tokens
from schemas import commands as c
from schemas.text import visible
from schemas.validation import explain
from tests.fixtures.api import Api
from tests.fixtures.attacks import noticed

ESC_TITLE = "红色\x1b[31m标题\x07"
BIDI_TITLE = "bank\u202egnp.exe"


@pytest.mark.parametrize("text", ["a\x1b[31mb", "bell\x07", "nul\x00", "del\x7f", "csi\x9b31m", "cr\roverwrite"])
def test_free_text_refuses_controls_naming_the_field(text: str) -> None:
    found = explain(c.Comment, {"text": text})
    assert [(v.field, v.rule) for v in found] == [
        ("text", "must not contain control characters (other than tab and newline)")
    ]
    assert found[0].rule_zh == "不得含控制字符（制表符和换行符除外）"


def test_free_text_keeps_tab_newline_and_any_script() -> None:
    text = "第一行\n\tindented — مرحبا — 🙂 \u200b"
    assert msgspec.convert({"text": text}, c.Comment).text == text


@pytest.mark.parametrize("mark", ["\u202a", "\u202e", "\u2066", "\u2069"])
def test_titles_and_names_refuse_bidirectional_overrides(mark: str) -> None:
    body = {
        "program_key": "fintech-sandbox", "title": f"bank{mark}x", "app_type": "金融服务",
        "lead_name": f"lead{mark}", "lead_kind": "licensed_institution", "region": "福州",
    }
    found = explain(c.CreateDraft, body)
    assert {v.field for v in found} == {"title", "lead_name"}
    assert all("bidirectional" in v.rule for v in found)
    assert msgspec.convert({"text": f"quoted {mark}x"}, c.Comment)  # free text may hold them


@pytest.mark.parametrize("mark", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_titles_and_names_refuse_zero_width_characters_free_text_keeps_them(mark: str) -> None:
    body = {
        "program_key": "fintech-sandbox", "title": f"福州{mark}银行", "app_type": "金融服务",
        "lead_name": "福州示范银行", "lead_kind": "licensed_institution", "region": f"{mark}福州",
    }
    found = explain(c.CreateDraft, body)
    assert {v.field for v in found} == {"title", "region"}
    assert all("zero-width" in v.rule and "零宽字符" in v.rule_zh for v in found), found
    assert explain(c.Object, {"grounds": "理由", "name": f"林{mark}先生", "contact": "lin@example.cn"})
    assert msgspec.convert({"text": f"一段{mark}文字"}, c.Comment).text == f"一段{mark}文字"


def test_a_zero_width_title_is_refused_over_http_and_a_comment_keeping_one_is_printed_escaped(
    api: Api, tmp_path: Path
) -> None:
    r = api.post("/api/v1/projects", "alice", {
        "program_key": "fintech-sandbox", "title": "福州\u200b示范", "app_type": "金融服务",
        "lead_name": "福州示范银行", "lead_kind": "licensed_institution", "region": "福州",
    })
    assert r.status_code == 400, r.text
    [error] = r.json()["errors"]
    assert error["field"] == "title" and "零宽字符" in error["rule_zh"] and "zero-width" in error["rule"]
    assert api.get("/api/v1/projects", "alice").json()["total"] == 0
    pid = noticed(api)
    api.do(pid, None, "comment", {"text": "赞成\u200b推广", "reason": "赞成\u200b推广"})
    assert api.events(pid)[-1]["data"]["text"] == "赞成\u200b推广"  # stored as sent
    db = api.app.state.store.path
    printed = CliRunner().invoke(main, ["history", pid, "--db", str(db)])
    assert printed.exit_code == 0, printed.output
    assert "\u200b" not in printed.output and "赞成\\u200b推广" in printed.output


def _problem_fields(r: httpx.Response) -> set[str]:
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "invalid_value" and problem["message_zh"] and problem["message_en"]
    assert all(e["rule_zh"] == "不得含控制字符、双向文字覆盖符或零宽字符" for e in problem["errors"]), problem
    return {e["field"] for e in problem["errors"]}


def test_a_program_definition_is_held_to_the_rule_of_names(api: Api) -> None:
    program = api.get("/api/v1/programs/ecny-pilot").json()
    definition = program["versions"][-1] | {"version": program["latest_version"] + 1}
    hostile = definition | {
        "name_en": "e-CNY \u202epilot",
        "legal_basis": "第一条\n\t\x1b[31m第二条",
        "admission": [definition["admission"][0] | {"label_zh": "\u200b准入"}, *definition["admission"][1:]],
    }
    head = api.head()
    r = api.post("/api/v1/programs/ecny-pilot/versions", "ada", {"definition": hostile})
    assert _problem_fields(r) == {"definition.name_en", "definition.legal_basis", "definition.admission[0].label_zh"}
    assert api.head() == head  # nothing was published
    tidy = definition | {"legal_basis": "第一条\n\t第二条"}  # (tab and newline are text)
    assert api.post("/api/v1/programs/ecny-pilot/versions", "ada", {"definition": tidy}).status_code == 201


def test_reference_records_are_held_to_the_rule_of_names(api: Api) -> None:
    records = api.get("/api/v1/reference/operators").json()["records"]
    hostile = [records[0] | {"name_zh": "兴业\u202e银行", "note": "\x07"}, *records[1:]]
    head = api.head()
    r = api.post("/api/v1/reference/operators", "ada", {"records": hostile})
    assert _problem_fields(r) == {"records[0].name_zh", "records[0].note"}
    assert api.head() == head
    assert api.post("/api/v1/reference/operators", "ada", {"records": records}).status_code == 201


def test_a_title_with_escape_codes_is_refused_over_http(api: Api) -> None:
    r = api.post("/api/v1/projects", "alice", {
        "program_key": "fintech-sandbox", "title": ESC_TITLE, "app_type": "金融服务",
        "lead_name": "福州示范银行", "lead_kind": "licensed_institution", "region": "福州",
    })
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["title"]
    assert api.get("/api/v1/projects", "alice").json()["total"] == 0


@given(st.text(max_size=40))
def test_visible_shows_no_character_a_terminal_acts_on(text: str) -> None:
    shown = visible(text, one_line=True)
    assert all(ch.isprintable() or unicodedata.category(ch) == "Zs" for ch in shown), repr(shown)
    if text.isprintable():
        assert shown == text


def _draft_with_title(db: Path, title: str) -> None:
    """A draft whose title was recorded before titles were checked (a command built in code is
    not validated: only decoding checks its fields)."""
    from projections.read_models import ReadModels
    from sandbox.registry import init_registry, open_store
    from sandbox.service import Registry

    store = open_store(db, create=True)
    try:
        init_registry(store)
        registry = Registry(store, read_models=ReadModels(store))
        registry.install_bundled()
        draft = c.CreateDraft(
            program_key="fintech-sandbox", title=title, app_type="金融服务", lead_name="福州示范银行",
            lead_kind="licensed_institution", region="福州",
        )
        registry.create_project(draft, c.Actor(id="alice", role="applicant", organisation="fzbank"), command_id="t1")
    finally:
        store.close()


def test_cli_tables_show_stored_control_characters_escaped(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    _draft_with_title(db, ESC_TITLE + BIDI_TITLE + "[bold]x[/bold]")
    result = CliRunner().invoke(main, ["projects", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
    assert "\\x1b[31m" in result.output and "\\x07" in result.output and "\\u202e" in result.output
    assert "[bold]x[/bold]" in result.output  # shown as written, not read as markup
    pid = next(line.split("│")[1].strip() for line in result.output.splitlines() if "\\x1b" in line)
    shown = CliRunner().invoke(main, ["show", pid, "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    assert "\x1b" not in shown.output and "\\x1b[31m" in shown.output


def test_cli_errors_show_arguments_escaped(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    assert CliRunner().invoke(main, ["init", "--db", str(db)]).exit_code == 0
    result = CliRunner().invoke(main, ["history", "x\x1b[2J\u202e", "--db", str(db)])
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\\x1b[2J\\u202e" in result.output


def test_token_create_refuses_an_expiry_in_the_past(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    assert CliRunner().invoke(main, ["init", "--db", str(db)]).exit_code == 0
    result = CliRunner().invoke(
        main,
        ["token", "create", "--db", str(db), "--role", "auditor", "--name", "old", "--expires", "2020-01-01T00:00:00Z"],
    )
    assert result.exit_code == 2, result.output
    assert "--expires" in result.output and "到期时间" in result.output
    listed = CliRunner().invoke(main, ["token", "list", "--db", str(db)])
    assert "old" not in listed.output  # nothing issued
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    ok = CliRunner().invoke(
        main, ["token", "create", "--db", str(db), "--role", "auditor", "--name", "new", "--expires", later]
    )
    assert ok.exit_code == 0, ok.output


def test_tokens_refuse_an_expiry_not_after_now(tmp_path: Path) -> None:
    from sandbox.registry import open_store
    from sandbox.tokens import AlreadyExpired

    store = open_store(tmp_path / "t.db", create=True)
    try:
        tokens = Tokens(store.db)
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        with pytest.raises(AlreadyExpired):
            tokens.create(name="n", role="auditor", expires_at=now, now=now)
        assert tokens.list() == []
    finally:
        store.close()


def test_declared_section_text_refuses_controls_at_its_path() -> None:
    body = {"section": "statement", "fields": {"exit_plan": "ok", "channels": ["手机银行", "x\x1b]0;owned\x07"]}}
    assert [(v.field, v.rule_zh) for v in explain(c.EditDraft, body)] == [
        ("fields.channels", "不得含控制字符（制表符和换行符除外）")
    ]
    fine = {"section": "statement", "fields": {"exit_plan": "一\n\t二", "max_users": 5, "channels": ["手机银行"]}}
    assert msgspec.convert(fine, c.EditDraft).fields["exit_plan"] == "一\n\t二"
