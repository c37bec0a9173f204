"""The public register searched and filtered through the API: any part of a title or an
applicant (three characters or more, two, one, Chinese and Latin mixed), by program, state and
region, now and as it stood at a past position; drafts are never found; bad input is refused."""

from __future__ import annotations

from typing import Any

from tests.fixtures.api import Api


def found(api: Api, **params: Any) -> list[str]:
    r = api.get("/api/v1/register", None, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return sorted(e["id"] for e in body["items"])


def test_the_register_is_searched_by_any_part_of_a_title_or_an_applicant(api: Api) -> None:
    toll = api.create(
        "ecny-pilot", title="福州数字人民币e-CNY高速公路通行费试点", lead_name="福州农村商业银行股份有限公司"
    )
    api.ecny_application(toll)
    credit = api.create("fintech-sandbox", title="小微企业智能信贷服务", lead_name="厦门国际银行", region="厦门")
    api.fintech_application(credit)  # with the partner techco, 榕城数科
    draft = api.create("ecny-pilot", title="数字人民币红包试点", lead_name="福州某银行")  # never public
    for pid in (toll, credit):
        api.submit_and_open(pid)
    assert found(api, q="数字人民币") == [toll]  # the draft has it too, but is not on the register
    assert found(api, q="福州") == [toll]  # two characters
    assert found(api, q="银行") == sorted([toll, credit])
    assert found(api, q="榕") == [credit]  # one character, in a partner's name
    assert found(api, q="币E-c") == [toll]  # Chinese and Latin in one term, Latin in any case
    assert found(api, q="福州 银行") == [toll]  # every term
    assert found(api, q="上海") == []
    assert found(api, q="银行", region="厦门") == [credit]
    assert found(api, q="银行", program="ecny-pilot") == [toll]
    assert found(api, q="银行", state="public_notice") == sorted([toll, credit])  # (any case)
    # the register as it stood at a past position is searched and filtered by the same rule
    opened = api.head()
    assert found(api, q="福州", position=opened) == [toll]
    assert found(api, q="银行", region="厦门", position=opened) == [credit]
    # a project that leaves public notice is found in its new state, not in the old one
    api.close_notices(toll, credit)
    assert found(api, q="银行", state="PUBLIC_NOTICE") == []
    assert found(api, q="银行", state="NOTICE_CLOSED") == sorted([toll, credit])
    assert found(api, q="银行", state="PUBLIC_NOTICE", position=opened) == sorted([toll, credit])
    assert draft not in found(api)


def test_a_bad_search_or_filter_is_refused_and_names_the_field(api: Api) -> None:
    r = api.get("/api/v1/register", None, params={"state": "nowhere"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_value"
    assert "state" in r.json()["message_zh"] and "state" in r.json()["message_en"]
    r = api.get("/api/v1/register", None, params={"q": "福" * 201})
    assert r.status_code == 400 and [e["field"] for e in r.json()["errors"]] == ["q"]
