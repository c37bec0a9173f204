"""Usage errors of ``sandbox-registry``: click's own (an unknown option, a missing one, a value
outside its choices) are said in English and in Chinese, as every other failure of the CLI."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from sandbox.cli import main, usage_zh
from sandbox.config import DB_ENV

FALLBACK = "命令行用法有误"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def error_line(result: Result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines, result
    return lines[-1]


def has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture(autouse=True)
def no_env_db(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_ENV, raising=False)


@pytest.mark.parametrize(
    ("args", "english", "chinese"),
    [
        (
            ["token", "create", "--name", "x"],
            "Missing option '--role'",
            "缺少选项 '--role'（可选：applicant, case_officer",
        ),
        (
            ["token", "create", "--role", "boss", "--name", "x"],
            "'boss' is not one of",
            "'--role' 的值无效：'boss' 不是可选值",
        ),
        (
            ["projects", "--limit", "0"],
            "0 is not in the range 1<=x<=100000",
            "'--limit' 的值无效：0 不在范围 1<=x<=100000 之内",
        ),
        (["projects", "--limit", "many"], "'many' is not a valid integer", "'--limit' 的值无效：'many' 不是有效的整数"),
        (["projects", "--stat", "testing"], "Did you mean '--state'?", "没有选项 '--stat'（是否想用 '--state'？）"),
        (["projects", "--colour"], "No such option '--colour'", "没有选项 '--colour'"),
        (["projcts"], "Did you mean 'projects'?", "没有命令 'projcts'（是否想用 'projects'？）"),
        (["verfy"], "No such command 'verfy'", "没有命令 'verfy'"),
        (["show"], "Missing argument 'PROJECT'", "缺少参数 'PROJECT'"),
        (["show", "a", "b"], "Got unexpected extra argument (b)", "多余的参数：b"),
        (["projects", "--limit"], "Option '--limit' requires an argument", "选项 '--limit' 须给出一个值"),
        (["import", "/nonexistent/log.jsonl", "--db", "x.db"], "does not exist", "'/nonexistent/log.jsonl' 不存在"),
        (["serve", "--port", "70000"], "70000 is not in the range", "'--port' 的值无效：70000 不在范围"),
        (["projects", "--state", "测试中"], "'测试中' is not one of", "'--state' 的值无效：'测试中' 不是可选值"),
        (["项目"], "No such command '项目'", "没有命令 '项目'"),  # (typed in Chinese: still said in both)
        (["show", "x", "--as-of", "garbage"], "Invalid value for --as-of", "--as-of 的值无效：'garbage' 须为时间"),
        (["token"], "", ""),  # no subcommand: the help, as before
    ],
)
def test_click_usage_errors_are_said_in_english_and_chinese(args: list[str], english: str, chinese: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    if not english:  # a group without its command shows its help, untouched
        assert "Commands:" in result.output and FALLBACK not in result.output
        return
    message = result.output[result.output.index("Error: ") :].strip()
    assert "\n" not in message, message  # one line (click lists the choices of a missing option one a line)
    assert english in message and chinese in message.rsplit(" / ", 1)[1], message
    assert FALLBACK not in message
    for hint in (x for x in result.output.splitlines() if x.startswith("Try ")):
        assert hint.endswith("查看帮助。") and "-h" in hint


def test_a_message_the_command_gives_in_chinese_already_is_not_said_twice() -> None:
    result = run("tick", "--now", "yesterday")
    assert result.exit_code == 2
    line = error_line(result)
    assert line.count("不是 ISO 8601 时间") == 1 and FALLBACK not in line


def test_unknown_wording_still_gets_a_chinese_sentence() -> None:
    assert usage_zh("Something click may say one day.") == "命令行用法有误（参见 --help）"


# -- every usage error, whatever the arguments ---------------------------------------------------

#: Commands that only read (or refuse for want of a database): a run with no database does nothing.
READ_ONLY = ("projects", "show", "history", "programs", "verify", "rebuild", "tick", "export")
VALUES = ("0", "-1", "70000", "many", "2026-02-30", "x", "", "--", "--bogus", "-z", "extra", "十", "测试中", "--位置")


def _words(name: str) -> list[str]:
    command = main.commands[name]  # type: ignore[attr-defined]
    assert isinstance(command, click.Command)
    return [opt for p in command.params if isinstance(p, click.Option) and p.name != "db" for opt in p.opts]


@st.composite
def argv(draw: st.DrawFn) -> list[str]:
    name = draw(st.sampled_from(READ_ONLY))
    words = st.sampled_from([*_words(name), *VALUES])
    return [name, *draw(st.lists(words, max_size=5))]


@given(args=argv())
def test_every_usage_error_of_a_command_is_said_in_chinese_too(
    tmp_path_factory: pytest.TempPathFactory, args: list[str]
) -> None:
    missing = tmp_path_factory.getbasetemp() / "no-such-registry.db"
    result = run(args[0], "--db", str(missing), *args[1:])  # (last, an option may lack its value)
    assert result.exit_code != 0 and "Traceback" not in result.output, result.output
    line = error_line(result)
    assert " / " in line, (args, line)
    chinese = line.rsplit(" / ", 1)[1]  # (the English half may quote a value typed in Chinese)
    assert has_han(chinese) and FALLBACK not in chinese, (args, line)
    assert not missing.exists()
