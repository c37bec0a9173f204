"""An OPTIONS request (a browser's CORS preflight, without credentials) to a guarded route is
answered with the methods it allows, never a 500; the guards still refuse every other method."""

from __future__ import annotations

import pytest

from tests.fixtures.api import Api

GUARDED = ["/api/v1/queue", "/api/v1/events", "/api/v1/audit/verify", "/queue", "/my", "/dashboard", "/audit"]


@pytest.mark.parametrize("path", GUARDED)
def test_a_preflight_to_a_guarded_route_is_answered_with_its_methods(web: Api, path: str) -> None:
    r = web.client.request("OPTIONS", path)
    assert r.status_code == 204, r.text
    assert "GET" in r.headers["allow"]
    refused = web.client.get(path, follow_redirects=False)
    assert refused.status_code == (401 if path.startswith("/api/") else 303)
