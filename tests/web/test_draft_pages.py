"""The step-by-step application over HTTP: each step saved on its own (a plain form and htmx),
the checklist beside it, errors beside their inputs, and who may open it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from projections.project import local_date
from sandbox.web.drafts import SUBMIT, draft_of
from schemas.programs import Attestation, Documents, Fields, LicensedLead
from tests.fixtures.api import Api
from tests.fixtures.api_world import World
from tests.fixtures.web import csrf, form, sign_in

HTMX = {"HX-Request": "true"}
NEW_ECNY = {
    "program_key": "ecny-pilot",
    "title": "福州数字人民币停车缴费试点",
    "app_type": "数字人民币应用场景",
    "lead_name": "福州示范银行",
    "lead_kind": "licensed_institution",
    "region": "福州",
}
STATEMENT = {"scenario": "transport_tolls", "kyc_responsible": "fzbank", "aml_responsible": "fzbank", "operator": "cib"}


def status_of(page: str, rule: str) -> str:
    found = re.search(rf'data-rule="{re.escape(rule)}" data-status="(\w+)"', page)
    assert found, f"{rule} is not on the checklist"
    return found.group(1)


def new_draft(web: Api, fields: dict[str, str] = NEW_ECNY) -> str:
    sign_in(web, "alice")
    r = form(web, "/projects/new", {**fields, "_key": "new-1"})
    assert r.status_code == 303 and r.headers["location"].endswith("/draft"), r.text
    return r.headers["location"].split("/")[2]


def post(web: Api, path: str, data: dict[str, Any], headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return web.client.post(
        path, data={**data, "_csrf_token": csrf(web)}, headers=headers or {}, follow_redirects=False, **kw
    )


def test_a_new_draft_opens_at_its_first_step_and_a_saved_step_leads_to_the_next_turning_its_rule_green(
    web: Api,
) -> None:
    pid = new_draft(web)
    first = web.client.get(f"/projects/{pid}/draft", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == f"/projects/{pid}/draft/statement"
    page = web.client.get(f"/projects/{pid}/draft/statement").text
    assert status_of(page, "ec.adm.kyc_aml") == "unmet"
    assert 'id="statement-kyc_responsible"' in page and 'aria-current="step"' in page
    saved = post(web, f"/projects/{pid}/draft/statement", STATEMENT)
    assert saved.status_code == 303 and saved.headers["location"] == f"/projects/{pid}/draft/boundaries?saved=statement"
    page = web.client.get(saved.headers["location"]).text
    assert status_of(page, "ec.adm.kyc_aml") == "met" and 'role="status"' in page
    assert web.view(pid, "alice")["details"]["sections"]["statement"]["kyc_responsible"] == "fzbank"
    # the statement's step is complete; the others are not
    assert re.search(r'data-step="statement" data-gaps="0"', page)
    assert not re.search(r'data-step="boundaries" data-gaps="0"', page)


def test_with_htmx_a_saved_step_swaps_the_step_and_sends_the_checklist_out_of_band(web: Api) -> None:
    pid = new_draft(web)
    r = post(web, f"/projects/{pid}/draft/statement", STATEMENT, HTMX)
    assert r.status_code == 200 and "<html" not in r.text
    assert r.text.lstrip().startswith('<section class="card" id="draft-step"')
    assert re.search(r'id="checklist"[^>]*hx-swap-oob="true"', r.text)
    assert re.search(r'id="steps"[^>]*hx-swap-oob="true"', r.text)
    assert status_of(r.text, "ec.adm.kyc_aml") == "met"


@pytest.mark.parametrize("headers", [{}, HTMX])
@pytest.mark.parametrize(("step", "field"), [("boundaries", "max_users"), ("test_plan", "reporting_cadence_days")])
def test_a_bad_value_is_shown_beside_its_input_in_both_languages_and_changes_nothing(
    web: Api, world: World, headers: dict[str, str], step: str, field: str
) -> None:
    sign_in(web, "alice")
    pid = world["draft"]
    version = web.view(pid, "alice")["version"]
    r = post(web, f"/projects/{pid}/draft/{step}", {field: "many"}, headers)
    assert r.status_code == 422
    error = re.search(rf'<p class="error" id="err-{field}".*?</p>', r.text, re.S)
    assert error and re.search(r"[\u4e00-\u9fff]", error.group(0)) and re.search(r"[a-z]{4}", error.group(0))
    assert f'id="{step}-{field}"' in r.text and f'aria-invalid="true" aria-describedby="err-{field}"' in r.text
    assert 'value="many"' in r.text  # the form comes back as it was filled
    assert web.view(pid, "alice")["version"] == version


#: Each step of the world's (fintech) draft, with a form a reader would send from it.
STEPS: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {
    "statement": ({"complaint_contact": "客服中心"}, None),
    "boundaries": ({"max_users": "5000"}, None),
    "test_plan": ({"reporting_cadence_days": "30"}, None),
    "documents": (
        {"kind": "emergency_plan", "title": "应急预案"},
        {"file": ("plan.pdf", b"%PDF-1.7 emergency plan", "application/pdf")},
    ),
    "attestations": ({"statement": "no_violations"}, None),
    SUBMIT: ({}, None),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_a_step_without_its_csrf_token_is_refused_and_changes_nothing(web: Api, world: World, step: str) -> None:
    sign_in(web, "alice")
    pid = world["draft"]
    version = web.view(pid, "alice")["version"]
    data, files = STEPS[step]
    r = web.client.post(f"/projects/{pid}/draft/{step}", data=data, files=files, follow_redirects=False)
    assert r.status_code == 403 and "csrf_failed" in r.text
    assert web.view(pid, "alice")["version"] == version


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize(("who", "status"), [("carol", 403), ("audrey", 403), ("olga", 404)])
def test_only_the_projects_applicants_open_or_save_its_steps(
    web: Api, world: World, who: str, status: int, step: str
) -> None:
    sign_in(web, who)
    pid = world["draft"]
    version = web.view(pid, "alice")["version"]
    data, files = STEPS[step]
    assert web.client.get(f"/projects/{pid}/draft/{step}").status_code == status
    assert post(web, f"/projects/{pid}/draft/{step}", data, files=files).status_code == status
    assert web.view(pid, "alice")["version"] == version


@pytest.mark.parametrize("step", list(STEPS))
def test_each_step_of_the_worlds_draft_is_saved_by_its_applicant(web: Api, world: World, step: str) -> None:
    sign_in(web, "alice")
    pid = world["draft"]
    version = web.view(pid, "alice")["version"]
    data, files = STEPS[step]
    r = post(web, f"/projects/{pid}/draft/{step}", {**data, "_key": f"k-{step}"}, files=files)
    assert r.status_code == 303, r.text
    assert web.view(pid, "alice")["version"] == version + 1


def test_an_attestation_refused_is_shown_beside_its_text_and_changes_nothing(web: Api, world: World) -> None:
    sign_in(web, "alice")
    pid = world["draft"]
    version = web.view(pid, "alice")["version"]
    r = post(web, f"/projects/{pid}/draft/attestations", {"statement": "no_violations", "text": "无" * 4001})
    assert r.status_code == 400
    error = re.search(
        r'<textarea id="attest-no_violations-text"[^>]*aria-describedby="err-text">.*?</div>', r.text, re.S
    )
    assert error and 'id="err-text"' in error.group(0)
    assert re.search(r"[\u4e00-\u9fff]", error.group(0).split('id="err-text"')[1])
    assert web.view(pid, "alice")["version"] == version


def test_a_step_the_program_does_not_have_is_not_found(web: Api, world: World) -> None:
    sign_in(web, "alice")
    assert web.client.get(f"/projects/{world['draft']}/draft/product").status_code == 404  # fintech: no product
    assert post(web, f"/projects/{world['draft']}/draft/nothing", {}).status_code == 404


def test_submit_is_disabled_with_what_is_missing_and_refused_anyway_beside_the_steps(web: Api) -> None:
    pid = new_draft(web)
    page = web.client.get(f"/projects/{pid}/draft/{SUBMIT}").text
    assert re.search(r'<button type="submit" disabled aria-describedby="submit-blocked">', page)
    assert 'data-gap="ec.adm.kyc_aml"' in page
    r = post(web, f"/projects/{pid}/draft/{SUBMIT}", {})
    assert r.status_code == 409 and "application_incomplete" in r.text
    statement = re.search(r'<li class="todo" data-step="statement".*?</li>', r.text, re.S)
    assert statement and 'data-refused="ec.adm.kyc_aml"' in statement.group(0)
    assert web.view(pid, "alice")["state"] == "DRAFT"


def test_a_complete_draft_is_submitted_from_its_last_step(web: Api, world: World) -> None:
    sign_in(web, "alice")
    pid = world["draft"]
    first = web.client.get(f"/projects/{pid}/draft", follow_redirects=False)
    assert first.headers["location"] == f"/projects/{pid}/draft/{SUBMIT}"  # nothing is missing
    page = web.client.get(f"/projects/{pid}/draft/{SUBMIT}").text
    assert "submit-blocked" not in page and re.search(r'<button type="submit">', page)
    r = post(web, f"/projects/{pid}/draft/{SUBMIT}", {"_key": "submit-1"})
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{pid}?done=submit"
    assert web.view(pid, "alice")["state"] == "SUBMITTED"
    # a submitted application is no longer edited step by step
    again = web.client.get(f"/projects/{pid}/draft/statement", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"/projects/{pid}"


FINTECH = {**NEW_ECNY, "program_key": "fintech-sandbox", "lead_licence_no": "B0001H"}


@pytest.mark.parametrize(("lang", "label"), [("zh", "金融许可证"), ("en", "financial licence")])
def test_the_documents_step_names_each_kind_in_the_readers_language(
    web: Api, world: World, lang: str, label: str
) -> None:
    sign_in(web, "alice")
    page = web.client.get(f"/projects/{world['draft']}/draft/documents", params={"lang": lang}).text
    assert f'<option value="financial_licence">{label}</option>' in page


def test_a_document_uploaded_in_its_step_is_attached_and_its_condition_counts_it(web: Api) -> None:
    pid = new_draft(web, FINTECH)
    page = web.client.get(f"/projects/{pid}/draft/documents").text
    assert '<option value="internal_audit_opinion">' in page and status_of(page, "fs.adm.licence") == "unmet"
    pdf = b"%PDF-1.7 financial licence"
    r = post(
        web,
        f"/projects/{pid}/draft/documents",
        {"kind": "financial_licence", "title": "金融许可证", "_key": "doc-1"},
        files={"file": ("licence.pdf", pdf, "application/pdf")},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{pid}/draft/documents?saved=documents"
    page = web.client.get(r.headers["location"]).text
    assert "金融许可证" in page and status_of(page, "fs.adm.licence") == "met"


def test_a_file_that_is_not_a_pdf_or_an_image_is_shown_beside_the_file_input(web: Api) -> None:
    pid = new_draft(web, FINTECH)
    r = post(
        web,
        f"/projects/{pid}/draft/documents",
        {"kind": "financial_licence", "title": "金融许可证"},
        files={"file": ("licence.exe", b"MZ\x90\x00", "application/octet-stream")},
    )
    assert r.status_code in (400, 415, 422) and 'id="err-file"' in r.text
    assert web.view(pid, "alice")["details"].get("documents", []) == []


def test_an_attestation_made_in_its_step_meets_its_condition(web: Api) -> None:
    pid = new_draft(web, FINTECH)
    page = web.client.get(f"/projects/{pid}/draft/attestations").text
    assert status_of(page, "fs.adm.no_violations") == "unmet"
    r = post(web, f"/projects/{pid}/draft/attestations", {"statement": "no_violations", "_key": "a-1"})
    assert r.status_code == 303
    page = web.client.get(r.headers["location"]).text
    assert status_of(page, "fs.adm.no_violations") == "met" and 'data-attested="no_violations"' in page


@pytest.mark.parametrize("key", ["fintech-sandbox", "ecny-pilot", "data-asset"])
def test_every_condition_an_applicant_meets_alone_has_its_step(web: Api, key: str) -> None:
    registry = web.app.state.registry
    program = registry.program_versions(key)[-1]
    today = local_date(registry.clock())
    state = registry.load(web.create(key))
    draft = draft_of(state, program, registry.reference(), today)
    names = {s.name for s in draft.steps}
    own = (Fields, Documents, Attestation, LicensedLead)
    for rule, condition in zip(program.admission, draft.conditions, strict=True):
        assert condition.status.id == rule.id
        if rule.stage == "submission" or isinstance(rule.params, own):
            assert condition.step in names, rule.id


def test_the_project_page_leads_to_the_steps_while_the_draft_may_be_edited(web: Api, world: World) -> None:
    sign_in(web, "alice")
    for name, linked in (("draft", True), ("returned", True), ("submitted", False)):
        page = web.client.get(f"/projects/{world[name]}").text
        assert (f'href="/projects/{world[name]}/draft"' in page) is linked, name
    returned = web.client.get(f"/projects/{world['returned']}/draft/{SUBMIT}").text
    assert f'action="/projects/{world["returned"]}/draft/{SUBMIT}"' not in returned  # answered, not submitted
