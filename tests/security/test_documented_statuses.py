"""Every status a route answers is in the OpenAPI document for that route: the statuses seen here,
for every operation, from the requests a client gets wrong most often (no token, a bad one, a
repeated query parameter, a body that is not JSON, too large, from a foreign page, a key given
twice), are compared with the document."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tests.fixtures.api import Api
from tests.fixtures.attacks import SAMPLE, noticed

#: Larger than the server takes (litestar's default limit is 10 MB).
HUGE = b'{"text": "' + b"x" * (11 * 1024 * 1024) + b'"}'


def _probes(method: str, path: str, api: Api) -> list[tuple[dict[str, str], bytes | None, str]]:
    """(headers, body, query) of each request a route is probed with."""
    probes: list[tuple[dict[str, str], bytes | None, str]] = []
    body = b"{}" if method == "POST" else None
    json_type = {"Content-Type": "application/json"} if method == "POST" else {}
    for who in (None, "bad", "alice", "carol", "ada", "audrey", "pat"):
        probes.append(({**api.auth(who), **json_type}, body, ""))
    probes.append(({**api.auth("carol"), **json_type}, body, "?limit=1&limit=2"))
    if method == "POST":
        probes.append(({**api.auth("ada"), "Content-Type": "text/plain"}, b"{}", ""))
        probes.append(({**api.auth("ada"), **json_type, "Origin": "https://evil.example"}, b"{}", ""))
        probes.append(({**api.auth("ada"), **json_type}, b'{"reason": "a", "reason": "b"}', ""))
    return probes


def test_every_status_seen_is_documented_for_its_route(api: Api) -> None:
    pid = noticed(api)
    document = api.get("/schema/openapi.json").json()
    seen: dict[tuple[str, str], set[int]] = defaultdict(set)
    values = {**SAMPLE, "project_id": pid}
    for template, item in document["paths"].items():
        for method in item:
            if method not in ("get", "post"):
                continue
            path = template.format(**values)
            if path.endswith("/stream"):
                path += "?after=0&max_events=1"
            for headers, body, query in _probes(method.upper(), path, api):
                url = path + (("&" if "?" in path else "?") + query[1:] if query else "")
                r = api.client.request(method.upper(), url, headers=headers, content=body)
                seen[(method, template)].add(r.status_code)
    for template in ("/api/v1/projects/{project_id}/comment", "/api/v1/projects"):  # (10 MB each)
        r = api.client.post(template.format(project_id=pid), content=HUGE,
                            headers={**api.auth("alice"), "Content-Type": "application/json"})
        seen[("post", template)].add(r.status_code)
    undocumented: dict[str, Any] = {}
    for (method, template), statuses in seen.items():
        documented = {int(s) for s in document["paths"][template][method]["responses"]}
        if statuses - documented:
            undocumented[f"{method.upper()} {template}"] = sorted(statuses - documented)
    assert not undocumented, undocumented
    # (the probes reached the checks they were made for)
    assert {400, 403, 413, 415} <= seen[("post", "/api/v1/projects/{project_id}/comment")]
    assert 413 in seen[("post", "/api/v1/projects")] and 400 in seen[("get", "/health")]
