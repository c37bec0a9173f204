"""Chinese and English names of the values of closed lists that a person reads on a page.

States, user roles and actions have theirs in :mod:`schemas.lifecycle` and :mod:`schemas.errors`;
this table names the rest: an applicant's place in a project (lead or partner) and its kind, the
sections of an application, the document kinds and the allowed values the bundled programs
declare, the outcomes of assessments and objections, the reported metrics and the common
categories of suspensions and endings. A value not listed here is shown as it was given.
"""

from __future__ import annotations

from schemas import events as ev
from schemas.tables import every_kind

#: value -> (Chinese, English)
VALUE_LABELS: dict[str, tuple[str, str]] = {
    # an applicant's place in a project, and its kind
    "lead": ("牵头申请机构", "lead applicant"),
    "licensed_institution": ("持牌金融机构", "licensed institution"),
    "technology_partner": ("科技合作机构", "technology partner"),
    "technology_company": ("科技公司", "technology company"),
    "operator": ("运营机构", "operator"),
    "data_merchant": ("数据商", "data merchant"),
    "other": ("其他", "other"),
    # the sections of an application
    "statement": ("创新应用声明书", "innovation statement"),
    "boundaries": ("测试边界", "test boundaries"),
    "product": ("数据产品", "data product"),
    "test_plan": ("测试计划", "test plan"),
    # outcomes
    "favourable": ("同意", "favourable"),
    "needs_work": ("需完善", "needs work"),
    "unfavourable": ("不同意", "unfavourable"),
    "upheld": ("成立", "upheld"),
    "dismissed": ("驳回", "dismissed"),
    "no_action": ("无需处理", "no action"),
    "not_applicable": ("不适用", "not applicable"),
    # the status of an admission condition or an exit criterion (``projections.rules``)
    "met": ("已满足", "met"),
    "unmet": ("未满足", "not met"),
    "waived": ("已豁免", "waived"),
    "ok": ("正常", "within limits"),
    "warning": ("预警", "warning"),
    "breached": ("已违反", "breached"),
    "reached": ("已达到", "reached"),
    "remediated": ("已整改", "remediated"),
    # what an applicant attests (an attestation's statement)
    "no_violations": ("近3年无违法违规记录", "no record of violations in the last 3 years"),
    # a data product's declared classes (data-asset's fields)
    "general": ("一般数据", "general"),
    "important": ("重要数据", "important"),
    "national_core": ("国家核心数据", "national core data"),
    "present": ("含个人信息", "present"),
    "absent": ("不含个人信息", "absent"),
    "intangible_asset": ("无形资产", "intangible asset"),
    "inventory": ("存货", "inventory"),
    "outstanding": ("存在未解除的质押", "outstanding"),
    "ownership_dispute": ("权属争议", "ownership dispute"),
    # e-CNY scenarios (ecny-pilot's allowed values)
    "retail": ("零售", "retail"),
    "catering": ("餐饮", "catering"),
    "transport_tolls": ("交通通行费", "transport tolls"),
    "tax_government": ("税费与政务", "tax and government services"),
    "payroll": ("代发工资", "payroll"),
    "sme_loans": ("小微企业贷款", "SME loans"),
    "supply_chain": ("供应链", "supply chain"),
    "red_packets": ("红包", "red packets"),
    "cross_border": ("跨境", "cross-border"),
    # data products (data-asset's allowed values)
    "dataset": ("数据集", "dataset"),
    "api": ("数据接口", "API"),
    "report": ("数据报告", "report"),
    "tool": ("数据工具", "tool"),
    # document kinds the bundled programs ask for
    "financial_licence": ("金融许可证", "financial licence"),
    "business_licence": ("营业执照", "business licence"),
    "data_merchant_registration": ("数据商登记", "data merchant registration"),
    "data_source_statement": ("数据来源说明", "data source statement"),
    "source_authorisation": ("数据来源授权", "source authorisation"),
    "personal_information_consent": ("个人信息授权同意", "personal information consent"),
    "anonymisation_report": ("匿名化处理报告", "anonymisation report"),
    "pipl_impact_assessment": ("个人信息保护影响评估", "PIPL impact assessment"),
    "third_party_compliance_assessment": ("第三方合规评估", "third-party compliance assessment"),
    "venue_compliance_review": ("交易场所合规审查", "venue compliance review"),
    "data_quality_assessment": ("数据质量评估", "data quality assessment"),
    "auditor_sign_off": ("审计机构确认", "auditor sign-off"),
    "valuation_report": ("评估报告", "valuation report"),
    "internal_audit_opinion": ("内部审计意见", "internal audit opinion"),
    "external_legal_assessment": ("外部法律意见", "external legal assessment"),
    "security_assessment": ("安全评估", "security assessment"),
    "personal_financial_information_assessment": (
        "个人金融信息保护评估",
        "personal financial information assessment",
    ),
    "risk_compensation_plan": ("风险补偿方案", "risk compensation plan"),
    "emergency_plan": ("应急预案", "emergency plan"),
    "service_exit_plan": ("服务退出方案", "service exit plan"),
    "smart_contract_template": ("智能合约模板", "smart contract template"),
    # reported metrics
    "transactions": ("交易笔数", "transactions"),
    "payment_failures": ("支付失败笔数", "payment failures"),
    "wallets_opened": ("开立钱包数", "wallets opened"),
    "active_users": ("活跃用户数", "active users"),
    "fraud_cases": ("欺诈案件数", "fraud cases"),
    "complaints": ("投诉件数", "complaints"),
    "trades": ("交易次数", "trades"),
    # categories of suspensions and endings
    "supervisory_review": ("监管核查", "supervisory review"),
    "false_materials": ("材料虚假", "false materials"),
    "licence_lost": ("许可失效", "licence lost"),
    "designation_withdrawn": ("运营资格撤销", "designation withdrawn"),
    "regulator": ("监管要求", "regulator's decision"),
    "fees": ("违规收费", "fees"),
    "lapsed": ("逾期失效", "lapsed"),
}


