"""Implementations (实施清单): an item as one organization carries it out in one region."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models.choices import (
    CrossAreaScope,
    ImplementationStatus,
    OnlineDepth,
    TimeUnit,
)
from tongban.core.levels import REQUIRABLE_LEVELS, VerificationLevel


class Implementation(models.Model):
    item = models.ForeignKey(
        "catalog.Item",
        verbose_name=_("事项"),
        on_delete=models.PROTECT,
        related_name="implementations",
    )
    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("实施主体"),
        on_delete=models.PROTECT,
        related_name="implementations",
    )
    region = models.ForeignKey(
        "core.Region",
        verbose_name=_("实施区划"),
        on_delete=models.PROTECT,
        related_name="implementations",
    )
    # Denormalized from region for index-backed prefix filters (a branch portal and its children).
    region_code = models.CharField(_("区划代码"), max_length=12, editable=False)
    code = models.CharField(_("实施编码"), max_length=36, unique=True)
    handling_code = models.CharField(_("业务办理项编码"), max_length=60, blank=True)
    handling_unit = models.CharField(_("承办机构"), max_length=200, blank=True)
    joint_departments = models.CharField(_("共同实施部门"), max_length=300, blank=True)

    # Time limits (seed 001 rows 1, 12, 13).
    statutory_limit = models.PositiveIntegerField(_("法定办结时限"))
    statutory_unit = models.CharField(_("法定时限单位"), max_length=10, choices=TimeUnit.choices)
    statutory_note = models.CharField(_("法定时限说明"), max_length=500, blank=True)
    promised_limit = models.PositiveIntegerField(_("承诺办结时限"))
    promised_unit = models.CharField(_("承诺时限单位"), max_length=10, choices=TimeUnit.choices)
    promised_note = models.CharField(_("承诺时限说明"), max_length=500, blank=True)
    is_instant = models.BooleanField(_("即办件"), default=False)

    # Depth and visits (rows 3–6, 22).
    online_depth = models.PositiveSmallIntegerField(_("网上办理深度"), choices=OnlineDepth.choices)
    visits_required = models.PositiveSmallIntegerField(_("到办事现场次数"))
    required_level = models.PositiveSmallIntegerField(
        _("网上办理所需实名认证级别"),
        choices=REQUIRABLE_LEVELS,
        default=VerificationLevel.L2,
        db_default=VerificationLevel.L2,
        help_text=_(
            "申请人网上申请前须达到的认证级别（一般为L2；涉及重大财产、身份的事项可要求L3）"
        ),
    )
    online_url = models.URLField(_("网上办理地址"), blank=True)
    handle_at_window = models.BooleanField(_("窗口办理"), default=True)
    handle_on_pc = models.BooleanField(_("电脑端网上办理"), default=False)
    handle_on_mobile = models.BooleanField(_("移动端网上办理"), default=False)
    handle_by_post = models.BooleanField(_("快递申请"), default=False)

    # Guide text.
    conditions = models.TextField(_("受理条件"))
    quantity_limit = models.CharField(_("数量限制"), max_length=500, blank=True)
    jurisdiction = models.CharField(_("行政管辖"), max_length=500, blank=True)
    cross_area = models.CharField(
        _("通办范围"), max_length=10, choices=CrossAreaScope.choices, blank=True
    )
    result_name = models.CharField(_("结果名称"), max_length=200)
    result_sample = models.FileField(_("结果样本"), upload_to="catalog/results/", blank=True)
    charges_fee = models.BooleanField(_("是否收费"), default=False)
    consultation_phone = models.CharField(_("咨询电话"), max_length=100, blank=True)
    complaint_phone = models.CharField(_("监督投诉电话"), max_length=100, blank=True)
    has_intermediary = models.BooleanField(_("涉及中介服务或特殊环节"), default=False)

    # Channels (预约 / 网上支付 / 物流快递) and delivery.
    supports_appointment = models.BooleanField(_("支持预约"), default=False)
    supports_online_payment = models.BooleanField(_("支持网上支付"), default=False)
    supports_express = models.BooleanField(_("支持物流快递"), default=False)
    deliver_at_window = models.BooleanField(_("窗口领取"), default=True)
    deliver_by_express = models.BooleanField(_("快递送达"), default=False)
    deliver_online = models.BooleanField(_("网上下载"), default=False)

    # Life cycle.
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=ImplementationStatus.choices,
        default=ImplementationStatus.DRAFT,
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    effective_from = models.DateField(_("生效日期"), null=True, blank=True)
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)
    popularity = models.PositiveIntegerField(_("热度"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("实施清单")
        verbose_name_plural = _("实施清单")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["item", "status", "region_code"], name="impl_item_status_region"),
            models.Index(fields=["organization", "status"], name="impl_org_status"),
            models.Index(
                fields=["region_code", "status", "-popularity"], name="impl_region_popular"
            ),
            models.Index(fields=["status", "-popularity"], name="impl_status_popular"),
        ]

    def __str__(self) -> str:
        return f"{self.item.name}（{self.organization.name}）"

    def save(self, *args, **kwargs):
        if self.region_id and (not self.region_code or self._region_changed()):
            self.region_code = self.region.code
        super().save(*args, **kwargs)

    def _region_changed(self) -> bool:
        return self.region.code != self.region_code


class Location(models.Model):
    """办理地点 with street, number, room and window (seed 001 row 14)."""

    implementation = models.ForeignKey(
        Implementation, on_delete=models.CASCADE, related_name="locations"
    )
    name = models.CharField(_("地点名称"), max_length=100, help_text=_("如：东胜区政务服务中心"))
    street = models.CharField(_("街道"), max_length=100)
    number = models.CharField(_("门牌号"), max_length=50)
    room = models.CharField(_("房间号"), max_length=50)
    window = models.CharField(_("窗口号"), max_length=50)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("办理地点")
        verbose_name_plural = _("办理地点")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.name} {self.street}{self.number} {self.room} {self.window}"


class ServiceHours(models.Model):
    """办理时间: a weekday range and a time range (seed 001 row 15)."""

    WEEKDAYS = [
        (1, _("星期一")),
        (2, _("星期二")),
        (3, _("星期三")),
        (4, _("星期四")),
        (5, _("星期五")),
        (6, _("星期六")),
        (7, _("星期日")),
    ]
    implementation = models.ForeignKey(
        Implementation, on_delete=models.CASCADE, related_name="hours"
    )
    weekday_from = models.PositiveSmallIntegerField(_("起始星期"), choices=WEEKDAYS)
    weekday_to = models.PositiveSmallIntegerField(_("结束星期"), choices=WEEKDAYS)
    opens = models.TimeField(_("开始时间"))
    closes = models.TimeField(_("结束时间"))
    note = models.CharField(
        _("说明"), max_length=100, blank=True, help_text=_("如：法定节假日除外")
    )

    class Meta:
        verbose_name = _("办理时间")
        verbose_name_plural = _("办理时间")
        ordering = ["weekday_from", "opens"]

    def __str__(self) -> str:
        days = dict(self.WEEKDAYS)
        span = str(days[self.weekday_from])
        if self.weekday_to != self.weekday_from:
            span = str(_("%(from)s至%(to)s") % {"from": span, "to": days[self.weekday_to]})
        return f"{span} {self.opens:%H:%M}—{self.closes:%H:%M}"


class Intermediary(models.Model):
    """中介服务或特殊环节 with its legal basis (seed 001 row 17)."""

    implementation = models.ForeignKey(
        Implementation, on_delete=models.CASCADE, related_name="intermediaries"
    )
    name = models.CharField(_("名称"), max_length=200)
    basis = models.TextField(_("设定依据"))
    is_special_step = models.BooleanField(_("特殊环节（非中介服务）"), default=False)

    class Meta:
        verbose_name = _("中介服务")
        verbose_name_plural = _("中介服务")

    def __str__(self) -> str:
        return self.name


class Fee(models.Model):
    implementation = models.ForeignKey(
        Implementation, on_delete=models.CASCADE, related_name="fees"
    )
    name = models.CharField(_("收费项目"), max_length=200)
    standard = models.CharField(_("收费标准"), max_length=300)
    basis = models.TextField(_("收费依据"))
    reducible = models.BooleanField(_("允许减免"), default=False)

    class Meta:
        verbose_name = _("收费项目")
        verbose_name_plural = _("收费项目")

    def __str__(self) -> str:
        return self.name


class ProcessStep(models.Model):
    """办理流程 step with its own limit, standard and result (seed 001 row 21)."""

    implementation = models.ForeignKey(
        Implementation, on_delete=models.CASCADE, related_name="steps"
    )
    order = models.PositiveSmallIntegerField(_("序号"))
    name = models.CharField(_("环节名称"), max_length=100)
    actor = models.CharField(_("办理人员"), max_length=100, blank=True)
    time_limit = models.PositiveIntegerField(_("办理时限"))
    time_unit = models.CharField(_("时限单位"), max_length=10, choices=TimeUnit.choices)
    standard = models.TextField(_("审查标准"))
    result = models.CharField(_("办理结果"), max_length=200)

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = _("办理环节")
        ordering = ["order"]
        constraints = [
            models.UniqueConstraint(fields=["implementation", "order"], name="uniq_step_order")
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class Question(models.Model):
    """常见问题."""

    implementation = models.ForeignKey(
        Implementation, on_delete=models.CASCADE, related_name="faqs"
    )
    question = models.CharField(_("问题"), max_length=300)
    answer = models.TextField(_("解答"))
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("常见问题")
        verbose_name_plural = _("常见问题")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.question
