"""What is wrong with a value that does not fit its type: every invalid field, each with its path
and the rule it broke, in English and Chinese.

msgspec stops at the first error and words it in English. :func:`explain` walks the value along
its type (structs, lists, mappings, tagged unions) and converts each part on its own, so that a
body with three mistakes gets three answers, each named by its own path (``fields.start_date``
rather than msgspec's ``fields[...]``). :func:`rule_zh` gives the Chinese for each of msgspec's
messages and for the checks of this package's own types.
"""

from __future__ import annotations

import enum
import json
import re
import types
import typing
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

import msgspec

from schemas.errors import DomainError
from schemas.text import PATTERN_RULES

#: The most violations an answer lists (a file of 300 bad records is not 1,200 lines of errors).
MAX_ERRORS = 100


class Violation(msgspec.Struct, frozen=True, kw_only=True):
    """One invalid field: its path (``metrics.users``, ``items[1]``; empty for the whole value),
    the rule it broke in both languages, and where a request carried it (``body``, ``query``,
    ``path``, ``header``, ``cookie``)."""

    field: str
    rule: str
    rule_zh: str
    source: str = "body"


# -- Chinese for the English rules ---------------------------------------------------------------

_TYPE_NAMES = {
    "int": "整数",
    "float": "数字",
    "str": "字符串",
    "bool": "布尔值",
    "array": "数组",
    "object": "对象",
    "null": "空值（null）",
    "date": "日期",
    "datetime": "日期时间",
    "time": "时间",
    "uuid": "UUID",
    "bytes": "字节串",
    "duration": "时长",
    "decimal": "小数",
}

_COMPARISONS = {">=": "不小于", "<=": "不大于", ">": "大于", "<": "小于"}


#: The lists of a holiday year (``schemas.reference.HolidayYear``).
_LISTS = {"holidays": "放假日期", "adjusted_working_days": "调休上班日期"}

#: What a reference dataset's records must not repeat (``schemas.reference``).
_DUPLICATES = {
    "pilot area code": "试点地区代码",
    "operator code": "运营机构代码",
    "wallet tier": "钱包等级",
    "holiday year": "节假日年份",
}


def _type_zh(names: str) -> str:
    """``int | null`` -> ``整数或空值（null）``."""
    return "或".join(_TYPE_NAMES.get(n.strip(), n.strip()) for n in names.split("|"))


def _values_zh(values: str) -> str:
    return values.replace(", ", "、")


