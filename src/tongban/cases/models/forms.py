"""Application forms as data: a shared data dictionary (数据元) and each implementation's fields.

A field drawn from the dictionary keeps the dictionary's key, so one answer fills every form that
uses it (一套表单); an implementation adds its own fields with keys of its own. A field may apply
only when an answer to the guide's situations (情形) was chosen.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FieldKind(models.TextChoices):
    TEXT = "text", _("文本")
    LONG_TEXT = "long_text", _("多行文本")
    NUMBER = "number", _("数字")
    DATE = "date", _("日期")
    CHOICE = "choice", _("选项")
    REGION = "region", _("行政区划")
    ADDRESS = "address", _("地址")
    ID_NUMBER = "id_number", _("身份证号码")
    USCC = "uscc", _("统一社会信用代码")
    PHONE = "phone", _("手机号码")
    FILE = "file", _("附件")


class ProfileSource(models.TextChoices):
    """Where a prefilled value comes from (the applicant never types what is known)."""

    NONE = "", _("不预填")
    PERSON_NAME = "person.name", _("申请人姓名")
    PERSON_ID_NUMBER = "person.id_number", _("申请人身份证号码")
    PERSON_PHONE = "person.phone", _("申请人手机号码")
    COMPANY_NAME = "company.name", _("企业名称")
    COMPANY_USCC = "company.uscc", _("统一社会信用代码")
    COMPANY_LEGAL_REP = "company.legal_rep", _("法定代表人")
    COMPANY_REGION = "company.region", _("企业所在区划")


class DataElement(models.Model):
    key = models.CharField(
        _("数据项标识"),
        max_length=60,
        unique=True,
        help_text=_("如 applicant.name、company.uscc、property.address"),
    )
    label = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=12, choices=FieldKind.choices)
    rules = models.JSONField(
        _("校验规则"),
        default=dict,
        blank=True,
        help_text=_("min_length、max_length、pattern、min、max、pattern_message"),
    )
    choices = models.JSONField(_("可选值"), default=list, blank=True)
    profile_source = models.CharField(
        _("预填来源"), max_length=30, choices=ProfileSource.choices, blank=True
    )
    personal = models.BooleanField(
        _("个人信息"), default=False, help_text=_("页面与日志中脱敏显示")
    )
    help_text = models.CharField(_("填写说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("数据元")
        verbose_name_plural = _("数据元")
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.label}（{self.key}）"


class FormField(models.Model):
    implementation = models.ForeignKey(
        "catalog.Implementation",
        verbose_name=_("实施清单"),
        on_delete=models.CASCADE,
        related_name="form_fields",
    )
    element = models.ForeignKey(
        DataElement,
        verbose_name=_("数据元"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="form_fields",
    )
    # Own fields only; a field drawn from the dictionary takes these from its element.
    key = models.CharField(_("字段标识"), max_length=60, blank=True)
    label = models.CharField(_("名称"), max_length=60, blank=True)
    kind = models.CharField(_("类型"), max_length=12, choices=FieldKind.choices, blank=True)
    rules = models.JSONField(_("校验规则"), default=dict, blank=True)
    choices = models.JSONField(_("可选值"), default=list, blank=True)
    required = models.BooleanField(_("必填"), default=True)
    condition = models.ForeignKey(
        "catalog.SituationOption",
        verbose_name=_("适用情形"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="form_fields",
        help_text=_("仅当申请人选择该情形时填写"),
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("表单字段")
        verbose_name_plural = _("表单字段")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(element__isnull=False)
                | (~models.Q(key="") & ~models.Q(label="") & ~models.Q(kind="")),
                name="form_field_element_or_own",
            ),
        ]

    def __str__(self) -> str:
        return self.label or (self.element.label if self.element_id else self.key)
