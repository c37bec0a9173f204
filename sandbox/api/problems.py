"""One place that turns every error into an RFC 9457 problem (``application/problem+json``).

Each problem has a stable ``code``, a Chinese and an English message, and for invalid input the
field path and the rule that failed. Nothing here is ever a 500 for bad input.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)

from events.errors import ConflictError, StoreBusyError, StoreError, StoreUnavailableError
from sandbox.service import PreconditionFailed
from schemas.errors import DomainError

MEDIA = "application/problem+json"

#: Domain refusal code -> HTTP status.
STATUS: dict[str, int] = {
    "wrong_role": 403,
    "not_your_organisation": 403,
    "not_found": 404,
    "unknown_program": 422,
    "unknown_condition": 422,
    "unknown_objection": 422,
    "unknown_incident": 422,
    "invalid_value": 422,
    "reason_required": 422,
    "duplicate_id": 422,
    "reference_unknown": 422,
}


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem with the registry's stable code and bilingual messages."""

    type: str
    title: str
    status: int
    code: str
    message_zh: str
    message_en: str
    detail: str = ""
    errors: list[dict[str, Any]] = []
    current_version: int | None = None


def problem(status: int, code: str, zh: str, en: str, **extra: Any) -> Response[Problem]:
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
    headers = {"Retry-After": "1"} if status == 503 else None
    return Response(body, status_code=status, media_type=MEDIA, headers=headers)


def on_domain(_: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    return problem(STATUS.get(exc.code, 409), exc.code, exc.message_zh, exc.message_en, errors=exc.details)


def on_precondition(_: Request[Any, Any, Any], exc: PreconditionFailed) -> Response[Problem]:
    return problem(
        412,
        "version_mismatch",
        f"版本不匹配：期望 {exc.expected}，当前 {exc.actual}",
        f"If-Match names version {exc.expected} but the project is at version {exc.actual}",
        current_version=exc.actual,
    )


def on_store(_: Request[Any, Any, Any], exc: StoreError) -> Response[Problem]:
    if isinstance(exc, ConflictError):
        return problem(
            409,
            "conflict",
            "并发冲突：项目已被他人修改，请重试",
            f"conflict: the project changed meanwhile (now at version {exc.actual}); retry",
            current_version=exc.actual,
        )
    if isinstance(exc, StoreBusyError):
        return problem(503, "busy", "数据库繁忙，请稍后重试", "the registry is busy; retry shortly")
    if isinstance(exc, StoreUnavailableError):
        return problem(
            503,
            "unavailable",
            "数据库暂不可写（空间已满或只读），未写入任何内容",
            f"the registry cannot write now and wrote nothing: {exc}",
        )
    return problem(500, "store_error", "存储错误", str(exc))


def on_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            errors.append({"field": item.get("key") or item.get("source") or "body", "rule": item.get("message", "")})
    first = errors[0] if errors else {"field": "body", "rule": exc.detail}
    return problem(
        400,
        "invalid_input",
        f"输入无效：字段 {first['field']} 不符合规则（{first['rule']}）",
        f"invalid input: {first['field']}: {first['rule']}",
        errors=errors or [first],
    )


def on_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException) or status == 401:
        response = problem(
            401, "unauthenticated", "缺少或无效的访问令牌", exc.detail or "a valid bearer token is required"
        )
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    if isinstance(exc, PermissionDeniedException) or status == 403:
        return problem(403, "forbidden", "该角色无权访问此资源", exc.detail or "this role may not use this resource")
    if isinstance(exc, NotFoundException) or status == 404:
        return problem(404, "not_found", "资源不存在", exc.detail or "not found")
    if status == 405:
        return problem(405, "method_not_allowed", "不支持该请求方法", exc.detail or "method not allowed")
    return problem(status, "http_error", "请求错误", exc.detail or "request error")


class Refused(HTTPException):
    """Documented as: the command is refused in this state (409): four eyes, unmet conditions,
    wrong state, a concurrent change."""

    status_code = 409


class Unprocessable(HTTPException):
    """Documented as: the command names something that does not exist or breaks a field rule (422)."""

    status_code = 422


class VersionMismatch(HTTPException):
    """Documented as: ``If-Match`` names an old version (412)."""

    status_code = 412


class Unavailable(HTTPException):
    """Documented as: the database cannot write now (full, read-only or busy); nothing was written (503)."""

    status_code = 503


#: What each kind of route may answer besides success, for the OpenAPI document.
READ_ERRORS: list[type[HTTPException]] = [NotAuthorizedException, PermissionDeniedException]
COMMAND_ERRORS: list[type[HTTPException]] = [
    ValidationException,
    NotAuthorizedException,
    PermissionDeniedException,
    NotFoundException,
    Refused,
    Unprocessable,
    VersionMismatch,
    Unavailable,
]

HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: on_domain,
    PreconditionFailed: on_precondition,
    StoreError: on_store,
    ValidationException: on_validation,
    HTTPException: on_http,
}
