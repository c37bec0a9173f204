"""Domain refusals: a stable code and a Chinese and an English message for each.

A refusal names what is missing (``details``), so the applicant or the regulator can act on it.
The HTTP layer maps codes to status codes; the CLI prints the English and Chinese text.
"""

from __future__ import annotations

import re
from typing import Any

from schemas.lifecycle import ROLE_LABELS, Role
from schemas.words import COUNTING

#: The Chinese for each action a refusal can name (the English is the action's own name, as in
#: the API's routes), and for the words compound actions are made of ("recommend admit",
#: "initiate_exit (forced)").
ACTION_LABELS_ZH: dict[str, str] = {
    "create_draft": "创建草稿",
    "edit_draft": "编辑草稿",
    "add_partner": "添加合作机构",
    "withdraw_partner": "合作机构退出",
    "attach_document": "上传材料",
    "attest": "作出声明",
    "submit": "提交申请",
    "withdraw": "撤回申请",
    "supply_information": "补充材料",
    "accept_intake": "受理申请",
    "request_information": "要求补充材料",
    "assign_case_officer": "指派经办人",
    "file_assessment": "提交评估意见",
    "open_public_notice": "启动公示",
    "comment": "提交公示意见",
    "object": "提出异议",
    "dispose_objection": "处理异议",
    "recommend": "推荐",
    "approve": "批准",
    "waive_condition": "豁免准入条件",
    "start_test": "启动测试",
    "report_metrics": "报送测试数据",
    "report_incident": "报告风险事件",
    "reclassify_incident": "重新认定事件等级",
    "remediate_incident": "整改风险事件",
    "log_complaint": "登记投诉",
    "request_extension": "申请延期",
    "grant_extension": "批准延期",
    "refuse_extension": "拒绝延期",
    "suspend": "暂停测试",
    "dispose_breach": "处置违规事项",
    "reinstate": "恢复测试",
    "submit_final_report": "提交最终报告",
    "accept_final_report": "审核通过最终报告",
    "initiate_exit": "启动退出",
    "confirm_exit": "确认退出",
    "record_external_fact": "登记外部事实",
    "register_pledge": "质押登记",
    "release_pledge": "质押解除",
    "realise_pledge": "质权实现",
    "register_change": "变更登记",
    "publish_program_version": "发布项目类型版本",
    "update_reference_data": "更新参考数据",
    # decisions and the kinds of exit
    "admit": "准入",
    "reject": "不予准入",
    "graduate": "出盒",
    "exit": "退出",
    "terminate": "终止",
    "revoke": "撤销",
    "forced": "强制",
    "voluntary": "自愿",
}

_WORD = re.compile(r"[a-z_]+")


def action_zh(action: str) -> str:
    """The Chinese for an action: ``recommend admit`` -> 推荐准入, ``initiate_exit (forced)`` ->
    启动退出（强制）. A word without a label keeps its English."""
    words = _WORD.sub(lambda m: ACTION_LABELS_ZH.get(m[0], m[0]), action)
    return words.replace(" ", "").replace("(", "（").replace(")", "）")

