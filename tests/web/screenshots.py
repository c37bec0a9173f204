"""Screenshots of the main pages for the README, with the browser setup of the browser tests.

Run with ``make screenshots`` (or ``.venv/bin/python -m tests.web.screenshots DIR [png]``): builds a
demo registry, serves it on a free port, signs in as each demo user and saves JPEG screenshots of
the pages in Chinese and English, at desktop and phone width, into DIR (``docs/screenshots``).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from sandbox.api import create_app
from sandbox.demo import build_demo, demo_tokens
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, sign_in
from tests.fixtures.servers import free_port

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def main(out: Path, kind: str = "jpeg") -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        db = Path(tmp) / "registry.db"
        build_demo(db, projects=40)
        app = create_app(db, create=False)
        secrets = {name: secret for name, _, _, secret in demo_tokens(app.state.tokens)}
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            officer = {"Authorization": f"Bearer {secrets['officer-01']}"}
            projects = httpx.get(f"{base}/api/v1/projects", params={"limit": 500}, headers=officer).json()["items"]
            by_state = {p["state"]: p["id"] for p in projects}
            pilots = [p["id"] for p in projects if p["program_key"] == "ecny-pilot" and p.get("latest_metrics")]
            testing = by_state.get("TESTING") or projects[0]["id"]
            pilot = (pilots or [testing])[0]
            notice = by_state.get("PUBLIC_NOTICE") or by_state.get("TESTING") or projects[0]["id"]
            draft = _draft(base, {"Authorization": f"Bearer {secrets['fz-rcb.staff1']}"})
            shots = [
                # (file, user, path, lang, viewport)
                ("register-zh", None, "/", "zh", DESKTOP),
                ("register-en-phone", None, "/", "en", PHONE),
                ("entry-zh", None, f"/register/{notice}", "zh", DESKTOP),
                ("my-zh", "fz-rcb.staff1", "/my", "zh", DESKTOP),
                ("draft-zh", "fz-rcb.staff1", f"/projects/{draft}/draft/boundaries", "zh", DESKTOP),
                ("case-zh", "officer-01", f"/projects/{testing}", "zh", DESKTOP),
                ("case-en-phone", "officer-01", f"/projects/{testing}", "en", PHONE),
                ("queue-zh", "officer-01", "/queue", "zh", DESKTOP),
                ("dashboard-en", "officer-01", "/dashboard", "en", DESKTOP),
                ("metrics-zh", "officer-01", f"/projects/{pilot}/metrics", "zh", DESKTOP),
                ("timeline-en", "auditor-01", f"/projects/{testing}/timeline", "en", DESKTOP),
                ("audit-zh", "auditor-01", "/audit?verify=true", "zh", DESKTOP),
            ]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for name, user, path, lang, viewport in shots:
                    context = browser.new_context(base_url=base, viewport=viewport)  # type: ignore[arg-type]
                    page = context.new_page()
                    if user:
                        sign_in(page, secrets[user])
                        page.wait_for_load_state()
                    page.goto(path + ("&" if "?" in path else "?") + f"lang={lang}")
                    file = out / f"{name}.{'jpg' if kind == 'jpeg' else 'png'}"
                    if kind == "jpeg":
                        page.screenshot(path=str(file), type="jpeg", quality=72)
                    else:
                        page.screenshot(path=str(file), type="png")
                    context.close()
                    print(file)
                browser.close()
        finally:
            server.should_exit = True
            thread.join()


def _draft(base: str, applicant: dict[str, str]) -> str:
    """A new e-CNY draft of the demo applicant with its statement saved (the step-by-step
    application's page shows the checklist part-way)."""
    body = {
        "program_key": "ecny-pilot",
        "title": "福州数字人民币停车缴费试点",
        "app_type": "数字人民币应用场景",
        "lead_name": "福州农商银行",
        "lead_kind": "licensed_institution",
        "region": "福州",
    }
    pid: str = httpx.post(f"{base}/api/v1/projects", json=body, headers=applicant).json()["project_id"]
    statement = {
        "scenario": "transport_tolls",
        "operator": "cib",
        "kyc_responsible": "fz-rcb",
        "aml_responsible": "fz-rcb",
    }
    httpx.post(
        f"{base}/api/v1/projects/{pid}/edit_draft",
        json={"section": "statement", "fields": statement},
        headers=applicant,
    ).raise_for_status()
    return pid


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"), *sys.argv[2:3])
