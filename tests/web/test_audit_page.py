"""The audit page explains each decision: its rule version and every rule it was taken under,
with the outcome the rule had just before the decision, linked to that place in the timeline."""

from __future__ import annotations

import re

from tests.fixtures.api import Api
from tests.fixtures.api_world import World
from tests.fixtures.web import sign_in


def _row(html: str, position: int) -> str:
    found = re.search(rf'<tr id="decision-{position}">(.*?)</tr>', html, re.S)
    assert found, f"no decision at position {position}"
    return found.group(1)


def test_each_decision_lists_the_rules_it_was_taken_under_with_their_outcomes(web: Api, world: World) -> None:
    pid = world["admitted"]
    trail = web.get("/api/v1/audit/decisions", "audrey", params={"project": pid}).json()
    admitted = next(r for r in trail if r["type"] == "ProjectAdmitted")
    position = admitted["position"]
    before = web.view(pid, position=position - 1)
    assert before["state"] == "NOTICE_CLOSED" and before["admission"]
    sign_in(web, "audrey")
    row = _row(web.client.get("/audit", params={"after": position - 1}).text, position)
    assert f'/projects/{pid}/timeline?position={position}"' in row
    assert f'/projects/{pid}/timeline?position={position - 1}"' in row
    shown = dict(re.findall(r'data-rule="([^"]+)" data-status="([^"]+)"', row))
    assert shown == {r["id"]: r["status"] for r in before["admission"]}
    met = sum(1 for r in before["admission"] if r["status"] in ("met", "waived", "not_applicable"))
    assert f"{met}/{len(before['admission'])} 项满足" in row and "准入条件" in row
    english = _row(web.client.get("/audit", params={"lang": "en", "after": position - 1}).text, position)
    assert "Rules evaluated" in english and before["admission"][0]["label_en"] in english


def test_a_decision_after_admission_is_explained_by_the_exit_criteria(web: Api, world: World) -> None:
    pid = world["suspended"]
    trail = web.get("/api/v1/audit/decisions", "audrey", params={"project": pid}).json()
    suspended = next(r for r in trail if r["type"] == "ProjectSuspended")
    before = web.view(pid, position=suspended["position"] - 1)
    sign_in(web, "audrey")
    row = _row(web.client.get("/audit", params={"after": suspended["position"] - 1}).text, suspended["position"])
    assert "退出标准" in row
    shown = dict(re.findall(r'data-rule="([^"]+)" data-status="([^"]+)"', row))
    assert shown == {r["id"]: r["status"] for r in before["exit"]}
