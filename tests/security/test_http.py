"""The HTTP edge as an attacker meets it: cross-site writes, headers, HEAD, repeated keys, limits,
the access log, and command ids an applicant cannot link to a person."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from sandbox.api import create_app
from sandbox.api.edge import CSP
from sandbox.api.limits import Limits
from sandbox.api.openapi import HEAD_NOTE
from sandbox.config import HttpSettings
from tests.fixtures.api import PEOPLE, Api
from tests.fixtures.attacks import SAMPLE, noticed

EVIL = "https://evil.example"


def test_a_foreign_page_cannot_file_an_objection_with_a_simple_request(api: Api) -> None:
    """What a browser sends from any site without a preflight: text/plain, the foreign Origin, no token."""
    pid = noticed(api)
    head = api.head()
    body = json.dumps({"grounds": "我反对", "name": "林先生", "contact": "lin@example.cn"}).encode()
    for content_type in ("text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data"):
        r = api.client.post(
            f"/api/v1/projects/{pid}/object", content=body, headers={"Content-Type": content_type, "Origin": EVIL}
        )
        assert r.status_code in (403, 415), (content_type, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    # the same body as JSON, from the foreign page (a browser would have to ask first; it is refused anyway)
    r = api.client.post(f"/api/v1/projects/{pid}/object", content=body,
                        headers={"Content-Type": "application/json", "Origin": EVIL})
    assert r.status_code == 403 and r.json()["code"] == "cross_origin"
    assert api.head() == head  # nothing was filed
    # without an Origin (not a browser), or from the registry's own pages, it is filed
    own = api.client.post(f"/api/v1/projects/{pid}/object", content=body,
                          headers={"Content-Type": "application/json", "Origin": str(api.client.base_url)})
    assert own.status_code == 200, own.text
    assert api.head() > head


def test_only_json_bodies_are_taken(api: Api) -> None:
    body = json.dumps({"program_key": "fintech-sandbox"}).encode()
    for content_type in ("text/plain", "application/json; charset=gbk", "", "application/jsonx"):
        headers = {**api.auth("alice"), **({"Content-Type": content_type} if content_type else {})}
        r = api.client.post("/api/v1/projects", content=body, headers=headers)
        assert r.status_code == 415, (content_type, r.text)
        assert r.json()["code"] == "unsupported_media_type" and "application/json" in r.json()["message_en"]
    ok = api.client.post("/api/v1/projects", content=body,
                         headers={**api.auth("alice"), "Content-Type": "application/json; charset=UTF-8"})
    assert ok.status_code == 400  # past the media type (the draft itself is incomplete)


def test_an_allowed_origin_is_a_setting(tmp_path: Path) -> None:
    settings = HttpSettings(allowed_origins=frozenset({"https://registry.example"}))
    app = create_app(tmp_path / "r.db", settings=settings)
    secret, _ = app.state.tokens.create(name="alice", role="applicant", organisation="fzbank")
    with TestClient(app) as client:
        for origin, allowed in (("https://registry.example", True), ("https://registry.example.evil", False)):
            headers = {"Authorization": f"Bearer {secret}", "Origin": origin}
            r = client.post("/api/v1/projects", json={}, headers=headers)
            assert (r.status_code != 403) is allowed, r.text


def test_a_repeated_key_is_refused_naming_it(api: Api) -> None:
    pid = noticed(api)
    head = api.head()
    body = b'{"text": "first", "reason": null, "text": "second"}'
    r = api.client.post(f"/api/v1/projects/{pid}/comment", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == "text" and "twice" in r.json()["errors"][0]["rule"]
    nested = b'{"section": "statement", "fields": {"a": 1, "a": 2}}'
    r = api.client.post(f"/api/v1/projects/{pid}/edit_draft", content=nested,
                        headers={**api.auth("alice"), "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "a"
    assert api.head() == head


# -- headers and HEAD on every route of the document ---------------------------------------------

def _routes(api: Api) -> list[tuple[str, str]]:
    document = api.get("/schema/openapi.json").json()
    routes = []
    for path, item in document["paths"].items():
        for method in item:
            if method in ("get", "post"):
                routes.append((method.upper(), path.format(**SAMPLE) if "{" in path else path))
    return routes


def test_every_route_of_the_document_sends_the_security_headers(api: Api) -> None:
    routes = _routes(api)
    assert len(routes) > 20
    others = [("GET", "/schema"), ("GET", "/no/such/page"), ("GET", "/static/registry/swagger-init.js")]
    for method, path in [*routes, *others]:
        for who in (None, "carol"):
            if path.endswith("/stream"):
                path += "?max_events=1&after=0"
            r = api.client.request(method, path, headers=api.auth(who), json={} if method == "POST" else None)
            assert r.headers["x-content-type-options"] == "nosniff", (method, path)
            assert r.headers["referrer-policy"] == "no-referrer", (method, path)
            if path.startswith("/api/") or who is not None:
                assert r.headers["cache-control"] == "no-store", (method, path, who)
            if r.headers.get("content-type", "").startswith("text/html"):
                assert r.headers["content-security-policy"] == CSP, path
    page = api.get("/schema")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"] and "<script>" not in page.text


def test_head_works_on_every_get_route(api: Api) -> None:
    for method, path in _routes(api):
        if method != "GET":
            continue
        if path.endswith("/stream"):
            path += "?after=0"
        else:
            full = api.get(path, "audrey")
        head = api.client.head(path, headers=api.auth("audrey"))
        assert head.status_code != 405, path
        assert head.content == b"", path
        if not path.endswith("?after=0"):
            assert head.status_code == full.status_code, path
            assert head.headers.get("content-type") == full.headers.get("content-type"), path
    assert api.client.head("/health").status_code == 200


def test_the_document_says_head_is_answered_on_every_get_route(api: Api) -> None:
    document = api.get("/schema/openapi.json").json()
    gets = [(path, item["get"]) for path, item in document["paths"].items() if "get" in item]
    assert len(gets) > 15 and "/.well-known/security.txt" in dict(gets)
    for path, operation in gets:
        assert operation["description"].endswith(HEAD_NOTE), path
        assert operation["description"].count(HEAD_NOTE) == 1, path  # (refined once)
    # and what it says holds: HEAD on each is answered as its GET
    for path, _ in gets:
        if "{" in path or path.endswith("/stream"):
            continue
        full, head = api.get(path, "audrey"), api.client.head(path, headers=api.auth("audrey"))
        assert (head.status_code, head.content) == (full.status_code, b""), path


# -- limits --------------------------------------------------------------------------------------


class Hand:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limited(api: Api) -> Iterator[tuple[Api, Hand]]:
    hand = Hand()
    settings = HttpSettings(anonymous_writes_per_address=3, anonymous_writes_per_project=5, streams_per_token=1)
    api.app.state.limits = Limits(settings, clock=hand)
    yield api, hand


def test_anonymous_writes_are_limited_per_address_with_retry_after(limited: tuple[Api, Hand]) -> None:
    api, hand = limited
    pid = noticed(api)
    statuses = [api.post(f"/api/v1/projects/{pid}/comment", None, {"text": f"意见 {i}"}).status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.post(f"/api/v1/projects/{pid}/comment", None, {"text": "再一次"})
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # a token is not anonymous; and the next window lets the address write again
    assert api.post(f"/api/v1/projects/{pid}/comment", "pat", {"text": "署名意见"}).status_code == 200
    hand.now += 60
    assert api.post(f"/api/v1/projects/{pid}/comment", None, {"text": "下一分钟"}).status_code == 200


def test_anonymous_writes_are_limited_per_project(api: Api) -> None:
    settings = HttpSettings(anonymous_writes_per_address=0, anonymous_writes_per_project=2)
    api.app.state.limits = Limits(settings, clock=Hand())
    first, second = noticed(api), noticed(api)
    def objection(i: int) -> dict[str, str]:
        return {"grounds": f"理由 {i}", "name": f"异议人 {i}", "contact": f"o{i}@example.cn"}

    objections = [api.post(f"/api/v1/projects/{first}/object", None, objection(i)) for i in range(3)]
    statuses = [r.status_code for r in objections]
    assert statuses == [200, 200, 429]
    assert api.post(f"/api/v1/projects/{second}/object", None, objection(3)).status_code == 200


def test_event_streams_are_limited_per_token(limited: tuple[Api, Hand]) -> None:
    api, _ = limited
    token = next(t.id for t in api.app.state.tokens.list() if t.name == "audrey")
    release = api.app.state.limits.streams.acquire(token)  # one stream of audrey's is open
    assert release is not None
    r = api.get("/api/v1/events/stream?after=0&max_events=1", "audrey")
    assert r.status_code == 429 and r.json()["code"] == "too_many_streams" and "retry-after" in r.headers
    assert api.get("/api/v1/events/stream?after=0&max_events=1", "carol").status_code == 200  # another token
    release()
    assert api.get("/api/v1/events/stream?after=0&max_events=1", "audrey").status_code == 200
    assert api.app.state.limits.streams.open(token) == 0  # the finished stream gave its slot back


# -- the access log ------------------------------------------------------------------------------


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_the_access_log_has_one_line_per_request_and_nothing_secret(tmp_path: Path) -> None:
    app = create_app(tmp_path / "r.db", settings=HttpSettings(access_log=True))
    secret, _ = app.state.tokens.create(name="alice", role="applicant", organisation="fzbank")
    log, handler = logging.getLogger("sandbox.access"), Lines()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    with TestClient(app) as client:
        body = {"program_key": "fintech-sandbox", "title": "秘密标题", "app_type": "金融服务",
                "lead_name": "福州示范银行", "lead_kind": "licensed_institution", "region": "福州"}
        made = client.post("/api/v1/projects?x=secret-query", json=body, headers={"Authorization": f"Bearer {secret}"})
        client.get("/api/v1/register")
        client.get("/nowhere/at/all")
        client.head("/health")
    log.removeHandler(handler)
    lines = [json.loads(line) for line in handler.lines]
    assert [(x["method"], x["path"], x["status"], x["actor"]) for x in lines] == [
        ("POST", "/api/v1/projects", made.status_code, "alice"),
        ("GET", "/api/v1/register", 200, "anonymous"),
        ("GET", "(no route)", 404, "anonymous"),
        ("HEAD", "/health", 200, "anonymous"),
    ]
    assert all(set(x) == {"time", "method", "path", "status", "duration_ms", "actor"} for x in lines)
    text = "\n".join(handler.lines)
    assert secret not in text and "秘密标题" not in text and "secret-query" not in text and "fzbank" not in text


# -- command ids -----------------------------------------------------------------------------------


def command_event_id(command_id: str) -> str:
    """The README's recipe for the id of a command's first event."""
    h = hashlib.sha256(b"sandbox-registry:command:" + command_id.encode()).hexdigest()[:32]
    h = h[:12] + "8" + h[13:16] + "89ab"[int(h[16], 16) % 4] + h[17:]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def test_an_applicant_cannot_link_a_redacted_comment_to_a_person(api: Api) -> None:
    pid = noticed(api)
    api.post(f"/api/v1/projects/{pid}/comment", "pat", {"text": "赞成"}, headers={"Idempotency-Key": "pat-1"})
    seen = next(e for e in api.events(pid, "alice") if e["type"] == "CommentReceived")
    assert seen["redacted"] and seen["metadata"]["actor"] == "anonymous"
    # what the applicant could guess: any person's name with any likely key, in any form it was ever written
    names = [*PEOPLE, "anonymous"]
    keys = ["pat-1", "1", "key", hashlib.sha256(b"pat-1").hexdigest()[:16]]
    guesses = {command_event_id(f"http:{n}:{k}") for n in names for k in keys}
    assert seen["event_id"] not in guesses
    everything_seen = json.dumps(api.events(pid, "alice")) + api.get(f"/api/v1/projects/{pid}", "alice").text
    assert "pat" not in everything_seen.replace("patch", "")
    # the auditor still derives the event's id from the command id it sees (the README's recipe)
    audited = next(e for e in api.events(pid, "audrey") if e["type"] == "CommentReceived")
    assert audited["event_id"] == command_event_id(audited["metadata"]["command_id"]) == seen["event_id"]
