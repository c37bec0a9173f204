"""The documentation page works offline, and the OpenAPI document says what each route does:
its security, the problems it can answer, and request bodies that refuse unknown fields."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from sandbox.api.controllers.projects import PUBLIC_ACTIONS
from tests.fixtures.api import Api

PROBLEM = "#/components/schemas/Problem"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


def test_the_documentation_page_needs_no_internet(api: Api) -> None:
    r = api.get("/schema")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    links = Links()
    links.feed(r.text)
    assert len(links.urls) >= 3
    for url in links.urls:
        assert (url.startswith("/") and not url.startswith("//")) or url.startswith("data:"), url
        if url.startswith("/"):
            asset = api.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > (1000 if "swagger-ui" in url else 0), url
    assert not re.search(r"https?://", r.text), "a remote asset"
    # the page starts Swagger UI from a file of the registry's own (no inline script), on the document
    starter = api.get("/static/registry/swagger-init.js").text
    assert "<script>" not in r.text and "SwaggerUIBundle(" in starter and "/schema/openapi.json" in starter


@pytest.fixture(scope="module")
def document(shared_world_api: Api) -> dict[str, Any]:
    r = shared_world_api.get("/schema/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    assert doc["openapi"].startswith("3.1")
    return doc


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), path, op) for path, item in document["paths"].items() for m, op in item.items()]


def test_every_route_of_the_app_is_documented(document: dict[str, Any], shared_world_api: Api) -> None:
    documented = {(m, p) for m, p, _ in operations(document)}
    served = {
        (m, re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
        for route in shared_world_api.app.routes
        if route.path.startswith("/api/") or route.path in ("/health", "/.well-known/security.txt")
        for m in getattr(route, "methods", ())
        if m not in ("OPTIONS", "HEAD")
    }
    assert documented == served


def test_security_is_declared_per_route(document: dict[str, Any]) -> None:
    public_reads = {"/health", "/.well-known/security.txt",
                    "/api/v1/programs", "/api/v1/programs/{key}", "/api/v1/register",
                    "/api/v1/reference/{dataset}",
                    "/api/v1/register/{project_id}", "/api/v1/register/{project_id}/proof",
                    "/api/v1/audit/checkpoint", "/api/v1/audit/proof/inclusion",
                    "/api/v1/audit/proof/consistency"}
    for method, path, op in operations(document):
        action = path.rsplit("/", 1)[-1]
        if method == "GET" and path in public_reads:
            assert op["security"] == [{}], path
        elif action in PUBLIC_ACTIONS:
            assert op["security"] == [{}, {"bearer": []}], path  # a token is optional for the public
            assert "401" in op["responses"], path  # ... but a bad one is refused
        else:
            assert op["security"] == [{"bearer": []}], path
            assert {"401", "403"} <= set(op["responses"]), path


def test_every_error_is_a_documented_problem(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (method, path, status)
                assert response["content"]["application/problem+json"]["schema"] == {"$ref": PROBLEM}
        if "{project_id}" in path:
            assert "404" in op["responses"], path
        if method == "POST" and path.startswith("/api/v1/projects/{project_id}/"):
            assert {"400", "404", "409", "412", "422", "503"} <= set(op["responses"]), path
            assert {p["name"] for p in op["parameters"]} >= {"If-Match", "Idempotency-Key"}
    problem = document["components"]["schemas"]["Problem"]
    assert {"code", "message_zh", "message_en", "status"} <= set(problem["required"])


def test_commands_refuse_unknown_fields_in_the_document_too(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for method, path, op in operations(document):
        if method == "POST":
            content = op["requestBody"]["content"]
            if "multipart/form-data" in content:  # an upload: a form of a file and its fields
                ref = content["multipart/form-data"]["schema"]["$ref"]
                body = schemas[ref.rsplit("/", 1)[-1]]
                assert body["properties"]["file"]["format"] == "binary", path
                assert not {"actor", "metadata", "command_id", "sha256"} & set(body["properties"]), path
                continue
            ref = content["application/json"]["schema"]["$ref"]
            body = schemas[ref.rsplit("/", 1)[-1]]
            assert body["additionalProperties"] is False, path
            assert not {"actor", "metadata", "command_id"} & set(body["properties"]), path  # never from clients
    # constraints inside lists and dict keys are those decoding enforces
    metrics = schemas["ReportMetrics"]["properties"]
    assert metrics["kpis_met"]["items"]["pattern"] and metrics["metrics"]["propertyNames"]["pattern"]


def test_optional_parameters_are_strings_or_numbers_never_null(document: dict[str, Any]) -> None:
    for _, path, op in operations(document):
        for parameter in op.get("parameters", []):
            assert "oneOf" not in parameter["schema"] and parameter["schema"].get("type") != "null", (path, parameter)
