"""Reference data over HTTP: anyone reads it, an approver replaces a set, bad records change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from sandbox.api import create_app
from sandbox.api.common import command_id
from schemas.commands import Actor
from tests.fixtures.api import assert_chinese_problem

YEAR_2027 = {
    "year": 2027,
    "holidays": ["2027-01-01", "2027-10-01", "2027-10-04"],
    "adjusted_working_days": ["2027-10-09"],
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient[Any], dict[str, dict[str, str]]]]:
    app = create_app(tmp_path / "r.db")
    headers = {}
    for name, role, org in (("ap", "approver", None), ("alice", "applicant", "fzbank")):
        secret, _ = app.state.tokens.create(name=name, role=role, organisation=org)
        headers[role] = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as client:
        yield client, headers


def test_an_approver_publishes_next_years_calendar(api: tuple[TestClient[Any], dict[str, dict[str, str]]]) -> None:
    client, headers = api
    before = client.get("/api/v1/reference/holidays").json()
    assert [r["year"] for r in before["records"]] == [2025, 2026]
    answer = client.post(
        "/api/v1/reference/holidays",
        json={"records": [*before["records"], YEAR_2027], "changes": ["2027 schedule published"]},
        headers={**headers["approver"], "Idempotency-Key": "cal-2027"},
    )
    assert answer.status_code == 201, answer.text
    after = client.get("/api/v1/reference/holidays").json()
    assert [r["year"] for r in after["records"]] == [2025, 2026, 2027]
    assert after["position"] == answer.json()["position"] > before["position"]
    events = client.get("/api/v1/events", params={"after": before["position"]}, headers=headers["approver"]).json()
    [event] = [e for e in events["items"] if e["type"] == "ReferenceDataUpdated"]
    assert event["data"]["changes"] == ["2027 schedule published"]


@pytest.mark.parametrize(
    ("role", "body", "status", "code"),
    [
        ("applicant", {"records": [YEAR_2027]}, 403, "forbidden"),
        ("approver", {"records": [{"year": 2027}]}, 422, "invalid_value"),
        ("approver", {"records": [YEAR_2027, YEAR_2027]}, 422, "invalid_value"),
        # dropping 2025 and 2026 would recount the working days of every notice held in them
        ("approver", {"records": [YEAR_2027]}, 422, "invalid_value"),
        ("approver", {"records": "all of them"}, 400, "invalid_input"),
    ],
)
def test_refused_updates_append_nothing(
    api: tuple[TestClient[Any], dict[str, dict[str, str]]], role: str, body: object, status: int, code: str
) -> None:
    client, headers = api
    head = client.get("/health").json()
    answer = client.post("/api/v1/reference/holidays", json=body, headers=headers[role])
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code
    assert_chinese_problem(answer.json())
    assert client.get("/health").json() == head


def test_an_unknown_dataset_is_bad_input(api: tuple[TestClient[Any], dict[str, dict[str, str]]]) -> None:
    client, _ = api
    answer = client.get("/api/v1/reference/exchange_rates")
    assert answer.status_code == 400 and "dataset" in answer.json()["message_en"]


def test_a_replacement_names_the_version_it_read(api: tuple[TestClient[Any], dict[str, dict[str, str]]]) -> None:
    """Two approvers read the pilot areas and each adds one: the records replace the whole set,
    so the second, sent with the ETag it read, is refused (412 with the current version) instead
    of silently dropping the first one's area."""
    client, headers = api
    read = client.get("/api/v1/reference/pilot_areas")
    etag, records = read.headers["etag"], read.json()["records"]
    assert etag == f'"{read.json()["version"]}"'
    area = {**records[0], "code": "ningde", "name_zh": "宁德", "name_en": "Ningde", "level": "city"}
    first = client.post(
        "/api/v1/reference/pilot_areas",
        json={"records": [*records, area]},
        headers={**headers["approver"], "If-Match": etag},
    )
    assert first.status_code == 201, first.text
    assert first.headers["etag"] == f'"{first.json()["version"]}"' != etag
    head = client.get("/health").json()
    second = client.post(
        "/api/v1/reference/pilot_areas",
        json={"records": [*records, {**area, "code": "putian", "name_zh": "莆田", "name_en": "Putian"}]},
        headers={**headers["approver"], "If-Match": etag},
    )
    assert second.status_code == 412 and second.json()["code"] == "version_mismatch", second.text
    assert second.json()["current_version"] == first.json()["version"]
    assert client.get("/health").json() == head
    assert "ningde" in {r["code"] for r in client.get("/api/v1/reference/pilot_areas").json()["records"]}
    # a retry of the first (the same Idempotency-Key, its answer lost) is answered, not refused
    keyed = {**headers["approver"], "If-Match": first.headers["etag"], "Idempotency-Key": "areas-1"}
    third = client.post("/api/v1/reference/pilot_areas", json={"records": [*records]}, headers=keyed)
    assert third.status_code == 201, third.text
    again = client.post("/api/v1/reference/pilot_areas", json={"records": [*records]}, headers=keyed)
    assert again.status_code == 201 and again.json()["version"] == third.json()["version"]