#: (pattern of an English rule, its Chinese), tried in order; the groups are carried over.
_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = tuple(
    (re.compile(pattern, re.DOTALL), zh)
    for pattern, zh in (
        # msgspec's own words
        (r"^Expected `([^`]+)`, got `([^`]+)`$", lambda m: f"应为{_type_zh(m[1])}，实为{_type_zh(m[2])}"),
        (
            r"^Expected `([^`]+)` (>=|<=|>|<) (\S+)$",
            lambda m: f"须为{_COMPARISONS[m[2]]} {m[3]} 的{_type_zh(m[1])}",
        ),
        (r"^Expected `([^`]+)` that's a multiple of (\S+)$", lambda m: f"须为 {m[2]} 的倍数"),
        (
            r"^Expected `([^`]+)` of length (>=|<=) (\d+)$",
            lambda m: f"{_type_zh(m[1])}长度须{'不少于' if m[2] == '>=' else '不超过'} {m[3]}",
        ),
        (r"^Expected `([^`]+)` of length (\d+), got (\d+)$", lambda m: f"{_type_zh(m[1])}长度须为 {m[2]}，实为 {m[3]}"),
        (r"^Expected `str` matching regex (.+)$", lambda m: f"字符串须匹配正则表达式 {m[1]}"),
        (r"^Expected `datetime` with a timezone component$", lambda m: "日期时间须带时区"),
        (r"^Expected `datetime` with no timezone component$", lambda m: "日期时间不得带时区"),
        (r"^Invalid (?:enum )?value (.+?)(?:; must be one of: (.+))?$", lambda m: _invalid_value_zh(m)),
        (r"^Object missing required field `(.*)`$", lambda m: f"缺少必填字段“{m[1]}”"),
        (r"^Object contains unknown field `(.*)`$", lambda m: f"含有未知字段“{m[1]}”"),
        (r"^Invalid RFC3339 encoded date$", lambda m: "须为日期（YYYY-MM-DD）"),
        (r"^Invalid RFC3339 encoded datetime$", lambda m: "须为日期时间（如 2026-01-31T09:00:00+08:00）"),
        (r"^Invalid RFC3339 encoded time$", lambda m: "须为时间（HH:MM:SS）"),
        (r"^Invalid ISO8601 duration$", lambda m: "须为 ISO 8601 时长"),
        (r"^Invalid UUID$", lambda m: "须为 UUID"),
        (r"^Invalid multipart/form-data$", lambda m: "须为有效的 multipart/form-data 表单（上传文件）"),
        (r"^Invalid base64 encoded string$", lambda m: "须为 base64 编码的字符串"),
        (r"^Input data was truncated$", lambda m: "JSON 不完整"),
        (r"^Timestamp is out of range$", lambda m: "时间戳超出可表示的范围"),
        (r"^Invalid epoch timestamp$", lambda m: "须为有效的时间戳（秒数）"),
        (r"^(?:Number|Integer value) out of range$", lambda m: "数值超出可表示的范围"),
        (r"^year (-?\d+) is out of range$", lambda m: f"年份 {m[1]} 超出可表示的范围"),
        (r"^JSON is malformed: (.+)$", lambda m: "JSON 格式错误"),
        # the checks of this package's types (schemas.base, schemas.reference)
        (r"^timestamps must be timezone-aware$", lambda m: "时间须带时区"),
        (r"^pilot area (.+): withdrawn must be after joined$", lambda m: f"试点地区 {m[1]}：退出日期须晚于加入日期"),
        (
            r"^operator (.+): withdrawn must be after designated$",
            lambda m: f"运营机构 {m[1]}：取消指定的日期须晚于指定日期",
        ),
        (r"^(\S+) is listed under (\d+)$", lambda m: f"{m[1]} 不属于所列的 {m[2]} 年"),
        (
            r"^(\d+) (\w+) must be sorted without duplicates$",
            lambda m: f"{m[1]} 年的{_LISTS.get(m[2], m[2])}须按日期排列且不重复",
        ),
        (
            r"^(\d+): (\S+) is both a holiday and an adjusted working day$",
            lambda m: f"{m[1]} 年：{m[2]} 既是节假日又是调休工作日",
        ),
        (
            r"^(\d+): adjusted working day (\S+) is not a Saturday or Sunday$",
            lambda m: f"{m[1]} 年：调休工作日 {m[2]} 不是周六或周日",
        ),
        (r"^duplicate (.+): (.+)$", lambda m: f"重复的{_DUPLICATES.get(m[1], m[1])}：{m[2]}"),
        # the free-text rules (schemas.text)
        *((f"^{re.escape(en)}$", lambda m, zh=zh: zh) for en, zh in PATTERN_RULES.values()),
        # the API's own words (litestar's, for an absent parameter)
        (r"^is required$", lambda m: "必须提供"),
    )
)


def _invalid_value_zh(m: re.Match[str]) -> str:
    listed = f"；须为以下之一：{_values_zh(m[2])}" if m[2] else ""
    return f"取值 {m[1]} 无效{listed}"


#: msgspec's words for a text that breaks a pattern of ``schemas.text`` (which quote the pattern)
#: -> the rule in plain English.
_PLAIN: dict[str, str] = {
    f"Expected `str` matching regex {pattern!r}": en for pattern, (en, _) in PATTERN_RULES.items()
}


def rule_zh(rule: str) -> str:
    """The Chinese for an English rule of msgspec or of this package's types. A rule this does not
    know keeps its English, marked as such (the tests hold every type of the package to known
    rules)."""
    for pattern, zh in _RULES:
        found = pattern.match(rule)
        if found is not None:
            return zh(found)
    return f"不符合规则（原文：{rule}）"


