"""One place that turns every error into an RFC 9457 problem (``application/problem+json``).

Each problem has a stable ``code``, a Chinese and an English message, and for invalid input the
field path and the rule that failed. Nothing here is ever a 500 for bad input. The same module
says, for the OpenAPI document, which problems each kind of route can answer (:func:`responses`),
so the document and the handlers cannot drift apart.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import ParameterKwarg
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from events.errors import ConflictError, StoreBusyError, StoreError, StoreUnavailableError
from sandbox.documents import DocumentNotFound
from sandbox.service import PreconditionFailed, RetriesExhausted
from schemas.errors import DomainError
from schemas.validation import MAX_ERRORS, Violation, allowed_values, explain, rule_zh, violation, with_values

MEDIA = "application/problem+json"
log = logging.getLogger("sandbox.api")

#: Domain refusal code -> HTTP status; every other refusal (wrong state, four eyes, unmet
#: conditions, ...) is a 409: the request was understood but the project's state forbids it.
STATUS: dict[str, int] = {
    "wrong_role": 403,
    "not_your_organisation": 403,
    "lead_only": 403,
    "not_found": 404,
    "unknown_program": 422,
    "unknown_condition": 422,
    "unknown_objection": 422,
    "unknown_incident": 422,
    "invalid_value": 422,
    "reason_required": 422,
    "duplicate_id": 422,
    "reference_unknown": 422,
    "idempotency_key_reused": 422,
    "date_out_of_range": 422,
    "out_of_range": 422,
}


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem with the registry's stable code and bilingual messages.

    ``errors`` lists every invalid field of a 400 (and of a 422 ``invalid_value``), each with
    ``field`` (its path: ``fields.start_date``, ``items[1]``), ``source`` (``body``, ``query``,
    ``path``, ``header`` or ``cookie``), ``rule`` (English) and ``rule_zh`` (Chinese), the first
    100 of them; for another domain
    refusal it lists what is missing (for example the unmet admission conditions).
    ``current_version`` is the project's version on a 412 or a 409 so the client can re-read and
    retry. ``retry_safe`` (on a 409 ``conflict``) says whether the same request may simply be
    sent again (true: nothing was recorded and it will be decided on the current state; send it
    with the same ``Idempotency-Key``) or must be reconsidered first (false: it named a version,
    with ``If-Match`` or in its body, that is no longer current).
    """

    type: str
    title: str
    status: int
    code: str
    message_zh: str
    message_en: str
    detail: str = ""
    errors: list[dict[str, Any]] = []
    current_version: int | None = None
    retry_safe: bool | None = None


