"""The statuses the test suite sees, route by route, compared with the OpenAPI document.

Every exchange with an app in this process passes through :class:`sandbox.api.edge.Edge`; while
the suite runs, :func:`watching` notes there the method, the route's path template and the status
of each. At the end, every status seen on a route of the document must be declared by the
document for that route and method (a ``HEAD`` answers as its ``GET`` does, and is compared with
it): a status the server answers but the document omits is a client's surprise.
"""

from __future__ import annotations

import re
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from sandbox.api import create_app
from sandbox.api.edge import Edge

#: (method, path template as the document writes it, status) of every exchange seen.
Seen = set[tuple[str, str, int]]


def document_path(template: str) -> str:
    """litestar's ``/api/v1/projects/{project_id:str}`` as the document writes it."""
    return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", template).rstrip("/") or "/"


@contextmanager
def watching() -> Iterator[Seen]:
    """Note every exchange of every app of this process until the block ends."""
    seen: Seen = set()
    original = Edge.__call__

    async def noted(self: Edge, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await original(self, scope, receive, send)
            return
        method, status = scope["method"], 0

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await original(self, scope, receive, sending)
        finally:
            template = scope.get("path_template")
            if template and status:
                seen.add((method, document_path(template), status))

    Edge.__call__ = noted  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Edge.__call__ = original  # type: ignore[method-assign]


def served_document() -> dict[str, Any]:
    """The OpenAPI document as an app serves it."""
    with tempfile.TemporaryDirectory() as directory, TestClient(create_app(Path(directory) / "r.db")) as client:
        document: dict[str, Any] = client.get("/schema/openapi.json").json()
    return document


def undocumented(seen: Seen, document: dict[str, Any]) -> dict[str, list[int]]:
    """``METHOD /path`` -> the statuses seen there that the document does not declare (routes
    outside the document, such as the web pages, are not compared)."""
    found: dict[str, set[int]] = defaultdict(set)
    paths = document["paths"]
    for method, path, status in seen:
        operation = paths.get(path, {}).get("get" if method == "HEAD" else method.lower())
        if operation is not None and str(status) not in operation["responses"]:
            found[f"{method} {path}"].add(status)
    return {route: sorted(statuses) for route, statuses in sorted(found.items())}