#: declared field -> (Chinese, English): how a page and a message name a field of an application
#: (the form adds its own hints, such as one item a line, and starts the English with a capital).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    # the draft itself
    "title": ("应用名称", "title"),
    "app_type": ("应用类型", "application type"),
    # the innovation statement
    "service_description": ("服务描述", "service description"),
    "innovation_claim": ("创新性说明（首发首创）", "innovation claim"),
    "comparables": ("可比产品", "comparables"),
    "expected_benefit": ("预期效果（普惠）", "expected benefit"),
    "consumer_benefit": ("消费者权益与受益", "consumer benefit"),
    "channels": ("服务渠道", "channels"),
    "user_scope": ("用户范围", "user scope"),
    "planned_test_period": ("计划测试期", "planned test period"),
    "risk_controls": ("风险防控措施", "risk controls"),
    "complaint_channel": ("投诉渠道", "complaint channel"),
    "complaint_contact": ("投诉联系人", "complaint contact"),
    "exit_plan": ("退出方案", "exit plan"),
    "operator": ("对接运营机构", "operator"),
    "scenario": ("应用场景", "scenario"),
    "kyc_responsible": ("KYC 责任机构", "KYC responsible"),
    "aml_responsible": ("反洗钱责任机构", "AML responsible"),
    "uses_smart_contracts": ("使用智能合约", "uses smart contracts"),
    # the test boundaries
    "max_users": ("最大用户数", "maximum users"),
    "per_user_exposure_cap_yuan": ("单户风险敞口上限（元）", "per-user exposure cap (yuan)"),
    "total_exposure_cap_yuan": ("总风险敞口上限（元）", "total exposure cap (yuan)"),
    "service_channels": ("服务渠道代码", "service channels"),
    "service_region": ("服务地区", "service region"),
    "start_date": ("开始日期", "start date"),
    "end_date": ("结束日期", "end date"),
    "pilot_area": ("试点地区", "pilot area"),
    "wallet_tier": ("钱包等级", "wallet tier"),
    "per_payment_cap_yuan": ("单笔支付上限（元）", "per-payment cap (yuan)"),
    "daily_cap_yuan": ("日累计上限（元）", "daily cap (yuan)"),
    "balance_cap_yuan": ("余额上限（元）", "balance cap (yuan)"),
    "acceptance_points": ("受理网点数", "acceptance points"),
    "runs_campaign": ("开展营销活动", "runs a campaign"),
    "campaign_budget_yuan": ("活动预算（元）", "campaign budget (yuan)"),
    "campaign_start_date": ("活动开始日期", "campaign start"),
    "campaign_end_date": ("活动结束日期", "campaign end"),
    # the test plan
    "objectives": ("测试目标", "objectives"),
    "kpis": ("KPI", "KPIs"),
    "reporting_cadence_days": ("报告周期（天）", "reporting cadence (days)"),
    "transactions_target": ("交易笔数目标", "transactions target"),
    "wallets_opened_target": ("开立钱包目标", "wallets opened target"),
    "merchants_live_target": ("上线商户目标", "merchants live target"),
    "trades_target": ("成交笔数目标", "trades target"),
    "buyers_target": ("买方数目标", "buyers target"),
    # the data product
    "classification": ("数据分类", "classification"),
    "grade": ("数据分级", "grade"),
    "personal_information": ("个人信息", "personal information"),
    "use_scenarios": ("应用场景", "use scenarios"),
    "product_type": ("产品形态", "product type"),
    "description": ("产品描述", "description"),
    "update_frequency": ("更新频率", "update frequency"),
    "delivery_method": ("交付方式", "delivery method"),
    "public_data": ("公共数据", "public data"),
    "balance_sheet_recognition": ("数据资产入表", "balance-sheet recognition"),
    "accounting_class": ("会计科目", "accounting class"),
    "pledged": ("质押", "pledged"),
    "pledge_registration_no": ("质押登记号", "pledge registration no."),
    "existing_pledge": ("既有质押", "existing pledge"),
}