def problem(
    status: int, code: str, zh: str, en: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> Response[Problem]:
    body = Problem(
        type=f"https://sandbox-registry.invalid/problems/{code}",
        title=en,
        status=status,
        code=code,
        message_zh=zh,
        message_en=en,
        detail=extra.pop("detail", en),
        **extra,
    )
    out = dict(headers or {})
    if status == 503:
        out["Retry-After"] = "1"
    return Response(body, status_code=status, media_type=MEDIA, headers=out or None)


def error_entry(v: Violation) -> dict[str, Any]:
    """One entry of a problem's ``errors`` (the whole body is named ``body``)."""
    entry: dict[str, Any] = msgspec.to_builtins(v)
    entry["field"] = v.field or "body"
    return entry


def invalid_input(errors: list[Violation]) -> Response[Problem]:
    """400 naming the first invalid field and its rule, and how many more there are (``errors``
    lists the first :data:`MAX_ERRORS`)."""
    first, more = error_entry(errors[0]), len(errors) - 1
    return problem(
        400,
        "invalid_input",
        f"输入无效：字段 {first['field']}：{first['rule_zh']}" + (f"（另有 {more} 处）" if more else ""),
        f"invalid input: {first['field']}: {first['rule']}" + (f" (and {more} more)" if more else ""),
        errors=[error_entry(e) for e in errors[:MAX_ERRORS]],
    )


class ApiProblem(Exception):
    """A refusal decided by the HTTP layer itself (not the domain), with its own stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        zh: str,
        en: str,
        errors: list[dict[str, Any]] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status, self.code, self.zh, self.en = status, code, zh, en
        self.errors = errors or []
        self.headers = headers
        super().__init__(f"{code}: {en}")


class BadInput(Exception):
    """Raised by handlers for input the schema cannot express (a malformed header, say): a 400
    naming it, and ``more`` invalid values after it."""

    def __init__(
        self, field: str, rule: str, zh: str, source: str = "header", *, more: list[Violation] | None = None
    ) -> None:
        self.error = Violation(field=field, rule=rule, rule_zh=zh, source=source)
        self.errors = [self.error, *(more or [])]
        super().__init__(f"{field}: {rule}")


def on_domain(_: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    errors = list(exc.details)
    if not errors and "field" in exc.params:
        rule, zh = exc.params.get("rule_en", ""), exc.params.get("rule_zh", "")
        errors = [error_entry(Violation(field=exc.params["field"], rule=rule, rule_zh=zh or rule_zh(rule)))]
    return problem(STATUS.get(exc.code, 409), exc.code, exc.message_zh, exc.message_en, errors=errors)


def on_bad_input(_: Request[Any, Any, Any], exc: BadInput) -> Response[Problem]:
    return invalid_input(exc.errors)


def on_api_problem(_: Request[Any, Any, Any], exc: ApiProblem) -> Response[Problem]:
    return problem(exc.status, exc.code, exc.zh, exc.en, errors=exc.errors, headers=exc.headers)


def on_overflow(_: Request[Any, Any, Any], exc: OverflowError) -> Response[Problem]:
    """A date or number so large that the rules cannot compute with it (e.g. a deadline after 9999)."""
    return problem(
        422,
        "out_of_range",
        "日期或数值超出可计算范围",
        f"a date or number is out of the range the rules can compute with: {exc}",
    )


def on_precondition(_: Request[Any, Any, Any], exc: PreconditionFailed) -> Response[Problem]:
    return problem(
        412,
        "version_mismatch",
        f"版本不匹配：期望 {exc.expected}，当前 {exc.actual}",
        f"If-Match names version {exc.expected} but the current version is {exc.actual}",
        current_version=exc.actual,
        headers={"ETag": f'"{exc.actual}"'},
    )


def on_store(_: Request[Any, Any, Any], exc: StoreError) -> Response[Problem]:
    if isinstance(exc, RetriesExhausted):
        return problem(
            409,
            "conflict",
            f"并发冲突：其他写入方持续修改该项目（当前版本 {exc.actual}），本请求未被记录；可使用同一幂等键原样重试",
            f"conflict: other writers kept changing the project (now at version {exc.actual}) and nothing of"
            " this request was recorded; it is safe to send it again as it is, with the same Idempotency-Key",
            current_version=exc.actual,
            retry_safe=True,
            headers={"ETag": f'"{exc.actual}"'},
        )
    if isinstance(exc, ConflictError):
        return problem(
            409,
            "conflict",
            "并发冲突：项目已被他人修改，请重新读取后再决定是否重试",
            f"conflict: the project changed meanwhile (now at version {exc.actual}) and nothing of this request"
            " was recorded; the version it named is no longer current: re-read, then decide whether to retry",
            current_version=exc.actual,
            retry_safe=False,
            headers={"ETag": f'"{exc.actual}"'},
        )
    if isinstance(exc, StoreBusyError):
        return problem(
            503, "busy", "数据库繁忙，未写入任何内容，请稍后重试", "the registry is busy and wrote nothing; retry"
        )
    if isinstance(exc, StoreUnavailableError):
        return problem(
            503,
            "unavailable",
            "数据库暂不可写（空间已满或只读），未写入任何内容",
            f"the registry cannot write now and wrote nothing: {exc}",
        )
    log.error("store error: %s", exc)
    return problem(500, "store_error", "存储错误", "the event store failed; nothing was written")


def _parameters(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The handler's parsed parameters by name (none outside a route, e.g. while routing)."""
    try:
        return dict(request.route_handler.parsed_fn_signature.parameters)
    except AttributeError:
        return {}


def _parameter(request: Request[Any, Any, Any], key: str) -> Any:
    return _parameters(request).get(key)


def _wire_name(request: Request[Any, Any, Any], key: str) -> str:
    """The name a client uses for a parameter (``If-Match``, ``state``), not the handler's."""
    parameter = _parameter(request, key)
    name = getattr(parameter.kwarg_definition, "name", None) if parameter is not None else None
    return name or key


def _body_errors(request: Request[Any, Any, Any]) -> list[Violation]:
    """Every invalid field of the request's JSON body, each at its own path (msgspec, through
    litestar, names only the first)."""
    parameter = _parameter(request, "data")
    body = ScopeState.from_scope(request.scope).json
    if parameter is None or body is Empty:
        return []
    return explain(parameter.annotation, body)


def _parameter_errors(request: Request[Any, Any, Any]) -> list[Violation]:
    """Every query, header, path or cookie parameter of the request that does not convert to the
    handler's type."""
    given: dict[str, Any] = {
        "query": request.query_params,
        "header": request.headers,
        "path": request.path_params,
        "cookie": request.cookies,
    }
    found = []
    for name, parameter in _parameters(request).items():
        if not isinstance(parameter.kwarg_definition, ParameterKwarg):
            continue
        source, wire = parameter.kwarg_definition.param_type.value, _wire_name(request, name)
        raw = given.get(source, {}).get(name if source == "path" else wire)
        for v in explain(parameter.annotation, raw) if raw is not None else ():
            found.append(msgspec.structs.replace(v, field=wire, source=source))
    return found


def _source(request: Request[Any, Any, Any], item: dict[str, Any]) -> str:
    """Where litestar found an invalid value: ``body``, ``query``, ``header``, ``path``. (It takes
    every key that starts with "data" for the body's: the path parameter ``dataset`` too.)"""
    raw = item.get("source") or "body"
    if str(item.get("key")) in request.path_params:
        raw = "path"
    return str(getattr(raw, "value", raw))


def on_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    items = [i for i in exc.extra if isinstance(i, dict)] if isinstance(exc.extra, list) else []
    errors: list[Violation] = []
    in_body: list[Violation] = []  # (litestar's word for the body's first error; explained below)
    for item in items:
        source = _source(request, item)
        key = str(item.get("key") or source)
        rule = str(item.get("message", "")).strip()
        if rule in (f"'{key}'", "Missing required"):  # litestar's words for an absent value
            rule = "is required"
        if source == "body":
            in_body.append(violation("" if key == "data" else key, rule))
            continue
        parameter = _parameter(request, key)
        if parameter is not None:
            rule = with_values(rule, allowed_values(parameter.annotation))
        errors.append(violation(_wire_name(request, key), rule, source))
    if in_body:
        errors += _body_errors(request) or in_body
    missing = _MISSING.match(exc.detail or "")
    if not errors and missing:  # a required query parameter or header left out
        errors = [violation(missing["name"], "is required", missing["source"])]
    if not errors:
        errors = [violation("", exc.detail or "the request body is not valid JSON")]
    return invalid_input(errors)


#: litestar's words for a required parameter that is absent (it lists no field for it).
_MISSING = re.compile(r"Missing required (?P<source>query|header|cookie) parameter '(?P<name>[^']+)'")


_HTTP: dict[int, tuple[str, str, str]] = {
    401: ("unauthenticated", "缺少或无效的访问令牌", "a valid bearer token is required"),
    403: ("forbidden", "该角色无权访问此资源", "this role may not use this resource"),
    404: ("not_found", "资源不存在", "not found"),
    405: ("method_not_allowed", "不支持该请求方法", "method not allowed"),
    413: ("too_large", "请求体过大", "the request body is too large"),
    415: ("unsupported_media_type", "不支持的内容类型", "unsupported media type"),
}


def on_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException):
        status = 401
    elif isinstance(exc, PermissionDeniedException):
        status = 403
    headers = dict(exc.headers or {})  # e.g. Allow on a 405
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 400:
        return invalid_input([violation("", exc.detail or "bad request")])
    code, zh, en = _HTTP.get(status, ("http_error", "请求错误", "request error"))
    return problem(status, code, zh, exc.detail or en, headers=headers)


