"""The dashboard, the audit page, a project's timeline with time travel, a pilot's metrics."""

from __future__ import annotations

import datetime as dt
import re

from projections.project import Breach, ProjectState
from sandbox.web.charts import Bar, Point, bar_chart, line_chart
from sandbox.web.dashboard import breaches_by_criterion, overdue_by_role
from tests.fixtures.api import Api
from tests.fixtures.api_world import World
from tests.fixtures.web import sign_in


def test_the_dashboard_draws_the_pipeline_with_every_projects_state(web: Api) -> None:
    sign_in(web, "carol")
    page = web.client.get("/dashboard")
    assert page.status_code == 200
    total = web.get("/api/v1/projects", "carol", params={"limit": 500}).json()["total"]
    drawn = sum(
        int(n) for n in re.findall(r"<text [^>]*class=\"value\">(\d+)</text>", page.text.split('id="overdue"')[0])
    )
    assert drawn == total


def test_the_audit_page_lists_decisions_and_verifies_the_log(web: Api, world: World) -> None:
    sign_in(web, "audrey")
    page = web.client.get("/audit")
    decisions = web.get("/api/v1/audit/decisions", "audrey", params={"limit": 100}).json()
    assert page.status_code == 200 and all(f">{d['position']}</a></td>" in page.text for d in decisions)
    verified = web.client.get("/audit", params={"verify": "true"})
    assert 'class="verified"' in verified.text


def test_the_export_downloads_the_log_as_the_api_gives_it(web: Api) -> None:
    sign_in(web, "audrey")
    page = web.client.get("/audit/export")
    assert page.status_code == 200 and "attachment" in page.headers["content-disposition"]
    assert page.content == web.get("/api/v1/audit/export", "audrey").content


def test_the_timeline_shows_the_project_as_the_api_does_at_a_position(web: Api, world: World) -> None:
    sign_in(web, "audrey")
    pid = world["admitted"]
    events = web.events(pid)
    early = events[1]["position"]
    page = web.client.get(f"/projects/{pid}/timeline", params={"position": early})
    then = web.view(pid, "audrey", position=early)
    assert f'data-state="{then["state"]}"' in page.text
    assert f'data-state="{web.state(pid)}"' in web.client.get(f"/projects/{pid}/timeline").text
    assert then["state"] != web.state(pid)
    beyond = web.client.get(f"/projects/{pid}/timeline", params={"position": web.head() + 1})
    assert beyond.status_code == 422 and "out_of_range" in beyond.text and "日志末端" in beyond.text


def test_an_applicant_never_sees_another_organisations_timeline(web: Api, world: World) -> None:
    sign_in(web, "alice")
    assert web.client.get(f"/projects/{world.other_project}/timeline").status_code == 404


def test_the_metrics_page_draws_each_report_against_the_threshold(web: Api, world: World) -> None:
    pid = world["testing"]
    web.report(pid, {"transactions": 1000, "payment_failures": 9, "active_users": 900}, [])
    sign_in(web, "carol")
    page = web.client.get(f"/projects/{pid}/metrics")
    assert page.status_code == 200
    assert 'class="limit"' in page.text and "ec.exit" not in page.text
    assert f"{web.clock.today.isoformat()}: 9 (limit 5 ‰)" in page.text  # 9 failures per 1,000 transactions
    assert 'class="dot alert"' in page.text


def test_a_bar_chart_describes_its_values() -> None:
    svg = bar_chart("c", "标题", [Bar("测试中", 3), Bar("暂停", 1, alert=True)])
    assert '<title id="c-title">标题</title>' in svg and "测试中: 3; 暂停: 1" in svg
    assert svg.count('class="bar alert"') == 1


def test_a_line_chart_marks_points_over_the_limit() -> None:
    points = [Point(dt.date(2025, 1, 31), 2.0), Point(dt.date(2025, 2, 28), 7.5)]
    svg = line_chart("m", "投诉率", points, 5.0, "‰")
    assert svg.count('class="dot alert"') == 1 and "2025-02-28: 7.5" in svg


def test_breaches_count_only_the_last_30_days() -> None:
    today = dt.date(2025, 6, 30)
    state = ProjectState(
        breaches=(
            Breach(criterion_id="a", action="suspension", position=1, on=today),
            Breach(criterion_id="a", action="suspension", position=2, on=today - dt.timedelta(days=29)),
            Breach(criterion_id="b", action="suspension", position=3, on=today - dt.timedelta(days=30)),
        )
    )
    assert breaches_by_criterion([state], today) == {"a": 2}


def test_overdue_items_are_counted_by_role() -> None:
    rows = [
        {"role": "approver", "overdue": True},
        {"role": "approver", "overdue": False},
        {"role": "assessor", "overdue": True},
    ]
    assert overdue_by_role(rows) == {"approver": 1, "assessor": 1}
