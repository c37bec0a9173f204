"""A corpus of hostile strings (controls, bidirectional overrides, lone surrogates, zero-width
marks, very long text, SQL and shell metacharacters, markup) through every free-text field of
every command: each is refused with a clean 4xx naming the field, or stored as sent and shown
escaped wherever it is printed (the command line's tables, problem documents)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from sandbox.cli import main
from schemas import commands as c
from schemas.text import FREE_TEXT_PATTERN, NAME_PATTERN
from schemas.validation import explain
from tests.fixtures.api import Api, running
from tests.fixtures.attacks import hostile, noticed


def _text_type(kind: mi.Type) -> tuple[mi.StrType, bool] | None:
    """The checked text type of a field (and whether it is a list of them), if it is free text."""
    if isinstance(kind, mi.UnionType):
        found = [t for t in kind.types if not isinstance(t, mi.NoneType)]
        return _text_type(found[0]) if len(found) == 1 else None
    if isinstance(kind, mi.ListType):
        inner = _text_type(kind.item_type)
        return (inner[0], True) if inner else None
    if isinstance(kind, mi.StrType) and kind.pattern in (FREE_TEXT_PATTERN, NAME_PATTERN):
        return kind, False
    return None


#: (command, field, its text type, a list of them) for every free-text field of every command.
FIELDS = [
    (command, f.encode_name, *found)
    for command in (*c.PROJECT_COMMANDS, c.PublishProgramVersion)
    for f in mi.type_info(command).fields  # type: ignore[attr-defined]
    if (found := _text_type(f.type)) is not None
]


def test_every_command_with_free_text_is_covered() -> None:
    covered = {command for command, *_ in FIELDS}
    assert {c.CreateDraft, c.Comment, c.Object, c.SupplyInformation, c.RequestInformation} <= covered
    assert len(FIELDS) > 30


def allowed(text: str, kind: mi.StrType) -> bool:
    """What the rules of ``schemas.text`` and the field's bounds accept."""
    controls = any(unicodedata.category(ch) == "Cc" and ch not in "\t\n" for ch in text)
    bidi = any("\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069" for ch in text)
    zero_width = any(ch in "\u200b\u200c\u200d\u2060\ufeff" for ch in text)
    return (
        not controls
        and not ((bidi or zero_width) and kind.pattern == NAME_PATTERN)
        and len(text) >= (kind.min_length or 0)
        and len(text) <= (kind.max_length or len(text))
    )


@pytest.mark.parametrize(("command", "field", "kind", "many"), FIELDS, ids=lambda v: getattr(v, "__name__", str(v)))
@settings(max_examples=40, deadline=None)
@given(text=hostile)
def test_a_hostile_text_is_refused_naming_its_field_or_taken_as_sent(
    command: type[msgspec.Struct], field: str, kind: mi.StrType, many: bool, text: str
) -> None:
    value: Any = [text] if many else text
    wrong = [v for v in explain(command, {field: value}) if v.field.split("[")[0] == field]
    if allowed(text, kind):
        assert wrong == [], wrong
    else:
        assert wrong and all(v.rule and v.rule_zh for v in wrong), (text, wrong)


@settings(max_examples=60, deadline=None)
@given(text=hostile)
def test_declared_section_text_is_refused_or_taken_as_sent(text: str) -> None:
    body = {"section": "statement", "fields": {"exit_plan": text}}
    wrong = explain(c.EditDraft, body)
    controls = any(unicodedata.category(ch) == "Cc" and ch not in "\t\n" for ch in text)
    assert bool(wrong) == controls
    if not controls:
        assert msgspec.convert(body, c.EditDraft).fields["exit_plan"] == text


# -- through the API, and out through the command line ----------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, str, Path]]:
    db = tmp_path_factory.mktemp("hostile") / "registry.db"
    with running(db) as api:
        yield api, noticed(api), db


def _shown_safely(output: str) -> None:
    """Printed text holds no character a terminal acts on: controls other than newline, bidi."""
    for ch in output:
        assert ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"), repr(ch)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile)
def test_a_hostile_comment_or_title_is_refused_cleanly_or_shown_escaped(
    served: tuple[Api, str, Path], text: str
) -> None:
    api, pid, db = served
    comment = api.post(f"/api/v1/projects/{pid}/comment", "pat", {"text": text, "reason": text})
    body = {"program_key": "fintech-sandbox", "title": text, "app_type": "金融服务", "lead_name": "福州示范银行",
            "lead_kind": "licensed_institution", "region": "福州"}
    draft = api.post("/api/v1/projects", "alice", body)
    for answer, field in ((comment, "text"), (draft, "title")):
        assert answer.status_code < 500, answer.text
        if answer.status_code >= 400:
            problem = answer.json()  # a problem document, naming the field
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert problem["code"] and problem["message_zh"] and problem["message_en"]
            assert field in {e["field"] for e in problem["errors"]}, problem
            _shown_safely(json.dumps(problem, ensure_ascii=False).replace("\\n", ""))
    if comment.status_code == 200:
        stored = api.events(pid, "audrey")[-1]["data"]["text"]
        assert stored == text
        printed = CliRunner().invoke(main, ["history", pid, "--db", str(db)])
        assert printed.exit_code == 0, printed.output
        _shown_safely(printed.output)
    if draft.status_code == 201:
        assert api.view(draft.json()["project_id"], "carol")["title"] == text
        printed = CliRunner().invoke(main, ["projects", "--db", str(db)])
        assert printed.exit_code == 0, printed.output
        _shown_safely(printed.output)
