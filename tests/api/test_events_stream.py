"""The event feed as Server-Sent Events: a subscriber receives what is appended after it connects,
and resumes from ``Last-Event-ID`` without gaps or duplicates.

No sleeps: the test learns that the subscriber is waiting for new events from the app's own
notification (the condition the stream waits on), and ``max_events`` ends each stream.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any, Literal

import httpx

from tests.fixtures.api import Api

EDIT = {"section": "statement", "fields": {"channels": ["手机银行"]}}


def parse(text: str) -> list[dict[str, Any]]:
    """The events of an SSE body: ``id``, ``event`` and the decoded ``data`` of each."""
    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(":")
            if name in ("id", "event", "data"):
                fields[name] = value.removeprefix(" ")
        if "data" in fields:
            out.append({"id": int(fields["id"]), "event": fields["event"], "data": json.loads(fields["data"])})
    return out


class Waiting(asyncio.Condition):
    """The stream's wake-up condition, telling the test when a subscriber waits on it."""

    def __init__(self, waiting: threading.Event) -> None:
        super().__init__()
        self.waiting = waiting

    async def wait(self) -> Literal[True]:
        self.waiting.set()
        return await super().wait()


def subscribe(api: Api, **params: Any) -> tuple[threading.Thread, Callable[[], httpx.Response]]:
    """Open the stream in a thread of its own (the test client returns once the stream ends)."""
    result: list[httpx.Response] = []
    headers = params.pop("headers", {})
    thread = threading.Thread(
        target=lambda: result.append(api.get("/api/v1/events/stream", "audrey", params=params, headers=headers))
    )
    thread.start()

    def response() -> httpx.Response:
        thread.join(timeout=60)
        assert not thread.is_alive(), "the stream did not end"
        return result[0]

    return thread, response


def test_a_subscriber_receives_what_is_appended_after_it_connects_then_resumes(api: Api) -> None:
    pid = api.create("ecny-pilot")
    waiting = threading.Event()
    api.app.state.appended = Waiting(waiting)
    connected_at = api.head()

    # a subscriber from now on, for three events; it waits: nothing is new yet
    _, first = subscribe(api, max_events=3)
    assert waiting.wait(timeout=60), "the subscriber never waited for new events"
    positions = [api.do(pid, "alice", "edit_draft", EDIT)["positions"][0] for _ in range(5)]
    r = first()
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    received = parse(r.text)
    assert [e["id"] for e in received] == positions[:3]
    assert all(e["id"] > connected_at for e in received)
    assert [e["event"] for e in received] == ["DraftEdited"] * 3
    assert received[0]["data"]["position"] == positions[0]
    assert received[0]["data"]["metadata"]["actor"] == "alice"

    # it reconnects with the last id it saw: the rest, nothing twice, nothing missed
    _, second = subscribe(api, max_events=2, headers={"Last-Event-ID": str(received[-1]["id"])})
    resumed = parse(second().text)
    assert [e["id"] for e in resumed] == positions[3:]
    assert [e["id"] for e in received + resumed] == positions

    # and a resumed subscriber that is ahead of the log waits for the next append
    waiting.clear()
    _, third = subscribe(api, max_events=1, headers={"Last-Event-ID": str(positions[-1])})
    assert waiting.wait(timeout=60)
    after = api.do(pid, "alice", "edit_draft", EDIT)["positions"][0]
    assert [e["id"] for e in parse(third().text)] == [after]


def test_after_replays_from_a_position_and_the_whole_log_is_in_order(api: Api) -> None:
    r = api.get("/api/v1/events/stream", "carol", params={"after": 0, "max_events": api.head()})
    events = parse(r.text)
    assert [e["id"] for e in events] == list(range(1, api.head() + 1))
    assert events[0]["event"] == "RegistryCreated"


def test_the_stream_is_for_regulators_and_auditors_and_refuses_a_position_after_the_head(api: Api) -> None:
    assert api.get("/api/v1/events/stream", params={"max_events": 1}).status_code == 401
    for who in ("alice", "pat"):
        assert api.get("/api/v1/events/stream", who, params={"max_events": 1}).status_code == 403
    head = api.head()
    r = api.get("/api/v1/events/stream", "audrey", params={"after": head + 1, "max_events": 1})
    assert (r.status_code, r.json()["code"], r.json()["errors"][0]["field"]) == (422, "out_of_range", "after")
    r = api.get("/api/v1/events/stream", "audrey", params={"max_events": 1},
                headers={"Last-Event-ID": str(head + 5)})
    assert (r.status_code, r.json()["code"], r.json()["errors"][0]["field"]) == (422, "out_of_range", "Last-Event-ID")
    r = api.get("/api/v1/events/stream", "audrey", params={"max_events": 1}, headers={"Last-Event-ID": "abc"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "Last-Event-ID"