#: code -> (Chinese, English). Placeholders are filled from the refusal's ``params``.
MESSAGES: dict[str, tuple[str, str]] = {
    "wrong_role": ("角色“{role_zh}”无权执行“{action_zh}”", "role '{role}' may not {action}"),
    "not_your_organisation": (
        "申请机构只能为本机构的项目操作",
        "an applicant may act only for its own organisation",
    ),
    "lead_only": (
        "只有牵头申请机构（{lead}）可以执行“{action_zh}”；合作机构只能为本机构提交材料和声明、报送测试数据或退出",
        "only the lead applicant ({lead}) may {action}; a partner attaches and attests for itself,"
        " reports on the test, or withdraws itself",
    ),
    "wrong_state": (
        "项目处于“{state_zh}”状态，不能执行“{action_zh}”",
        "the project is {state}; '{action}' is not possible in this state",
    ),
    "terminal_state": (
        "项目已处于终态“{state_zh}”，不再接受任何操作",
        "the project is {state}, a terminal state",
    ),
    "not_found": ("项目 {project_id} 不存在", "project {project_id} does not exist"),
    "history_unreadable": (
        "项目 {project_id} 的历史中有本系统无法读取或应用的事件（原因见英文说明）；在此问题解决之前，不能对其作出任何决定",
        "the history of project {project_id} holds an event this registry cannot read or apply ({error});"
        " nothing can be decided on it until that is resolved",
    ),
    "idempotency_key_reused": (
        "该 Idempotency-Key（命令编号）已用于另一个请求，请换用新的",
        "this Idempotency-Key (command id) was already used for another request; use a new key",
    ),
    "already_exists": ("项目 {project_id} 已存在", "project {project_id} already exists"),
    "unknown_program": (
        "项目类型 {program} 不存在或尚未生效",
        "program {program} does not exist or is not in force",
    ),
    "four_eyes": (
        "四眼原则：{who} 不能批准自己推荐的决定或重复批准",
        "four eyes: {who} may not approve a decision they recommended or approve it twice",
    ),
    "notice_not_closed": ("公示期尚未结束", "the public notice has not closed"),
    "notice_too_short": (
        "公示期不足：需 {required} 个{unit_zh}，实际 {actual} 个",
        "the public notice was too short: {required:~{unit} day} required, {actual} held",
    ),
    "unknown_breach": (
        "位置 {position} 没有待处置的审查或标记类违规事项",
        "there is no breach awaiting a disposition (a review or a flag) at position {position}",
    ),
    "disposition_mismatch": (
        "待确认的处置意见是“{proposed}”，不是“{outcome}”",
        "the proposed disposition is '{proposed}', not '{outcome}'",
    ),
    "objection_already_open": (
        "该异议人对本项目已有未处理的异议：请等待其处理结果",
        "this objector already has an open objection on the project: wait for its disposal",
    ),
    "objection_open": ("仍有未处理的异议：{objections}", "objections are still open: {objections}"),
    "condition_unmet": ("准入条件未满足：{conditions_zh}", "admission conditions not met: {conditions_en}"),
    "application_incomplete": (
        "申请材料不完整，须补正后方可提交或受理：{conditions_zh}",
        "the application is incomplete and must be supplemented before it is submitted or accepted: {conditions_en}",
    ),
    "assessment_missing": (
        "以下评估事项尚无有利的评估结论，不能启动公示：{topics_zh}",
        "the public notice cannot open before a favourable assessment on: {topics_en}",
    ),
    "no_pending_recommendation": ("没有待批准的推荐决定", "there is no pending recommendation to approve"),
    "recommendation_mismatch": (
        "待批准的推荐决定是“{pending_zh}”，不是“{decision_zh}”",
        "the pending recommendation is '{pending}', not '{decision}'",
    ),
    "recommendation_pending": ("已有待批准的推荐决定", "a recommendation is already pending"),
    "unknown_condition": (
        "准入条件 {condition_id} 不属于该项目绑定的规则版本",
        "condition {condition_id} is not in the bound program version",
    ),
    "unknown_objection": (
        "异议 {objection_id} 不存在或已处理",
        "objection {objection_id} does not exist or is already disposed",
    ),
    "unknown_incident": (
        "事件 {incident_id} 不存在或已整改",
        "incident {incident_id} does not exist or is already remediated",
    ),
    "duplicate_id": ("编号 {id} 已被使用", "id {id} is already used"),
    "severity_unchanged": (
        "事件 {incident_id} 的严重程度已是 {severity} 级",
        "incident {incident_id} is of severity {severity} already",
    ),
    "pledge_outstanding": (
        "数据资产尚有未解除的质押（登记编号 {registration_no}），不能注销，也不能再次质押：须先解除质押（release_pledge）",
        "the data asset has a pledge outstanding (registration {registration_no}): it cannot be cancelled or"
        " pledged again until the pledge is released (release_pledge)",
    ),
    "no_pledge_outstanding": (
        "数据资产没有未解除的质押",
        "the data asset has no pledge outstanding",
    ),
    "valuation_too_old": (
        "质押须有于 {on} 出具不超过 {months} 个月的资产评估报告：{why_zh}",
        "a pledge needs a valuation report no older than {months:~month} on {on}: {why_en}",
    ),
    "data_assets_only": (
        "“{action_zh}”只适用于数据资产项目",
        "{action} applies to data-asset projects only",
    ),
    "before_declared_start": (
        "测试开始日期 {started} 早于申报并获准入的开始日期 {declared}：请于 {declared} 当日或之后启动测试"
        "（如不再测试，可请监管部门终止本项目）",
        "the test would start on {started}, before the start date declared and admitted, {declared}: start it"
        " on or after {declared} (or, to give it up, ask the regulator to terminate the project)",
    ),
    "after_declared_end": (
        "申报并获准入的测试期已于 {declared} 结束，测试不能再启动；由监管部门终止本项目后可重新申请",
        "the test period declared and admitted ended on {declared}: the test can no longer start; the regulator"
        " ends the project (terminate) and the applicant may apply again",
    ),
    "declared_period_over": (
        "申报的测试期已于 {declared} 结束，不能准入：经办人可改为提出不予准入建议（取代待批准的准入建议），"
        "或由申请机构撤回后重新申请",
        "the declared test period ended on {declared}, so there is nothing left to admit: the case officer"
        " recommends rejection instead (it replaces an admission waiting for approval), or the applicant"
        " withdraws and applies again",
    ),
    "extension_not_allowed": ("不能延期：{why_zh}", "no extension possible: {why_en}"),
    "no_extension_request": ("没有待处理的延期申请", "there is no extension request to decide"),
    "final_report_missing": (
        "尚未提交或通过最终报告",
        "the final report has not been submitted and accepted",
    ),
    "kpis_unmet": ("尚有未达成的关键指标：{kpis_zh}", "KPIs not met: {kpis}"),
    "exit_notice_too_short": (
        "自愿退出须至少提前 {days} 天告知用户",
        "a voluntary exit needs users told at least {days:~day} ahead",
    ),
    "document_altered": (
        "材料 {sha256} 的存储文件与其哈希不符，不予提供",
        "the stored file of document {sha256} no longer matches its hash, so it is not served",
    ),
    "invalid_value": ("字段 {field} 不符合规则：{rule_zh}", "field {field} breaks the rule: {rule_en}"),
    "out_of_range": ("{field} 超出范围：{rule_zh}", "{field} is out of range: {rule_en}"),
    "date_out_of_range": (
        "日期字段 {field} 的值 {value} 超出允许范围：{rule_zh}（允许 {earliest} 至 {latest}）",
        "date field {field} = {value} is out of range: {rule_en} (allowed {earliest} to {latest})",
    ),
    "reason_required": ("此操作必须说明理由", "this action needs a reason"),
    "not_in_notice": (
        "只能在公示期内提交意见或异议",
        "comments and objections are accepted only during the public notice",
    ),
    "calendar_not_covered": (
        "节假日日历未包含 {year} 年，无法计算工作日；请先发布该年度节假日安排",
        "the holiday calendar has no data for {year}, so working days cannot be counted: publish that year's holidays first",
    ),
    "reference_unknown": ("参考数据“{dataset_zh}”中没有 {item}", "reference data {dataset} has no {item}"),
}


