"""Browser journeys in Debian's chromium: each role's work from page to page, as its user does it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.fixtures.browser import accessible, sign_in
from tests.fixtures.servers import LiveServer


def test_the_public_searches_reads_an_entry_and_objects(page: Any, live: LiveServer) -> None:
    pid = live.world["notice"]
    title = live.app.state.read_models.register_entry(pid)["title"]
    page.goto("/")
    accessible(page)
    page.fill("#q", title)
    page.click("form.search button[type=submit]")
    page.wait_for_url(lambda url: "q=" in url)
    page.click(f"a[href='/register/{pid}']")
    page.wait_for_url(f"**/register/{pid}")
    accessible(page)
    statement = live.app.state.read_models.register_entry(pid)["statements"][-1]
    assert page.locator("code.hash").first.inner_text() == statement["sha256"]
    assert page.locator("dd.declared[data-field=pilot_area]").inner_text() == "福州市"  # the public parts, by name
    assert int(page.locator("dd.left").inner_text()) >= 1  # working days left in the notice
    before = page.locator("dd", has_text="成立").inner_text()
    page.fill("#object-grounds", "受理网点覆盖不足，请补充")
    page.fill("#object-name", "陈女士")  # (an objection names its objector; only regulators read it)
    page.fill("#object-contact", "chen@example.cn")
    page.click("form[action$='/object'] button[type=submit]")
    page.wait_for_url(f"**/register/{pid}?sent=object")
    assert page.locator(".ok").inner_text() == "已提交，谢谢"
    assert page.locator("dd", has_text="成立").inner_text() != before


def test_an_applicant_goes_from_a_new_draft_to_submitted_as_the_checklist_turns_green(
    page: Any, live: LiveServer
) -> None:
    sign_in(page, live.secrets["alice"])
    page.wait_for_url("**/my")
    accessible(page)
    page.select_option("#new-program_key", "ecny-pilot")
    page.fill("#new-title", "福州数字人民币停车缴费试点")
    page.fill("#new-app_type", "数字人民币应用场景")
    page.fill("#new-lead_name", "福州示范银行")
    page.select_option("#new-lead_kind", "licensed_institution")
    page.fill("#new-region", "福州")
    page.click("#new button[type=submit]")
    page.wait_for_url("**/draft/statement")  # the first step with something missing
    accessible(page)
    step_url = page.url

    def status(rule: str) -> str | None:
        found: str | None = page.locator(f"#checklist li[data-rule='{rule}']").get_attribute("data-status")
        return found

    def saved(rule: str) -> None:
        """Save the step (htmx swaps the step; the checklist comes out of band) and wait for
        ``rule`` to turn green."""
        page.click("#draft-step form button[type=submit]")
        page.wait_for_selector(f"#checklist li[data-rule='{rule}'][data-status='met']")

    assert [status(r) for r in ("ec.adm.kyc_aml", "ec.adm.period", "ec.adm.metrics_plan")] == ["unmet"] * 3
    assert page.locator("#draft-step button[type=submit]").count() == 1
    page.select_option("#statement-scenario", "transport_tolls")
    page.fill("#statement-operator", "cib")
    page.fill("#statement-kyc_responsible", "fzbank")
    page.fill("#statement-aml_responsible", "fzbank")
    page.select_option("#statement-uses_smart_contracts", "false")
    saved("ec.adm.kyc_aml")
    assert page.url == step_url  # only the step and the checklist were swapped
    assert page.locator("#draft-step .ok").count() == 1
    assert status("ec.adm.period") == "unmet" and status("ec.adm.metrics_plan") == "unmet"
    assert page.locator("#steps li[data-step='statement']").get_attribute("data-gaps") == "0"
    accessible(page)
    page.click("#draft-step a.next")
    page.wait_for_url("**/draft/boundaries")
    start = live.clock.today + dt.timedelta(days=1)
    for name, value in {
        "pilot_area": "fuzhou",
        "wallet_tier": "4",
        "per_payment_cap_yuan": "2000",
        "daily_cap_yuan": "5000",
        "balance_cap_yuan": "10000",
        "acceptance_points": "12",
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=300)).isoformat(),
    }.items():
        page.fill(f"#boundaries-{name}", value)
    page.select_option("#boundaries-runs_campaign", "false")
    saved("ec.adm.period")
    assert status("ec.adm.metrics_plan") == "unmet"
    assert page.locator("#steps li[data-step='submit'] a").count() == 1
    page.click("#draft-step a.next")
    page.wait_for_url("**/draft/test_plan")
    page.fill("#test_plan-kpis", "transactions\nwallets_opened")
    for name, value in {
        "transactions_target": "100000",
        "wallets_opened_target": "20000",
        "merchants_live_target": "12",
        "reporting_cadence_days": "30",
    }.items():
        page.fill(f"#test_plan-{name}", value)
    saved("ec.adm.metrics_plan")
    page.click("#steps li[data-step='submit'] a")
    page.wait_for_url("**/draft/submit")
    accessible(page)
    page.click("#draft-step form button[type=submit]:not([disabled])")
    page.wait_for_url(lambda url: "done=submit" in url)
    assert page.locator(".state").first.inner_text() == "已提交"


def test_an_officer_recommends_and_an_approver_approves_while_the_recommender_cannot(
    page: Any, live: LiveServer
) -> None:
    pid = live.world["closed2"]
    sign_in(page, live.secrets["carol"])
    page.goto(f"/projects/{pid}")
    accessible(page)
    page.click("#recommend summary")
    page.select_option("#recommend-decision", "admit")
    page.click("form[action$='/act/recommend'] button[type=submit]")
    page.wait_for_url(lambda url: "done=recommend" in url)
    page.click("#approve summary")  # the recommender cannot approve, and is told why
    assert page.locator("form[action$='/act/approve'] button[type=submit]").is_disabled()
    assert page.locator("#approve-blocked").inner_text() == "推荐人不能批准自己的推荐（四眼原则）"
    page.goto(f"/projects/{pid}?lang=en")
    page.click("#approve summary")
    assert page.locator("form[action$='/act/approve'] button[type=submit]").is_disabled()
    assert page.locator("#approve-blocked").inner_text() == (
        "the recommender may not approve their own recommendation (four eyes)"
    )
    page.goto(f"/projects/{pid}?lang=zh")
    page.click("header form[action='/logout'] button")
    sign_in(page, live.secrets["ada"])
    page.goto(f"/projects/{pid}")
    page.click("#approve summary")
    page.select_option("#approve-decision", "admit")
    page.click("form[action$='/act/approve'] button[type=submit]")
    page.wait_for_url(lambda url: "done=approve" in url)
    assert page.locator(".state").first.inner_text() == "准入"


def test_an_auditor_steps_back_in_time_and_sees_the_state_change(page: Any, live: LiveServer) -> None:
    pid = live.world["admitted"]
    sign_in(page, live.secrets["audrey"])
    page.goto(f"/projects/{pid}/timeline")
    accessible(page)
    now = page.locator("#as-of-state").get_attribute("data-state")
    assert now == "ADMITTED"
    page.click("#step-back")
    page.wait_for_url(lambda url: "position=" in url)
    assert page.locator("#as-of-state").get_attribute("data-state") == "NOTICE_CLOSED"
    page.click("#step-forward")
    page.wait_for_url(lambda url: "position=" in url)
    assert page.locator("#as-of-state").get_attribute("data-state") == "ADMITTED"


def test_the_language_switch_turns_the_pages_english_and_is_remembered(page: Any, live: LiveServer) -> None:
    page.goto("/")
    assert page.locator("h1").inner_text() == "公示与名录"
    page.click("a.lang")
    assert page.locator("h1").inner_text() == "Public register"
    accessible(page)
    page.goto("/login")
    assert page.locator("h1").inner_text() == "Sign in"


def test_a_revoked_tokens_session_ends(page: Any, live: LiveServer) -> None:
    sign_in(page, live.secrets["carol"])
    page.wait_for_url("**/queue")
    accessible(page)
    assert "carol" in page.locator("header").inner_text()
    live.app.state.tokens.revoke("carol")
    page.goto("/queue")
    page.wait_for_url(lambda url: "/login" in url)
    assert "carol" not in page.locator("header").inner_text()


def test_an_applicant_attaches_a_document_in_its_step_and_its_condition_turns_green(
    page: Any, live: LiveServer
) -> None:
    sign_in(page, live.secrets["alice"])
    page.wait_for_url("**/my")
    page.select_option("#new-program_key", "fintech-sandbox")
    page.fill("#new-title", "小微企业智能信贷服务")
    page.fill("#new-app_type", "金融服务")
    page.fill("#new-lead_name", "福州示范银行")
    page.select_option("#new-lead_kind", "licensed_institution")
    page.fill("#new-region", "福州")
    page.fill("#new-lead_licence_no", "B0001H235010001")
    page.click("#new button[type=submit]")
    page.wait_for_url("**/draft/statement")
    page.click("#steps li[data-step='documents'] a")
    page.wait_for_url("**/draft/documents")
    accessible(page)
    step_url = page.url
    licence = page.locator("#checklist li[data-rule='fs.adm.licence']")
    assert licence.get_attribute("data-status") == "unmet"
    page.select_option("#documents-kind", "financial_licence")
    page.fill("#documents-title", "金融许可证")
    page.set_input_files(
        "#documents-file", files=[{"name": "licence.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 licence"}]
    )
    page.click("#draft-step form button[type=submit]")
    page.wait_for_selector("#checklist li[data-rule='fs.adm.licence'][data-status='met']")
    assert page.url == step_url  # htmx sent the file and swapped the step
    assert "金融许可证" in page.locator("#attached").inner_text()
    # a file that is neither a PDF nor an image comes back beside the file input
    page.fill("#documents-title", "说明")
    page.set_input_files(
        "#documents-file", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"plain text"}]
    )
    page.click("#draft-step form button[type=submit]")
    page.wait_for_selector("#draft-step #err-file")
    accessible(page)
