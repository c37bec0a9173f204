"""The public entry page `/register/{id}`: the statement's public parts, labelled in the reader's
language, with the statement's hash, the notice period and the working days left."""

from __future__ import annotations

import datetime as dt
import re

from tests.fixtures.api import Api
from tests.fixtures.api_world import World
from tests.fixtures.web import text


def _days_left(html: str) -> int:
    found = re.search(r'<dd class="left">(\d+)</dd>', html)
    assert found, "the entry shows no days left"
    return int(found.group(1))


def test_an_ecny_entry_shows_its_boundaries_by_name_with_the_hashes(web: Api, world: World) -> None:
    pid = world["notice"]
    entry = web.client.get(f"/api/v1/register/{pid}").json()
    [statement] = entry["statements"]
    zh = web.client.get(f"/register/{pid}")
    assert zh.status_code == 200
    seen = text(zh.text)
    assert statement["sha256"] in zh.text and statement["public_sha256"] in zh.text
    assert "测试边界" in seen and "试点地区 福州市" in seen  # the reference data's name, not the code
    assert "对接运营机构 兴业银行" in seen
    assert "单笔支付上限（元） 2,000" in seen
    assert "开展营销活动 否" in seen
    en = text(web.client.get(f"/register/{pid}", params={"lang": "en"}).text)
    assert "Test boundaries" in en and "Pilot area Fuzhou" in en and "Operator Industrial Bank" in en
    assert "Per-payment cap (yuan) 2,000" in en and "Runs a campaign no" in en
    assert entry["notice_starts"] in seen and entry["notice_ends"] in seen


def test_the_working_days_left_count_down_with_the_calendar(web: Api, world: World) -> None:
    pid = world["notice"]
    first = web.client.get(f"/register/{pid}").text
    assert "剩余工作日" in first
    before = _days_left(first)
    assert before >= 1
    reference = web.app.state.registry.reference()
    day = web.clock.today + dt.timedelta(days=1)
    while not reference.is_working_day(day):  # the next working day by the holiday calendar
        day += dt.timedelta(days=1)
    web.clock.to(day)
    assert _days_left(web.client.get(f"/register/{pid}").text) == before - 1


def test_a_fintech_entry_shows_the_statements_public_parts_and_not_its_private_ones(web: Api) -> None:
    pid = web.create("fintech-sandbox", title="公示部分测试")
    web.fintech_application(pid)
    web.do(pid, "alice", "edit_draft", {"section": "statement", "fields": {"exit_plan": "有序退出并结清"}})
    web.submit_and_open(pid)
    [statement] = web.client.get(f"/api/v1/register/{pid}").json()["statements"]
    public = statement["public"]["statement"]
    assert {"service_description", "risk_controls", "complaint_channel"} <= public.keys()
    seen = text(web.client.get(f"/register/{pid}").text)
    assert "创新应用声明书" in seen
    for label, name in (
        ("服务描述", "service_description"),
        ("风险防控措施", "risk_controls"),
        ("投诉渠道", "complaint_channel"),
        ("消费者权益与受益", "consumer_benefit"),
    ):
        assert f"{label} {public[name]}" in seen
    assert "投诉联系人" not in seen  # a person's contact is never among the public parts
    en = text(web.client.get(f"/register/{pid}", params={"lang": "en"}).text)
    assert f"Service description {public['service_description']}" in en
    assert f"Risk controls {public['risk_controls']}" in en