#: What the JSON decoder raises, besides its own DecodeError (which litestar makes a 400), for a
#: body it cannot read: bytes that are not UTF-8 (a client sending GBK, say), and nesting deeper
#: than it recurses. Raised anywhere else, they are bugs.
_UNREADABLE_BODY = {
    UnicodeDecodeError: ("must be JSON text in UTF-8", "须为 UTF-8 编码的 JSON 文本"),
    RecursionError: ("is nested deeper than the JSON decoder allows", "嵌套层数超过 JSON 解码器的上限"),
}


def _raised_in(exc: BaseException, function: str) -> bool:
    """Whether the error came from within litestar's ``function``."""
    trace = exc.__traceback__
    while trace is not None:
        code = trace.tb_frame.f_code
        if code.co_name == function and "litestar" in code.co_filename:
            return True
        trace = trace.tb_next
    return False


def on_unreadable_body(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """Bad input, not a crash, when the body could not be decoded (litestar's ``decode_json``);
    otherwise a bug (500)."""
    rule = _UNREADABLE_BODY.get(type(exc))
    if rule is None or not _raised_in(exc, "decode_json"):
        return on_value_error(request, exc)
    return invalid_input([Violation(field="", rule=rule[0], rule_zh=rule[1])])


def on_value_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """msgspec raises a plain ValueError, not its ValidationError, for a few values it cannot
    convert (a number of seconds past the year 9999 given for a time): bad input when litestar
    was converting the request's values to the handler's types; otherwise a bug (500)."""
    if not isinstance(exc, ValueError) or not _raised_in(exc, "parse_values_from_connection_kwargs"):
        return on_internal(request, exc)
    found = _parameter_errors(request) + _body_errors(request)
    return invalid_input(found or [violation("", str(exc))])


def on_missing_document(_: Request[Any, Any, Any], exc: DocumentNotFound) -> Response[Problem]:
    code, _zh, _en = _HTTP[404]
    return problem(404, code, exc.message_zh, str(exc))


def on_internal(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """A bug, never bad input: log it and answer without leaking internals."""
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "internal_error", "服务器内部错误", "internal error")


HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: on_domain,
    BadInput: on_bad_input,
    ApiProblem: on_api_problem,
    OverflowError: on_overflow,
    PreconditionFailed: on_precondition,
    DocumentNotFound: on_missing_document,
    StoreError: on_store,
    ValidationException: on_validation,
    HTTPException: on_http,
    UnicodeDecodeError: on_unreadable_body,
    RecursionError: on_unreadable_body,
    ValueError: on_value_error,
    Exception: on_internal,
}