def test_a_key_used_again_for_another_publication_is_refused(
    api: tuple[TestClient[Any], dict[str, dict[str, str]]],
) -> None:
    """The program and reference routes hold an Idempotency-Key to one request as the project
    commands do: another body under the same key is refused (422), the same body is a retry."""
    client, headers = api
    read = client.get("/api/v1/reference/holidays").json()
    keyed = {**headers["approver"], "Idempotency-Key": "cal"}
    body = {"records": [*read["records"], YEAR_2027], "changes": ["2027"]}
    first = client.post("/api/v1/reference/holidays", json=body, headers=keyed)
    assert first.status_code == 201, first.text
    head = client.get("/health").json()
    again = client.post("/api/v1/reference/holidays", json=body, headers=keyed)
    assert again.status_code == 201 and again.json()["version"] == first.json()["version"]
    other = client.post("/api/v1/reference/holidays", json={**body, "changes": ["又一次"]}, headers=keyed)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused", other.text
    program = client.get("/api/v1/programs/fintech-sandbox").json()
    definition = program["versions"][-1] | {"version": program["latest_version"] + 1}
    published = client.post("/api/v1/programs/fintech-sandbox/versions", headers=keyed,
                            json={"definition": definition, "changes": ["投诉阈值调整"]})
    assert published.status_code == 422 and published.json()["code"] == "idempotency_key_reused"
    # nor is a project command answered with the dataset's update
    command = client.post("/api/v1/projects/nope/waive_condition", headers=keyed,
                          json={"condition_id": "x", "reason": "豁免"})
    assert command.status_code == 422 and command.json()["code"] == "idempotency_key_reused", command.text
    assert client.get("/health").json() == head


def test_a_key_whose_first_use_recorded_no_request_is_still_held_to_its_stream(
    api: tuple[TestClient[Any], dict[str, dict[str, str]]],
) -> None:
    """A command recorded without a request digest (by the CLI, or before digests were kept) is
    taken for the same request only on the stream it went to: the key of a dataset's update is
    not the answer to a project command."""
    client, headers = api
    registry = client.app.state.registry
    records = client.get("/api/v1/reference/holidays").json()["records"]
    approver = Actor(id="ap", role="approver")
    token = next(t.id for t in client.app.state.tokens.list() if t.name == "ap")
    registry.update_reference("holidays", [*records, YEAR_2027], approver, command_id=command_id(token, "legacy"))
    head = client.get("/health").json()
    command = client.post("/api/v1/projects/nope/waive_condition", json={"condition_id": "x", "reason": "豁免"},
                          headers={**headers["approver"], "Idempotency-Key": "legacy"})
    assert command.status_code == 422 and command.json()["code"] == "idempotency_key_reused", command.text
    assert client.get("/health").json() == head


def test_a_refused_update_names_every_bad_record(api: tuple[TestClient[Any], dict[str, dict[str, str]]]) -> None:
    client, headers = api
    body = {"records": [{**YEAR_2027, "year": 1999}, {"year": 2028, "holidays": ["2028-13-01"]}]}
    answer = client.post("/api/v1/reference/holidays", json=body, headers=headers["approver"])
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["records[0].year", "records[1].holidays[0]"]
    got = answer.json()
    assert got["message_en"].endswith("(and 1 more)") and got["message_zh"].endswith("（另有 1 处）")
    assert_chinese_problem(answer.json())


def test_a_record_dated_out_of_range_is_refused(api: tuple[TestClient[Any], dict[str, dict[str, str]]]) -> None:
    """A pilot area that joined in year 1 (a typo) was accepted, and was then a pilot area on
    every day the rules could ask about."""
    client, headers = api
    areas = client.get("/api/v1/reference/pilot_areas").json()
    typo = {**areas["records"][0], "code": "typo-area", "joined": "0001-01-01"}
    head = client.get("/health").json()
    answer = client.post("/api/v1/reference/pilot_areas", json={"records": [*areas["records"], typo]},
                         headers=headers["approver"])
    assert answer.status_code == 422 and answer.json()["code"] == "out_of_range", answer.text
    assert answer.json()["errors"][0]["field"] == f"records[{len(areas['records'])}].joined"
    assert_chinese_problem(answer.json())
    assert client.get("/health").json() == head
    # nor a cap no client could read exactly
    tiers = client.get("/api/v1/reference/wallet_tiers").json()
    huge = [{**tiers["records"][0], "balance_cap_yuan": 10**30}, *tiers["records"][1:]]
    answer = client.post("/api/v1/reference/wallet_tiers", json={"records": huge}, headers=headers["approver"])
    assert answer.status_code == 422 and answer.json()["code"] == "out_of_range", answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["records[0].balance_cap_yuan"]
    assert_chinese_problem(answer.json())
    assert client.get("/health").json() == head
    # a note may begin with a date of any year: only the records' dates are dates
    noted = {**areas["records"][0], "note": "1949-10-01 以来的行政区划；joined 为加入试点之日"}
    answer = client.post("/api/v1/reference/pilot_areas", json={"records": [noted, *areas["records"][1:]]},
                         headers={**headers["approver"], "If-Match": f'"{areas["version"]}"'})
    assert answer.status_code == 201, answer.text
