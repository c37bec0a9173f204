"""schemathesis over the whole OpenAPI document, in process, against the prepared world.

Every operation is called with generated (valid and invalid) requests and a valid token of a role
drawn for each example, so every role meets every operation. All of schemathesis' checks run: no
5xx, statuses, content types, headers and bodies conform to the document, invalid input is
refused, valid input accepted, authentication never ignored; and after every request the read
models have kept up with the log (nothing accepted leaves a project that can no longer be
folded). A domain refusal of schema-valid input (409 wrong state, 412 stale If-Match, 422 unknown
id) is acceptance in this API's terms: the document declares those statuses for exactly that.
``API_FUZZ_EXAMPLES`` (default 12) sets the examples per operation; 100 and 150 passed too.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.core.parameters import ParameterLocation

from sandbox.api import create_app
from tests.fixtures.api import PEOPLE, Clock, assert_chinese_problem, copy_db, make_api
from tests.fixtures.api_world import World
from tests.fixtures.templates import Template

WHO = ["alice", "olga", "carol", "sam", "ada", "audrey", "pat"]
#: On a path naming a project, the world's projects are drawn as often as generated ids.
PROJECT_KEYS = ["draft", "submitted", "review", "notice", "closed", "admitted", "testing", "final"]


@pytest.fixture(scope="module")
def fuzzed(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str], World]]:
    """An app of its own over a copy of the world: schemathesis runs its lifespan."""
    db = copy_db(template.path, tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    app, secrets = make_api(Path(db), Clock(template.world.now), template.secrets)
    yield app, secrets, template.world


def _load_schema() -> Any:
    """The document as an app serves it (a fresh, empty registry: the document does not depend on
    the data). Requests go to the world's app instead (``app=`` below)."""
    app = create_app(Path(tempfile.mkdtemp(prefix="openapi-")) / "schema.db")
    loaded = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    loaded.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=["2xx", "401", "403", "404", "409", "412", "422"]
    )
    return loaded


schema = _load_schema()


def _bounded_stream(case: Any) -> None:
    """The SSE stream ends after ``max_events``: always ask for one event, from the start."""
    if case.meta is None or not case.meta.is_negative_at(ParameterLocation.QUERY):
        case.query = {"after": 0, "max_events": 1}
    else:
        case.query.setdefault("max_events", 1)
        if isinstance(case.query.get("after"), int):
            case.query["after"] = 0
    for name in list(case.headers or {}):
        if name.lower() == "last-event-id":
            del case.headers[name]


@schema.parametrize()  # type: ignore[untyped-decorator]
@schema.given(  # type: ignore[untyped-decorator]
    who=st.sampled_from(WHO), target=st.sampled_from([None, *PROJECT_KEYS]))
@settings(
    max_examples=int(os.environ.get("API_FUZZ_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_api_keeps_every_promise_of_its_document(
    case: Any, who: str, target: str | None, fuzzed: tuple[Any, dict[str, str], World]
) -> None:
    app, secrets, world = fuzzed
    assert PEOPLE[who]
    if target is not None and "project_id" in (case.path_parameters or {}):
        case.path_parameters["project_id"] = world[target]
    if case.path == "/api/v1/events/stream":
        _bounded_stream(case)
    headers = {"Authorization": f"Bearer {secrets[who]}"}
    negative_header = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    if negative_header and not any(name.lower() == "authorization" for name in case.headers or {}):
        headers = {}  # the negation is a missing Authorization header: keep it missing
    response = case.call_and_validate(headers=headers, app=app, timeout=30)
    if response.headers.get("content-type", [""])[0] == "application/problem+json":
        assert_chinese_problem(response.json())  # every refusal has its Chinese, whatever the input
    # whatever was accepted, the registry can still fold it: the read models keep up with the log
    assert app.state.read_models.position == app.state.store.head().position, "the read models are stuck"