def known(rule: str) -> bool:
    """Whether :func:`rule_zh` has Chinese of its own for ``rule``."""
    return any(pattern.match(rule) for pattern, _ in _RULES)


# -- finding every violation ---------------------------------------------------------------------

_AT = re.compile(r"^(.*) - at `\$(.*)`$", re.DOTALL)


def invalid(wrong: list[Violation]) -> DomainError:
    """The refusal of a command naming every invalid value in ``wrong`` (the first in its
    message, all of them in its details): 422 ``invalid_value`` over HTTP."""
    first = wrong[0]
    return DomainError(
        "invalid_value",
        field=first.field,
        rule_zh=first.rule_zh,
        rule_en=first.rule,
        details=[msgspec.structs.asdict(v) for v in wrong],
    )


def violation(field: str, rule: str, source: str = "body") -> Violation:
    """A violation of an English ``rule`` at ``field``, with its Chinese; a path msgspec appended
    to the rule (`` - at `$.type` ``) is moved onto the field."""
    at = _AT.match(rule)
    if at is not None:
        rule, rest = at[1], at[2]
        if "[...]" in rest:  # (a mapping's key msgspec could not name: the path says nothing more)
            rest = ""
        if rest and not rest.startswith("["):
            rest = rest.lstrip(".")
            field = f"{field}.{rest}" if field else rest
        elif rest:
            field += rest
    rule = rule.strip()
    rule = _PLAIN.get(rule, rule)
    return Violation(field=field, rule=rule, rule_zh=rule_zh(rule), source=source)


def explain(kind: Any, value: Any, *, strict: bool = False, field: str = "") -> list[Violation]:
    """Every violation of ``kind`` by ``value`` (builtins, as decoded from JSON), in the order of
    the type's fields; empty when ``msgspec.convert(value, kind, strict=strict)`` succeeds."""
    try:
        msgspec.convert(value, kind, strict=strict)
    except (msgspec.ValidationError, ValueError) as e:  # (a number of seconds past 9999: ValueError)
        message = str(e)
    else:
        return []
    base, _ = _unwrap(kind)
    found = _parts(base, value, strict, field)
    if found:
        return found
    return [violation(field, _with_values(base, message))]


def _unwrap(kind: Any) -> tuple[Any, tuple[Any, ...]]:
    """The type under ``Annotated`` and its metadata."""
    if typing.get_origin(kind) is Annotated:
        base, *meta = typing.get_args(kind)
        inner, more = _unwrap(base)
        return inner, (*more, *meta)
    return kind, ()


def _parts(base: Any, value: Any, strict: bool, field: str) -> list[Violation]:
    """The violations inside a container value, each at its own path (none: the container itself
    is at fault, or ``base`` is not a container)."""
    origin = typing.get_origin(base)
    if isinstance(base, type) and issubclass(base, msgspec.Struct) and isinstance(value, dict):
        return _struct(base, value, strict, field)
    sequence = origin in (list, set, frozenset) or (origin is tuple and typing.get_args(base)[1:] == (Ellipsis,))
    if sequence and isinstance(value, list):
        item = typing.get_args(base)[0]
        return [v for i, x in enumerate(value) for v in explain(item, x, strict=strict, field=f"{field}[{i}]")]
    if origin is dict and isinstance(value, dict):
        key, item = typing.get_args(base)
        return [  # (a bad key and its bad value: both)
            v
            for k, x in value.items()
            for v in [
                *explain(key, k, strict=strict, field=key_path(field, k)),
                *explain(item, x, strict=strict, field=key_path(field, k)),
            ]
        ]
    if origin in (typing.Union, types.UnionType):
        members = typing.get_args(base)
        tag_field, tags = _tags(members)
        if tag_field is not None and isinstance(value, dict) and value.get(tag_field) not in tags:
            at = _join(field, tag_field)
            if tag_field not in value:
                return [violation(at, f"Object missing required field `{tag_field}`")]
            return [violation(at, with_values(f"Invalid enum value {value[tag_field]!r}", tags))]
        chosen = _member(members, value)
        if chosen is not None:
            return explain(chosen, value, strict=strict, field=field)
    return []


