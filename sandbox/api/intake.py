"""What a state-changing request to the JSON API must be before any handler reads it.

A browser sends a "simple" request to any site without asking first: a POST whose body is
``text/plain``, a form or multipart, with the user's address and cookies. The API's anonymous
writes (a comment, an objection) would accept such a request from a foreign page. So every
POST, PUT, PATCH or DELETE under ``/api/v1``:

- carries ``Content-Type: application/json`` (``charset``, if given, ``utf-8``); a route that
  takes an upload names the media types it takes in its ``opt["media_types"]``. Anything else is
  415 ``unsupported_media_type``: a browser cannot send ``application/json`` across sites
  without a preflight, which the API does not grant;
- comes from no ``Origin`` (a client that is not a browser), from the server's own origin, or
  from one listed in ``$SANDBOX_REGISTRY_ALLOWED_ORIGINS`` (:func:`origin_allowed`, which the
  web pages use too); otherwise 403 ``cross_origin``;
- has a JSON body in which no object repeats a key (400 naming the key): the decoder would keep
  the last value where another reader might keep the first.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from sandbox.api.problems import ApiProblem, BadInput
from sandbox.config import HttpSettings
from schemas.jsontext import repeated_key

API = "/api/v1/"
#: A handler's ``opt`` key marking a write the public may make without a token (counted against
#: the anonymous limits, ``sandbox.api.limits``).
ANONYMOUS_WRITE = "anonymous_write"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON = "application/json"


def own_origin(request: Request[Any, Any, Any]) -> str:
    """The origin the request was sent to (its scheme and ``Host``)."""
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}".lower()


def origin_allowed(request: Request[Any, Any, Any], settings: HttpSettings) -> bool:
    """Whether a state-changing request may come from where it says it comes from: no ``Origin``
    (not a browser), the server's own, or one of ``settings.allowed_origins``."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    return origin in settings.allowed_origins or origin == own_origin(request)


def _media_type(request: Request[Any, Any, Any]) -> tuple[str, dict[str, str]]:
    raw = request.headers.get("content-type", "")
    kind, *params = raw.split(";")
    found = {}
    for param in params:
        name, _, value = param.partition("=")
        found[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), found


def check_media_type(request: Request[Any, Any, Any]) -> None:
    """415 unless the body's media type is one the route takes (JSON in UTF-8 by default)."""
    kind, params = _media_type(request)
    taken = request.route_handler.opt.get("media_types", (JSON,))
    if kind in taken and (kind != JSON or params.get("charset", "utf-8") == "utf-8"):
        return
    accepted = ", ".join(taken)
    raise ApiProblem(
        415,
        "unsupported_media_type",
        f"不支持的内容类型 {kind or '（无）'}：请求体须为 {accepted}",
        f"unsupported media type {kind or '(none)'}: the body must be {accepted}",
    )


def check_origin(request: Request[Any, Any, Any], settings: HttpSettings) -> None:
    if not origin_allowed(request, settings):
        raise ApiProblem(
            403,
            "cross_origin",
            "不接受来自其他网站的写请求（Origin 不在允许之列）",
            "a state-changing request from another site is refused (its Origin is not allowed)",
        )


async def check_write(request: Request[Any, Any, Any], settings: HttpSettings) -> None:
    """Every check of this module, for a state-changing request to the JSON API."""
    if request.method not in UNSAFE or not request.url.path.startswith(API):
        return
    check_origin(request, settings)
    check_media_type(request)
    if _media_type(request)[0] == JSON:
        key = repeated_key(await request.body())
        if key is not None:
            raise BadInput(key, "is given twice in one object", "在同一对象中出现了两次", "body")
