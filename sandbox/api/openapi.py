"""The OpenAPI document, made to tell the truth where litestar alone would not.

litestar writes the document from the handlers' signatures, but loses what msgspec enforces on
the wire: patterns and lengths inside lists and dict keys, ``additionalProperties: false`` of
commands that refuse unknown fields, ``tz``-aware timestamps. And it documents an optional
header or query parameter as "string or null", although on the wire a parameter is absent or a
string. So before the document is served (``/schema/openapi.json`` and the page at ``/schema``)
it is refined once: every msgspec type gets msgspec's own JSON Schema, which is exactly what
decoding accepts and encoding produces, and optional parameters lose their ``null``.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterable
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag

from projections.public import RegisterEntry
from projections.views import Explanation, ProjectView
from sandbox.api import models
from sandbox.api.problems import EVERY_OPERATION, WITH_BODY, Problem, problem_response
from schemas import commands as c

REF = "#/components/schemas/{name}"

#: Every msgspec type a request or a response of the API carries.
DOCUMENTED: tuple[type[msgspec.Struct], ...] = (
    *c.PROJECT_COMMANDS,
    c.PublishProgramVersion,
    Problem,
    ProjectView,
    Explanation,
    RegisterEntry,
    *(
        t
        for t in vars(models).values()
        if isinstance(t, type) and issubclass(t, msgspec.Struct) and t.__module__ == models.__name__
    ),
)

#: What every ``GET`` operation's description says of ``HEAD`` (:class:`sandbox.api.edge.Edge`
#: answers it on every ``GET`` route; the document lists no separate ``head`` operations, which
#: would repeat every ``GET``'s parameters and statuses).
HEAD_NOTE = "`HEAD` is answered on this path too: the status and headers of this `GET`, without the body."

_lock = threading.Lock()
_refined: dict[int, dict[str, Any]] = {}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``{"oneOf": [X, {"type": "null"}], ...constraints}`` -> X with the constraints."""
    variants = schema.get("oneOf")
    if not isinstance(variants, list):
        return schema
    rest = [v for v in variants if v != {"type": "null"}]
    if len(rest) != 1 or len(rest) == len(variants):
        return schema
    merged = {k: v for k, v in schema.items() if k != "oneOf"}
    merged.update(rest[0])
    return merged


def _parameters(document: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for operation in _operations(document):
        yield from operation.get("parameters", [])


def _operations(document: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options") and isinstance(operation, dict):
                yield operation


def refine(document: dict[str, Any]) -> dict[str, Any]:
    """Refine the document litestar built (in place, once; later calls return it as it is)."""
    with _lock:
        if id(document) in _refined:
            return document
        _, components = msgspec.json.schema_components(DOCUMENTED, ref_template=REF)
        components["EditDraft"]["properties"]["fields"]["additionalProperties"] = c.DECLARED_VALUE_SCHEMA
        document.setdefault("components", {}).setdefault("schemas", {}).update(components)
        for parameter in _parameters(document):
            if not parameter.get("required") and "schema" in parameter:
                parameter["schema"] = _without_null(parameter["schema"])
        for operation in _operations(document):
            answers = operation.setdefault("responses", {})
            for status in (*EVERY_OPERATION, *(WITH_BODY if "requestBody" in operation else ())):
                answers.setdefault(str(status), problem_response(status, REF.format(name="Problem")))
        for item in document.get("paths", {}).values():
            if isinstance(item.get("get"), dict):
                get = item["get"]
                get["description"] = (get.get("description", "").rstrip() + "\n\n" + HEAD_NOTE).lstrip()
        _refined[id(document)] = document
        return document


class RefinedJsonRenderPlugin(JsonRenderPlugin):
    """``/schema/openapi.json``: the refined document."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, refine(openapi_schema))


class RefinedSwaggerRenderPlugin(SwaggerRenderPlugin):
    """``/schema``: Swagger UI over the refined document, its assets served locally.

    litestar's own page starts Swagger UI with an inline script and styles its body inline, which
    the pages' Content-Security-Policy (scripts and styles only from the registry's own files)
    forbids; this page loads both from files (``sandbox/api/static``), and the script reads the
    document from ``/schema/openapi.json``."""

    def __init__(self, *, own_static: str, **options: Any) -> None:
        super().__init__(**options)
        self.own_static = own_static

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(refine(openapi_schema)["info"]["title"]))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{self.favicon}
<link href="{self.css_url}" rel="stylesheet">
<link href="{self.own_static}/swagger-page.css" rel="stylesheet">
<script src="{self.js_url}"></script>
<script src="{self.own_static}/swagger-init.js"></script>
</head>
<body><div id="swagger-container"></div></body>
</html>
""".encode()


def openapi_config(static: str, own_static: str) -> OpenAPIConfig:
    """The document at ``/schema/openapi.json`` and its page at ``/schema``, whose scripts and
    styles are served from ``static`` (Swagger UI's, vendored: the page works with no internet
    access) and ``own_static`` (the page's own)."""
    return OpenAPIConfig(
        title="Sandbox Registry API",
        version="1.0.0",
        description=(
            "Event-sourced registry for regulatory sandboxes (监管沙盒) and digital-finance pilots. "
            "Authenticate with `Authorization: Bearer <token>` (create tokens with `sandbox-registry token create`). "
            "Every error is an RFC 9457 problem (`application/problem+json`) with a stable `code`, `message_zh` and "
            "`message_en`. A project's `ETag` is its version: send it back as `If-Match`; a retried command with the "
            "same `Idempotency-Key` returns the first answer and appends nothing."
        ),
        path="/schema",
        render_plugins=[
            RefinedSwaggerRenderPlugin(
                js_url=f"{static}/swagger-ui-bundle.js",
                css_url=f"{static}/swagger-ui.css",
                standalone_preset_js_url=f"{static}/swagger-ui-standalone-preset.js",
                own_static=own_static,
                path="/",
                favicon="<link rel='icon' href='data:,'>",
            ),
            RefinedJsonRenderPlugin(),
        ],
        components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
        tags=[
            Tag(name="projects", description="applications and their state"),
            Tag(name="commands", description="one route per action of the lifecycle"),
            Tag(name="register", description="the public register and public comments"),
            Tag(name="queue", description="the regulators' work queue"),
            Tag(name="audit", description="verification, export, decisions and the event feed"),
            Tag(name="programs", description="program definitions: rules as versioned data"),
            Tag(name="system", description="health"),
        ],
    )