def _tags(members: tuple[Any, ...]) -> tuple[str | None, tuple[Any, ...]]:
    """The tag field and the tags of a union of tagged structs (None: it is not one)."""
    configs = [
        m.__struct_config__ for m in members if isinstance(m, type) and issubclass(m, msgspec.Struct)
    ]
    fields = {c.tag_field for c in configs}
    if len(configs) != len(members) or len(fields) != 1 or None in fields:
        return None, ()
    return fields.pop(), tuple(c.tag for c in configs)


def _join(field: str, name: str) -> str:
    return f"{field}.{name}" if field else name


def leaves(value: object, path: str = "") -> Iterator[tuple[str, object]]:
    """Every leaf of ``value`` (structs, mappings and sequences of them, down to a number, a
    string, a date...) with its path: ``metrics.users``, ``items[1]``, ``fields["a.b"]``."""
    if isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            yield from leaves(getattr(value, name), _join(path, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, key_path(path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def key_path(field: str, key: object) -> str:
    """The path of a mapping's entry: ``fields.start_date``; a key that is not a plain name (one
    with a dot, a space or a leading digit) in brackets, as JSON, so that ``fields["a.b"]`` is
    not read as ``b`` inside ``a``."""
    name = str(key)
    if name.isidentifier():
        return _join(field, name)
    return f"{field}[{json.dumps(name, ensure_ascii=False)}]"


def _struct(base: type[msgspec.Struct], value: dict[str, Any], strict: bool, field: str) -> list[Violation]:
    config = base.__struct_config__
    fields = msgspec.structs.fields(base)
    names = {f.encode_name for f in fields}
    if config.tag_field is not None:
        names.add(config.tag_field)
    found: list[Violation] = []
    for f in fields:
        if f.encode_name in value:
            found += explain(f.type, value[f.encode_name], strict=strict, field=_join(field, f.encode_name))
        elif f.required:
            found.append(violation(_join(field, f.encode_name), f"Object missing required field `{f.encode_name}`"))
    if config.forbid_unknown_fields:
        for name in value:
            if name not in names:
                found.append(violation(_join(field, name), f"Object contains unknown field `{name}`"))
    return found


def _member(members: tuple[Any, ...], value: Any) -> Any:
    """The one member of a union that ``value`` is meant as: the struct whose tag it carries, or
    the only member of its JSON kind (object, array); None when that is not clear."""
    kinds = [m for m in members if _json_kind(_unwrap(m)[0]) == _json_kind_of(value)]
    if isinstance(value, dict):
        tagged = [m for m in kinds if isinstance(m, type) and issubclass(m, msgspec.Struct)]
        for m in tagged:
            config = m.__struct_config__
            if config.tag_field is not None and value.get(config.tag_field) == config.tag:
                return m
    return kinds[0] if len(kinds) == 1 and _json_kind_of(value) in ("object", "array") else None


def _json_kind(base: Any) -> str:
    origin = typing.get_origin(base) or base
    if origin is dict or (isinstance(origin, type) and issubclass(origin, msgspec.Struct)):
        return "object"
    if origin in (list, tuple, set, frozenset):
        return "array"
    return "other"


def _json_kind_of(value: Any) -> str:
    return "object" if isinstance(value, dict) else "array" if isinstance(value, list) else "other"


def allowed_values(kind: Any) -> tuple[Any, ...]:
    """The values a literal or enum type (optionally inside ``Annotated`` or ``| None``) allows."""
    base, _ = _unwrap(kind)
    origin = typing.get_origin(base)
    if origin is Literal:
        return typing.get_args(base)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return tuple(m.value for m in base)
    if origin in (typing.Union, types.UnionType):
        return tuple(v for m in typing.get_args(base) if m is not type(None) for v in allowed_values(m))
    return ()


def with_values(rule: str, values: tuple[Any, ...]) -> str:
    """An "invalid enum value" rule followed by the values that are allowed."""
    if not values or not rule.startswith("Invalid enum value") or "must be one of" in rule:
        return rule
    return f"{rule}; must be one of: {', '.join(str(v) for v in values)}"


def _with_values(base: Any, rule: str) -> str:
    return with_values(rule, allowed_values(base))
