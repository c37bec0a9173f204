"""What the browser journeys share: signing in through the form and the axe-core check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_URL = "/__tests__/axe.min.js"
CHROMIUM = "/usr/bin/chromium"
#: The flags Debian's chromium needs in a container (see the ecosystem notes).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The impacts that fail a page.
BLOCKING = ("serious", "critical")


def accessible(page: Any) -> None:
    """No serious or critical axe-core violation on the page as it stands. axe-core is loaded as
    a file of the page's own origin (the browser is handed the vendored copy), since the pages'
    Content-Security-Policy runs no inline script."""
    page.route(f"**{AXE_URL}", lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))
    page.add_script_tag(url=AXE_URL)
    result = page.evaluate("axe.run()")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]
    assert not bad, f"{page.url}: {bad}"


def sign_in(page: Any, secret: str) -> None:
    page.goto("/login")
    page.fill("#token", secret)
    page.click("form.card button[type=submit]")