class DomainError(Exception):
    """A refused command. Nothing was appended."""

    def __init__(self, code: str, *, details: list[dict[str, Any]] | None = None, **params: Any) -> None:
        self.code = code
        self.params = params
        self.details = details or []
        zh, en = MESSAGES[code]
        self.message_zh = zh.format_map(_Defaulting({**_labels(params), **params}))
        self.message_en = COUNTING.vformat(en, (), _Defaulting(params))
        super().__init__(f"{code}: {self.message_en}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "details": self.details,
        }


#: The Chinese of the reference datasets a refusal may name.
DATASET_LABELS_ZH = {"pilot_areas": "试点地区", "operators": "运营机构", "wallet_tiers": "钱包等级", "holidays": "节假日安排"}


def _labels(params: dict[str, Any]) -> dict[str, str]:
    """The Chinese labels of the actions, decisions, role and dataset a refusal names, for its
    Chinese message (``{action_zh}`` for ``action``, and so on)."""
    labels = {f"{key}_zh": action_zh(str(params[key])) for key in ("action", "decision", "pending") if key in params}
    if params.get("role") in ROLE_LABELS:
        labels["role_zh"] = ROLE_LABELS[Role(params["role"])][0]
    if "dataset" in params:
        labels["dataset_zh"] = DATASET_LABELS_ZH.get(str(params["dataset"]), str(params["dataset"]))
    return labels


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
