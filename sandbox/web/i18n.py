"""The pages' words in Chinese and English, and which of the two a request reads.

Chinese is the default; ``?lang=en`` (or ``?lang=zh``) switches and is remembered in the ``lang``
cookie. States, roles, actions and refusals come from the same bilingual sources as the API's
problem documents (``schemas.lifecycle``, ``schemas.errors``); this table holds only what the
pages add around them: headings, buttons and field names.
"""

from __future__ import annotations

from typing import Any, Literal

from schemas.errors import ACTION_LABELS_ZH
from schemas.labels import EVENT_LABELS, VALUE_LABELS
from schemas.lifecycle import ROLE_LABELS, STATE_LABELS, Role, State

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
COOKIE = "lang"

#: key -> (Chinese, English)
LABELS: dict[str, tuple[str, str]] = {
    "site": ("监管沙盒登记簿", "Sandbox Registry"),
    "register": ("公示与名录", "Public register"),
    "search": ("搜索", "Search"),
    "search_hint": ("名称、申请机构或地区", "title, applicant or region"),
    "all": ("全部", "all"),
    "program": ("项目类型", "Program"),
    "state": ("状态", "State"),
    "region": ("地区", "Region"),
    "title": ("应用名称", "Title"),
    "app_type": ("应用类型", "Type"),
    "applicants": ("申请机构", "Applicants"),
    "dates": ("日期", "Dates"),
    "filter": ("筛选", "Filter"),
    "results": ("条结果", "results"),
    "no_results": ("没有符合条件的项目", "No project matches"),
    "previous": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "licence_no": ("许可证号", "Licence no."),
    "history": ("状态历史", "Status history"),
    "statements": ("创新应用声明书（公开部分）", "Innovation statement (public parts)"),
    "published_on": ("发布日期", "published"),
    "statement_hash": ("声明书哈希（SHA-256）", "Statement hash (SHA-256)"),
    "public_parts_hash": ("公开部分哈希（SHA-256）", "Public parts hash (SHA-256)"),
    "no_public_parts": (
        "此版本公示时未发布公开部分，仅公布声明书哈希",
        "This notice published the statement's hash only, not its public parts",
    ),
    "notice": ("公示", "Public notice"),
    "notice_window": ("公示期", "Notice period"),
    "working_days_left": ("剩余工作日", "Working days left"),
    "calendar_days_left": ("剩余日", "Days left"),
    "notice_channel": ("公示渠道", "Published at"),
    "comments": ("意见", "Comments"),
    "objections": ("异议", "Objections"),
    "upheld": ("成立", "upheld"),
    "dismissed": ("驳回", "dismissed"),
    "open": ("待处理", "open"),
    "comment_form": ("提交意见（匿名）", "Comment (anonymous)"),
    "comment_text": ("意见内容", "Your comment"),
    "object_form": ("提出异议", "Object"),
    "grounds": ("异议理由", "Grounds"),
    "objector_name": ("姓名", "Name"),
    "objector_contact": ("联系方式（仅监管部门可见）", "Contact (seen by regulators only)"),
    "send": ("提交", "Send"),
    "sent": ("已提交，谢谢", "Received, thank you"),
    "notice_closed_forms": ("公示期外不接受意见和异议", "Comments and objections are taken during the notice only"),
    "registration_code": ("登记编号", "Registration code"),
    "final_outcome": ("最终结果", "Final outcome"),
    "test_period": ("测试期", "Test period"),
    "extensions": ("延期次数", "Extensions"),
    "json": ("JSON 数据", "JSON"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出登录", "Sign out"),
    "token": ("访问令牌", "Access token"),
    "token_hint": (
        "由 sandbox-registry token create 生成，或 make run 打印的令牌",
        "from sandbox-registry token create, or one that make run prints",
    ),
    "bad_token": ("令牌无效、已撤销或已过期", "The token is unknown, revoked or expired"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "language": ("语言", "Language"),
    "my": ("我的项目", "My projects"),
    "queue": ("待办事项", "Work queue"),
    "dashboard": ("统计看板", "Dashboard"),
    "audit": ("审计", "Audit"),
    "forbidden": ("无权访问", "Not allowed"),
    "forbidden_text": ("当前角色无权访问此页面", "Your role may not open this page"),
    "not_found": ("页面不存在", "Not found"),
    "not_found_text": ("没有这个页面或项目", "There is no such page or project"),
    "csrf_failed": ("表单已失效，请返回重新提交", "The form expired; go back, reload and send it again"),
    "method_not_allowed": ("不支持此操作", "Not allowed on this page"),
    "error": ("出错了", "Something went wrong"),
    "field_error": ("请更正", "Please correct"),
}


def lang_of(query: str | None, cookie: str | None) -> Lang:
    """The language a request reads: ``?lang=`` first, then the cookie, else Chinese."""
    for value in (query, cookie):
        if value in LANGS:
            return value
    return "zh"


def pick(lang: Lang, zh: str, en: str) -> str:
    return en if lang == "en" else zh


class Words:
    """What a template calls to get its words in the request's language; ``programs`` names
    each program key (``name_zh``, ``name_en`` of its latest version)."""

    def __init__(self, lang: Lang, programs: dict[str, tuple[str, str]] | None = None) -> None:
        self.lang = lang
        self.programs = programs or {}

    def __call__(self, key: str) -> str:
        zh, en = LABELS[key]
        return pick(self.lang, zh, en)

    def pick(self, zh: Any, en: Any) -> Any:
        return en if self.lang == "en" else zh

    def state(self, value: str) -> str:
        try:
            zh, en = STATE_LABELS[State(value)]
        except ValueError:
            return value
        return pick(self.lang, zh, en)

    def role(self, value: str) -> str:
        try:
            zh, en = ROLE_LABELS[Role(value)]
        except ValueError:
            return value
        return pick(self.lang, zh, en)

    def action(self, value: str) -> str:
        return pick(self.lang, ACTION_LABELS_ZH.get(value, value), value.replace("_", " "))

    def value(self, value: str) -> str:
        """A value of a closed list (a partner's role, an outcome, a scenario, a document kind,
        a metric), or an action's name: its label, else the value as given."""
        if value in VALUE_LABELS:
            zh, en = VALUE_LABELS[value]
            return pick(self.lang, zh, en)
        return self.action(value) if value in ACTION_LABELS_ZH else value

    def event(self, kind: str) -> str:
        """An event type (as stored, ``ProjectAdmitted``) by its name (the type itself for one
        this release does not know)."""
        zh, en = EVENT_LABELS.get(kind, (kind, kind))
        return pick(self.lang, zh, en)

    def program(self, key: str, version: int | str | None = None) -> str:
        """A program's name for its key, with the version a project is bound to if given (the
        key itself for a program the registry lacks)."""
        zh, en = self.programs.get(key, (key, key))
        if version is None:
            return pick(self.lang, zh, en)
        return pick(self.lang, f"{zh}（第 {version} 版）", f"{en}, version {version}")

    def program_ref(self, ref: str) -> str:
        """A rule version as events name it (``key@version``) by the program's name."""
        key, _, version = ref.partition("@")
        return self.program(key, version or None)