# -- what the OpenAPI document says each route may answer ---------------------------------------

_DESCRIPTIONS: dict[int, str] = {
    400: "invalid input: `errors` names each field path and the rule it broke",
    401: "no token, a malformed Authorization header, or an unknown, revoked or expired token",
    403: "the token's role may not use this route",
    404: "no such resource, or a project of another organisation (an applicant never learns it exists)",
    405: "method not allowed",
    409: "refused in the project's state (wrong state, four eyes, unmet conditions with what is missing), "
    "a concurrent change found while appending (`current_version`), or for a read: the rules cannot be "
    "evaluated at that moment (e.g. no holiday calendar for that year)",
    412: "`If-Match` names an older version; `current_version` and `ETag` give the current one",
    413: "the body is larger than the server takes",
    415: "the body is not `application/json` in UTF-8 (a browser's cross-site form or text post)",
    429: "too many requests: anonymous writes from one address or to one project, or event streams of one token, "
    "beyond their limits; `Retry-After` says when to come back",
    422: "the request names something that does not exist (a program version, an objection, an incident) "
    "or breaks a field rule",
    503: "the database cannot write now (busy, full or read-only); nothing was written, retry later",
}

#: Statuses every route of a kind may answer besides success.
PUBLIC_READ = (400,)
READ = (400, 401, 403)
READ_ONE = (400, 401, 403, 404)
COMMAND = (400, 401, 403, 404, 409, 412, 422, 503)
CREATE = (400, 401, 403, 409, 422, 503)
#: What every operation may answer whatever its handler (a repeated query parameter), and what
#: every one with a body may (403 from a foreign origin, too large, not JSON): the document adds
#: them to each (``sandbox.api.openapi``).
EVERY_OPERATION = (400,)
WITH_BODY = (403, 413, 415)


def problem_response(status: int, ref: str) -> dict[str, Any]:
    """A problem response as the document writes it (``ref``: the Problem schema's reference)."""
    return {"description": _DESCRIPTIONS[status], "content": {MEDIA: {"schema": {"$ref": ref}}}}


def responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The documented problem responses of a route (``application/problem+json``)."""
    return {
        status: ResponseSpec(
            data_container=Problem, media_type=MEDIA, description=_DESCRIPTIONS[status], generate_examples=False
        )
        for status in statuses
    }