def _words(key: str) -> str:
    """A key no table names, as words (``tier_1`` reads ``tier 1``)."""
    return key.replace("_", " ").strip() or key


def field_label(path: str) -> tuple[str, str]:
    """A declared field's name in Chinese and English, never its key: ``pilot_area`` is
    试点地区 / pilot area; a path names each part (``boundaries.pilot_area`` is
    测试边界·试点地区 / test boundaries › pilot area, ``wallet_limits.tier_1`` is wallet limits ›
    tier 1); a key no table holds reads as its words."""
    parts = [FIELD_LABELS.get(key) or VALUE_LABELS.get(key) or (_words(key), _words(key)) for key in path.split(".")]
    return "·".join(zh for zh, _ in parts), " › ".join(en for _, en in parts)


def value_label(value: str) -> tuple[str, str]:
    """A value of a closed list (a document kind, an allowed value) in Chinese and English; a
    value not listed is shown as it was given."""
    return VALUE_LABELS.get(value, (value, value))


def listed(labels: list[tuple[str, str]]) -> tuple[str, str]:
    """Several names as one phrase in each language (``试点地区、钱包等级`` / ``pilot area, wallet tier``)."""
    return "、".join(zh for zh, _ in labels), ", ".join(en for _, en in labels)


def fields_listed(paths: list[str]) -> tuple[str, str]:
    """Several declared fields by their names (:func:`field_label`), each named once."""
    return listed([field_label(path) for path in dict.fromkeys(paths)])


