"""Click's own usage errors said in English and in Chinese, as every other failure of the command
line: the value a command refuses, click's wordings with their Chinese, and the group that
rewords them.
"""

from __future__ import annotations

import re
import sys
from typing import IO, Any

import click

from schemas.text import visible


class BadValue(click.BadParameter):
    """A value of an option the command itself refuses, said in English and in Chinese, each
    naming the option."""

    def __init__(self, option: str, message: str, message_zh: str) -> None:
        super().__init__(message, param_hint=option)
        self.option, self.message_zh = option, message_zh

    def format_message(self) -> str:
        return f"{super().format_message()} / {self.option} 的值无效：{self.message_zh}"


Rules = tuple[tuple[re.Pattern[str], str], ...]


def _rules(*rows: tuple[str, str]) -> Rules:
    """(English pattern, Chinese template) rows, compiled to match a whole message."""
    return tuple((re.compile(english, re.DOTALL), chinese) for english, chinese in rows)


#: Chinese for the values click itself refuses (the part of a message after the option's name),
#: tried in order; each English pattern is click's own wording (click 8).
VALUE_RULES_ZH: Rules = _rules(
    (r"(?P<v>.*) is not (?:one of )?(?P<c>'.*')\.", "{v} 不是可选值（{c}）之一"),
    (r"(?P<v>.*) is not a valid integer( range)?\.", "{v} 不是有效的整数"),
    (r"(?P<v>.*) is not a valid float( range)?\.", "{v} 不是有效的数字"),
    (r"(?P<v>.*) is not a valid (?P<t>[\w ]+)\.", "{v} 不是有效的 {t}"),
    (r"(?P<v>.*) is not in the range (?P<r>.*)\.", "{v} 不在范围 {r} 之内"),
    (r"(?:File|Directory|Path) (?P<v>.*) does not exist\.", "{v} 不存在"),
    (r"(?:File|Directory|Path) (?P<v>.*) is a directory\.", "{v} 是目录，须为文件"),
    (r"(?:File|Directory|Path) (?P<v>.*) is a file\.", "{v} 是文件，须为目录"),
    (r"(?:File|Directory|Path) (?P<v>.*) is not readable\.", "{v} 不可读"),
    (r"(?:File|Directory|Path) (?P<v>.*) is not writable\.", "{v} 不可写"),
    (r"(?P<v>.*) does not match the formats? (?P<f>.*)\.", "{v} 不符合格式 {f}"),
    (r"Takes (?P<n>\d+) values but (?P<g>\d+) (?:was|were) given\.", "须给出 {n} 个值，实际给出 {g} 个"),
)

#: click's guess at what was meant, after an unknown option or command.
_SUGGESTION = r"(?:\s+\(?Did you mean (?:one of: )?(?P<suggest>.*?)\?\)?)?"

#: Chinese for click's usage errors as a whole, tried in order (``{value}`` is the refused value's
#: Chinese, from :data:`VALUE_RULES_ZH`).
USAGE_RULES_ZH: Rules = _rules(
    (r"Invalid value for (?P<p>'[^']*'(?: / '[^']*')*|.+?): (?P<rest>.*)", "{p} 的值无效：{value}"),
    (r"Invalid value: (?P<rest>.*)", "值无效：{value}"),
    (r"Missing option (?P<p>'[^']*'(?: / '[^']*')*|\S+?)\.?(?:\s+Choose from:(?P<choices>.*))?", "缺少选项 {p}"),
    (r"Missing argument (?P<p>'[^']*'|\S+?)\.?(?:\s+Choose from:(?P<choices>.*))?", "缺少参数 {p}"),
    (r"Missing parameter:? (?P<p>'[^']*'|\S+?)\.?", "缺少参数 {p}"),
    (r"No such option:? (?P<p>'[^']*'|\S+?)\.?" + _SUGGESTION, "没有选项 {p}"),
    (r"No such command (?P<p>'[^']*'|\S+?)\." + _SUGGESTION, "没有命令 {p}"),
    (r"Missing command\.", "缺少子命令"),
    (r"Option (?P<p>.*) requires an argument\.", "选项 {p} 须给出一个值"),
    (r"Option (?P<p>.*) requires (?P<n>\d+) arguments\.", "选项 {p} 须给出 {n} 个值"),
    (r"Option (?P<p>.*) does not take a value\.", "选项 {p} 不接受值"),
    (r"Got unexpected extra arguments? \((?P<p>.*)\)", "多余的参数：{p}"),
)


def usage_zh(message: str) -> str:
    """The Chinese of one of click's usage errors (its English ``message``); a usage error click
    words in a way not listed above still gets a Chinese sentence, without its details."""
    for pattern, chinese in USAGE_RULES_ZH:
        found = pattern.fullmatch(message)
        if found:
            fields = found.groupdict()
            choices, suggest = fields.pop("choices", None), fields.pop("suggest", None)
            said = chinese.format(value=_value_zh(fields.pop("rest", "")), **fields)
            if choices:  # a missing choice lists them one a line, each followed by a comma
                said += "（可选：" + ", ".join(c.strip(" ,\t\n") for c in choices.split(",") if c.strip()) + "）"
            if suggest:
                said += f"（是否想用 {suggest}？）" if "," not in suggest else f"（是否想用以下之一：{suggest}？）"
            return said
    return "命令行用法有误（参见 --help）"


def _value_zh(message: str) -> str:
    for pattern, chinese in VALUE_RULES_ZH:
        found = pattern.fullmatch(message)
        if found:
            return chinese.format(**found.groupdict())
    return "不符合该选项的要求"


class BilingualUsageError(click.UsageError):
    """A usage error whose lines are all in English and Chinese: the usage, the hint to ask for
    help and the error itself."""

    def show(self, file: IO[Any] | None = None) -> None:
        stream = file if file is not None else sys.stderr
        color = self.ctx.color if self.ctx is not None else None
        if self.ctx is not None:
            asked = f"'{self.ctx.command_path} {max(self.ctx.help_option_names, key=len)}'"
            hint = f"Try {asked} for help. / 用 {asked} 查看帮助。"
            click.echo(f"{self.ctx.get_usage()}\n{hint}\n", file=stream, color=color)
        click.echo(f"Error: {self.format_message()}", file=stream, color=color)


def bilingual(error: click.UsageError) -> click.UsageError:
    """A usage error said in English, then in Chinese (the command's own :class:`BadValue` says
    both already)."""
    if isinstance(error, click.exceptions.NoArgsIsHelpError | BilingualUsageError):
        return error  # (the help, asked for by giving no arguments; or said in both already)
    message = error.format_message()
    if not isinstance(error, BadValue):  # (click's own words: a value typed in Chinese is still English)
        message = f"{' '.join(message.split())} / {usage_zh(message)}"  # (one line: click lists choices one a line)
    return BilingualUsageError(visible(message, one_line=True), ctx=error.ctx)  # (it may quote an argument)


class BilingualGroup(click.Group):
    """The command group whose usage errors (a missing option, a value outside its choices, an
    unknown option: click's own words) are said in English and in Chinese, as every other
    failure of the command line. Each is raised while the arguments of the group or of one of
    its commands are parsed, so it passes through :meth:`make_context` or :meth:`invoke`."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as e:
            raise bilingual(e) from e

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as e:
            raise bilingual(e) from e
