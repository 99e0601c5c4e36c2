"""Code lists of the catalog (GB/T 39046 Appendix A and seed 001 attachment 1)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.calendar import Unit


class ItemType(models.TextChoices):
    """事项类型 (GB/T 39046 A.1). Codes are strings."""

    LICENSING = "01", _("行政许可")
    PENALTY = "02", _("行政处罚")
    ENFORCEMENT = "03", _("行政强制")
    LEVY = "04", _("行政征收")
    BENEFIT = "05", _("行政给付")
    INSPECTION = "06", _("行政检查")
    CONFIRMATION = "07", _("行政确认")
    REWARD = "08", _("行政奖励")
    ADJUDICATION = "09", _("行政裁决")
    OTHER_POWER = "10", _("其他行政权力")
    INTERNAL_APPROVAL = "11", _("政府内部审批")
    PUBLIC_SERVICE = "20", _("公共服务")


# The six on-application power types of seed 001 row 7 (依申请六类行政权力事项).
ON_APPLICATION_POWER_TYPES = frozenset(
    {
        ItemType.LICENSING,
        ItemType.BENEFIT,
        ItemType.CONFIRMATION,
        ItemType.REWARD,
        ItemType.ADJUDICATION,
        ItemType.OTHER_POWER,
    }
)


class ExerciseLevel(models.TextChoices):
    """行使层级 (GB/T 39046 A.2)."""

    NATIONAL = "1", _("国家级")
    PROVINCIAL = "2", _("省级")
    CITY = "3", _("市级")
    COUNTY = "4", _("县级")
    TOWNSHIP = "5", _("镇（乡、街道）级")
    VILLAGE = "6", _("村（社区）级")
    TIERED = "7", _("分级管理")


class Audience(models.TextChoices):
    """服务对象 (GB/T 39046 A.4)."""

    PERSON = "1", _("自然人")
    ENTERPRISE = "2", _("企业法人")
    INSTITUTION = "3", _("事业法人")
    SOCIAL_ORG = "4", _("社会组织法人")
    ORGAN = "5", _("行政机关")
    OTHER = "6", _("其他组织")


# The unit of a time limit (工作日 / 自然日): one enum, owned by the working-day calendar.
TimeUnit = Unit


class OnlineDepth(models.IntegerChoices):
    """网上办理深度 Ⅰ–Ⅳ (seed 001 attachment 1, rows 3–6)."""

    PUBLISHED = 1, _("Ⅰ级 信息发布")
    PREREVIEW = 2, _("Ⅱ级 材料预审")
    VERIFIED = 3, _("Ⅲ级 材料核验")
    FULLY_ONLINE = 4, _("Ⅳ级 全程网办")


# The largest number of on-site visits each depth allows (seed 001 rows 4–6). Depth I has none.
MAX_VISITS_FOR_DEPTH = {
    OnlineDepth.PREREVIEW: 2,
    OnlineDepth.VERIFIED: 1,
    OnlineDepth.FULLY_ONLINE: 0,
}


class CrossAreaScope(models.TextChoices):
    """通办范围."""

    NONE = "", _("不通办")
    NATIONAL = "national", _("全国通办")
    CROSS_PROVINCE = "province", _("跨省通办")
    CROSS_CITY = "city", _("跨市通办")
    CROSS_COUNTY = "county", _("跨县通办")


class ImplementationStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("在用")
    SUSPENDED = "suspended", _("暂停")
    RETIRED = "retired", _("已废止")


class MaterialSource(models.TextChoices):
    """来源渠道."""

    APPLICANT = "applicant", _("申请人自备")
    GOVERNMENT = "government", _("政府部门核发")
    LICENSE = "license", _("电子证照库调取")
    ONLINE_FORM = "online_form", _("在线填报")
    OTHER = "other", _("其他")


class MaterialForm(models.TextChoices):
    """材料类型 (seed 001 row 20)."""

    ORIGINAL = "original", _("原件")
    COPY = "copy", _("复印件")
    BOTH = "both", _("原件和复印件")


class MaterialMedium(models.TextChoices):
    """材料形式 (seed 001 row 20)."""

    PAPER = "paper", _("纸质")
    ELECTRONIC = "electronic", _("电子")
    BOTH = "both", _("纸质和电子")


class Necessity(models.TextChoices):
    REQUIRED = "required", _("必要")
    OPTIONAL = "optional", _("非必要")
    DEFERRABLE = "deferrable", _("容缺后补")
    EXEMPT = "exempt", _("信息免交")