def _event_labels() -> dict[str, tuple[str, str]]:
    """Each event type's name in both languages, checked whole: an event type added without its
    name stops the registry from starting (:func:`schemas.tables.every_kind`)."""
    by_type: dict[type, tuple[str, str]] = {
        ev.ProgramVersionPublished: ("发布项目规则版本", "program version published"),
        ev.ReferenceDataUpdated: ("更新参考数据", "reference data updated"),
        ev.DraftCreated: ("创建申请草稿", "draft created"),
        ev.DraftEdited: ("编辑申请草稿", "draft edited"),
        ev.PartnerAdded: ("增加合作机构", "partner added"),
        ev.PartnerWithdrawn: ("合作机构退出", "partner withdrawn"),
        ev.DocumentAttached: ("上传材料", "document attached"),
        ev.AttestationMade: ("作出承诺", "attestation made"),
        ev.ApplicationSubmitted: ("提交申请", "application submitted"),
        ev.ApplicationWithdrawn: ("撤回申请", "application withdrawn"),
        ev.IntakeAccepted: ("受理申请", "application accepted for assessment"),
        ev.InformationRequested: ("要求补正材料", "information requested"),
        ev.InformationSupplied: ("补正材料", "information supplied"),
        ev.CaseOfficerAssigned: ("指定经办人", "case officer assigned"),
        ev.AssessmentFiled: ("提交评估意见", "assessment filed"),
        ev.PublicNoticeOpened: ("开始公示", "public notice opened"),
        ev.CommentReceived: ("收到公示意见", "comment received"),
        ev.ObjectionFiled: ("收到异议", "objection filed"),
        ev.ObjectionDisposed: ("处理异议", "objection disposed"),
        ev.PublicNoticeClosed: ("公示结束", "public notice closed"),
        ev.RecommendationMade: ("提出审批建议", "recommendation made"),
        ev.DecisionApproved: ("审批同意", "decision approved"),
        ev.ConditionWaived: ("豁免条件", "condition waived"),
        ev.ProjectAdmitted: ("准入测试", "project admitted"),
        ev.ApplicationRejected: ("不予准入", "application rejected"),
        ev.ProjectGraduated: ("测试完成转正", "project graduated"),
        ev.TestStarted: ("开始测试", "test started"),
        ev.MetricsReported: ("报送测试数据", "metrics reported"),
        ev.IncidentReported: ("报告事件", "incident reported"),
        ev.IncidentRemediated: ("事件整改完成", "incident remediated"),
        ev.IncidentReclassified: ("事件重新定级", "incident reclassified"),
        ev.ComplaintLogged: ("登记投诉", "complaint logged"),
        ev.ExtensionRequested: ("申请延期", "extension requested"),
        ev.ExtensionGranted: ("同意延期", "extension granted"),
        ev.ExtensionRefused: ("不同意延期", "extension refused"),
        ev.ThresholdBreached: ("触发阈值", "threshold breached"),
        ev.BreachDispositionProposed: ("提出违规处置意见", "breach disposition proposed"),
        ev.BreachDisposed: ("违规处置完成", "breach disposed"),
        ev.WarningIssued: ("发出预警", "warning issued"),
        ev.ProjectSuspended: ("暂停测试", "project suspended"),
        ev.ProjectReinstated: ("恢复测试", "project reinstated"),
        ev.ReportOverdue: ("报送逾期", "report overdue"),
        ev.TestPeriodEnded: ("测试期届满", "test period ended"),
        ev.ExtensionDeadlinePassed: ("延期申请期限已过", "extension deadline passed"),
        ev.DormancyDetected: ("发现长期无活动", "dormancy detected"),
        ev.FinalReportSubmitted: ("提交测试总结报告", "final report submitted"),
        ev.FinalReportAccepted: ("接受测试总结报告", "final report accepted"),
        ev.ExitInitiated: ("启动退出", "exit initiated"),
        ev.ExitConfirmed: ("确认退出", "exit confirmed"),
        ev.ProjectTerminated: ("终止测试", "project terminated"),
        ev.ProjectRevoked: ("撤销准入", "admission revoked"),
        ev.ExternalFactRecorded: ("记录外部事实", "external fact recorded"),
        ev.PledgeRegistered: ("质押登记", "pledge registered"),
        ev.PledgeReleased: ("解除质押", "pledge released"),
        ev.PledgeRealised: ("质权实现", "pledge realised"),
        ev.ChangeRegistered: ("变更登记", "change registered"),
    }
    return {kind.__name__: label for kind, label in every_kind(by_type, ev.ALL_EVENTS, "name").items()}


#: event type (its class name, as stored) -> (Chinese, English)
EVENT_LABELS: dict[str, tuple[str, str]] = _event_labels()
