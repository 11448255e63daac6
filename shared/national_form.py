"""The national system's form (LEDGERS.md): how warnex's measure categories
fill its 帮扶措施 columns, for the ledgers that staff key into it."""

from __future__ import annotations

# The national form's 帮扶措施 columns (LEDGERS.md), in its order; the last
# three have no warnex measure yet.
NATIONAL_MEASURE_COLUMNS = (
    "产业帮扶",
    "就业帮扶",
    "金融帮扶",
    "公益岗位帮扶",
    "健康帮扶",
    "义务教育保障",
    "其他教育帮扶",
    "综合保障",
    "住房安全保障",
    "饮水安全保障",
    "社会帮扶",
    "搬迁",
    "生产生活条件改善",
    "基础设施建设",
)

# A measure category's national column; education aid goes by school stage.
NATIONAL_MEASURE_CATEGORY: dict[str, str] = {
    "industry": "产业帮扶",
    "microcredit": "金融帮扶",
    "employment": "就业帮扶",
    "skills_training": "就业帮扶",
    "public_welfare_job": "公益岗位帮扶",
    "insurance_subsidy": "健康帮扶",
    "medical_assistance": "健康帮扶",
    "education_aid": "其他教育帮扶",
    "dibao": "综合保障",
    "tekun": "综合保障",
    "temporary_assistance": "综合保障",
    "housing_renovation": "住房安全保障",
    "drinking_water": "饮水安全保障",
    "anti_poverty_insurance": "社会帮扶",
}


def national_measure_category(code: str, *, compulsory_pupil: bool) -> str:
    """The national column of a measure category. warnex records no school
    stage on a measure: education aid counts as 义务教育保障 when the household
    has a member in school of compulsory-school age (6 to 15), else 其他教育帮扶."""
    if code == "education_aid" and compulsory_pupil:
        return "义务教育保障"
    return NATIONAL_MEASURE_CATEGORY[code]
