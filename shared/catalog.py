"""The fixed codes of SPEC.md with their Chinese labels: departments, warning
types, monitoring types, risk types, measure categories. Cadences and figures
are policy (shared/policy.py), not catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class WarningType:
    """A warning type and every rule that depends on it: the one place a
    service asks what a type needs, rather than comparing its code."""

    code: str
    label: str
    department: str
    # periodic: pushed on a cadence, zero reports count; event: pushed within days of an event
    kind: Literal["periodic", "event"]
    # Record fields this type requires besides those every record carries.
    requires: tuple[str, ...] = ()
    # A record's timeliness is checked against its event_date (SPEC §3): one
    # that arrives more than the policy's late_record_days after it is late.
    event_dated: bool = False
    # A sudden risk (突发): its case may take the green channel (绿色通道, SPEC §4).
    sudden: bool = False
    # "medical_expense": a record whose amount_yuan is at or under the year's
    # medical-expense threshold (policy figures: general, or alleviated for a
    # poverty-alleviated or monitored household) is below_threshold, not a clue.
    threshold: Literal["medical_expense"] | None = None


DEPARTMENTS: dict[str, str] = {
    "medical_insurance": "医疗保障局",
    "civil_affairs": "民政局",
    "housing": "住房和城乡建设局",
    "water": "水利局",
    "human_resources": "人力资源和社会保障局",
    "health": "卫生健康局",
    "disabled_persons_federation": "残疾人联合会",
    "emergency_management": "应急管理局",
    "education": "教育局",
    "agriculture": "农业农村局",
}

_EVENT = ("event_date",)

WARNING_TYPES: dict[str, WarningType] = {
    t.code: t
    for t in (
        WarningType(
            "high_medical_expense",
            "医疗费用负担过高",
            "medical_insurance",
            "periodic",
            requires=("amount_yuan",),
            threshold="medical_expense",
        ),
        WarningType("dibao", "新纳入或申请低保", "civil_affairs", "periodic"),
        WarningType("tekun", "特困供养", "civil_affairs", "periodic"),
        WarningType("temporary_assistance", "临时救助", "civil_affairs", "periodic"),
        WarningType("lonely_elderly", "鳏寡孤独", "civil_affairs", "periodic"),
        WarningType("left_behind_child", "留守困境儿童", "civil_affairs", "periodic"),
        WarningType("unsafe_housing", "住房安全", "housing", "periodic"),
        WarningType("unsafe_drinking_water", "饮水安全", "water", "periodic"),
        WarningType("unemployment", "失业", "human_resources", "periodic"),
        WarningType("unstable_employment", "就业不稳", "human_resources", "periodic"),
        WarningType("serious_illness", "新增大病患者", "health", "periodic", sudden=True),
        WarningType(
            "epidemic_impact",
            "因疫",
            "health",
            "event",
            requires=_EVENT,
            event_dated=True,
            sudden=True,
        ),
        WarningType("severe_disability", "重度残疾", "disabled_persons_federation", "periodic"),
        WarningType(
            "disaster",
            "因灾",
            "emergency_management",
            "event",
            requires=_EVENT,
            event_dated=True,
            sudden=True,
        ),
        WarningType(
            "school_dropout", "失学辍学", "education", "event", requires=_EVENT, event_dated=True
        ),
        # Pushed as found, 1 Sep - 31 Oct: no 7-day timeliness rule (SPEC §3).
        WarningType(
            "poor_new_university_student",
            "家庭经济特别困难大学新生",
            "education",
            "event",
            requires=_EVENT,
        ),
        WarningType(
            "industry_risk", "产业风险", "agriculture", "event", requires=_EVENT, event_dated=True
        ),
    )
}

# The codes of the types with one rule, read off the entries above.
EVENT_DATED_TYPES = frozenset(t.code for t in WARNING_TYPES.values() if t.event_dated)
SUDDEN_WARNING_TYPES = frozenset(t.code for t in WARNING_TYPES.values() if t.sudden)
THRESHOLD_TYPES = frozenset(t.code for t in WARNING_TYPES.values() if t.threshold)

# Sudden risks (突发) of a manual case's risk types open the green channel too.
SUDDEN_RISK_TYPES = frozenset({"disaster", "epidemic", "accident", "illness"})

MONITORING_TYPES: dict[str, str] = {
    "unstable_alleviated": "脱贫不稳定户",
    "marginal": "边缘易致贫户",
    "sudden_hardship": "突发严重困难户",
}

RISK_TYPES: dict[str, str] = {
    "illness": "因病",
    "disability": "因残",
    "schooling": "因学",
    "disaster": "因灾",
    "accident": "因意外事故",
    "epidemic": "因疫",
    "lack_of_labour": "缺劳动力",
    "lack_of_skills": "缺技术",
    "lack_of_funds": "缺资金",
    "industry_failure": "产业项目失败",
    "unstable_employment": "务工就业不稳",
    "housing": "住房安全",
    "drinking_water": "饮水安全",
    "other": "其他",
}

OBJECT_STATUSES: dict[str, str] = {
    "risk_not_eliminated": "风险未消除",
    "risk_eliminated": "风险已消除",
    "removed": "已清退",
}

# Which household category each monitoring type fits (SPEC §4).
MONITORING_TYPE_CATEGORY: dict[str, str] = {
    "unstable_alleviated": "poverty_alleviated",
    "marginal": "general",
    "sudden_hardship": "general",
}

CASE_SOURCES: dict[str, str] = {
    "department_warning": "部门筛查预警",
    "self_report": "农户自主申报",
    "cadre_screening": "乡村干部排查",
}

CASE_STEPS: dict[str, str] = {
    "household_visit": "入户核查",
    "village_review": "村级民主评议和公示",
    "township_review": "乡镇审核",
    "county_approval": "县级比对审定",
}

CASE_OUTCOMES: dict[str, str] = {
    "included": "纳入监测对象",
    "not_included": "不纳入（跟踪关注）",
    "not_eligible": "核查不符合",
    "risk_updated": "更新风险",
}


@dataclass(frozen=True, slots=True)
class MeasureCategory:
    code: str
    label: str
    group: Literal[
        "development", "safety_net", "health", "education", "housing", "water", "insurance"
    ]
    department: str  # the department usually responsible

    @property
    def development(self) -> bool:
        """开发式帮扶: what a household able to work must have (no 一兜了之)."""
        return self.group == "development"


MEASURE_CATEGORIES: dict[str, MeasureCategory] = {
    m.code: m
    for m in (
        MeasureCategory("industry", "产业帮扶", "development", "agriculture"),
        MeasureCategory("employment", "就业帮扶", "development", "human_resources"),
        MeasureCategory("public_welfare_job", "公益岗位", "development", "human_resources"),
        MeasureCategory("microcredit", "小额信贷", "development", "agriculture"),
        MeasureCategory("skills_training", "技能培训", "development", "human_resources"),
        MeasureCategory("dibao", "低保", "safety_net", "civil_affairs"),
        MeasureCategory("tekun", "特困供养", "safety_net", "civil_affairs"),
        MeasureCategory("temporary_assistance", "临时救助", "safety_net", "civil_affairs"),
        MeasureCategory("insurance_subsidy", "医保参保资助", "health", "medical_insurance"),
        MeasureCategory("medical_assistance", "医疗救助", "health", "medical_insurance"),
        MeasureCategory("education_aid", "教育资助", "education", "education"),
        MeasureCategory("housing_renovation", "危房改造", "housing", "housing"),
        MeasureCategory("drinking_water", "饮水保障", "water", "water"),
        MeasureCategory("anti_poverty_insurance", "防贫保", "insurance", "agriculture"),
    )
}

MEASURE_STATUSES: dict[str, str] = {
    "planned": "计划",
    "in_progress": "实施中",
    "completed": "已完成",
    "cancelled": "已取消",
}

HOUSEHOLD_CATEGORIES: dict[str, str] = {
    "general": "一般农户",
    "poverty_alleviated": "脱贫户",
}

LABOUR_CAPACITIES: dict[str, str] = {
    "full": "有劳动能力",
    "weak": "弱劳动力",
    "partial": "半劳动力",
    "none": "无劳动能力",
}

REGION_LEVEL_LABELS: dict[str, str] = {
    "province": "省",
    "city": "市",
    "county": "县",
    "town": "乡镇",
    "village": "村",
}

# A periodic feed's state (API.md feeds).
FEED_STATE_LABELS: dict[str, str] = {
    "on_time": "按时",
    "due_soon": "即将到期",
    "late": "逾期未推送",
    "never_pushed": "从未推送",
}

RELATIONS: dict[str, str] = {
    "head": "户主",
    "spouse": "配偶",
    "child": "子女",
    "parent": "父母",
    "grandchild": "孙子女",
    "sibling": "兄弟姐妹",
    "other": "其他",
}


def types_of(department: str) -> list[WarningType]:
    """The warning types a department may push."""
    return [t for t in WARNING_TYPES.values() if t.department == department]


# The village screening form (集中排查入户摸排表, Shenmu 2022), one code list per
# field of a screening record (SPEC §11).
SCREENING_FIELDS: dict[str, dict[str, str]] = {
    "residence": {
        "in_village": "本村居住",
        "in_town": "本镇其他村居住",
        "county_seat": "县城居住",
        "other_town": "县内其他乡镇居住",
        "outside_county": "县外居住",
    },
    "housing": {
        "unsafe": "住房不安全",
        "own_safe": "自有住房安全",
        "rented_safe": "租住住房安全",
    },
    "schooling": {
        "out_of_school": "有义务教育阶段适龄儿童因贫失学辍学",
        "in_school": "适龄儿童均在校",
        "none": "无义务教育阶段适龄儿童",
    },
    "drinking_water": {
        "unsafe": "饮水不安全",
        "tap_safe": "自来水，饮水安全",
        "own_source_safe": "自有水源，饮水安全",
    },
    "insured": {
        "all": "全部参加基本医疗保险",
        "partly": "部分参保",
        "none": "均未参保",
    },
    "income_band": {
        "below_4000": "4000元以下",
        "from_4000_to_6000": "4000-6000元",
        "from_6000_to_10000": "6000-10000元",
        "above_10000": "10000元以上",
    },
    "civil_affairs_support": {
        "dibao": "低保",
        "tekun": "特困",
        "temporary_assistance": "临时救助",
        "other": "其他",
        "none": "无",
    },
    "needs_inclusion": {
        "yes": "需要纳入监测",
        "unsure": "不确定，待研判",
        "no": "不需要纳入",
    },
}

# The upper end (yuan, exclusive) of each income band; a band whose upper end is
# at or under the year's monitoring line lies wholly under it.
INCOME_BAND_UPPER_YUAN: dict[str, int | None] = {
    "below_4000": 4000,
    "from_4000_to_6000": 6000,
    "from_6000_to_10000": 10000,
    "above_10000": None,
}

# Civil-affairs support that a household outside monitoring should not get
# unnoticed (体外循环).
OFF_SYSTEM_SUPPORT = frozenset({"dibao", "tekun", "temporary_assistance"})

# Key areas a screening campaign covers first (SPEC §12, Zhanggong): a region's
# optional `attributes` in a regions load.
REGION_ATTRIBUTES: dict[str, str] = {
    "key_village": "乡村振兴重点帮扶村",
    "resettlement_site": "易地搬迁安置点",
    "abandoned_mine": "废弃矿山区域",
}

SPOT_CHECK_KINDS: dict[str, str] = {
    "cross": "交叉排查",
    "spot": "暗访抽查",
}

# The problem ledger's types (问题台账, the Shenmu list).
PROBLEM_TYPES: dict[str, str] = {
    "guarantees_water": "“三保障”和饮水安全问题",
    "policy_not_delivered": "帮扶政策落实不到位",
    "income_not_stable": "收入不稳定未持续超过监测线",
    "should_include_off_system": "应纳未纳、体外循环",
    "grid_worker_management": "网格员管理和常态化排查",
    "data_quality": "数据质量问题",
    "petitions_opinion": "信访舆情",
    "other": "其他",
}

PROBLEM_STATUSES: dict[str, str] = {
    "open": "未整改",
    "rectified": "已整改",
}

# The campaign phases of the Meixian 2022 plan, in order; a campaign may name
# its own phases, and these kinds let warnex tell when one is done.
CAMPAIGN_PHASE_KINDS: dict[str, str] = {
    "mobilisation": "动员部署",
    "household_screening": "入户排查",
    "cross_screening": "交叉排查",
    "spot_check": "暗访抽查",
    "data_entry": "数据录入",
    "summary": "总结报告",
}
