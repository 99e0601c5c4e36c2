"""Organizations (部门 / 实施主体): government departments and public service units."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.identifiers import uscc_validator


class OrganizationKind(models.TextChoices):
    ORGAN = "organ", _("行政机关")
    AUTHORIZED = "authorized", _("法律法规授权组织")
    ENTRUSTED = "entrusted", _("受委托组织")
    PUBLIC_SERVICE = "public_service", _("公共服务单位")


class UtilitySector(models.TextChoices):
    NONE = "", _("无")
    WATER = "water", _("供水")
    POWER = "power", _("供电")
    GAS = "gas", _("供气")
    HEATING = "heating", _("供热")
    TRANSPORT = "transport", _("交通")
    TELECOM = "telecom", _("通信")


class Organization(models.Model):
    name = models.CharField(_("名称"), max_length=200)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[uscc_validator]
    )
    kind = models.CharField(_("性质"), max_length=20, choices=OrganizationKind.choices)
    sector = models.CharField(
        _("公共服务行业"), max_length=20, choices=UtilitySector.choices, blank=True
    )
    region = models.ForeignKey(
        "core.Region",
        verbose_name=_("所属区划"),
        on_delete=models.PROTECT,
        related_name="organizations",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    phone = models.CharField(_("联系电话"), max_length=50, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["region__code", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.kind != OrganizationKind.PUBLIC_SERVICE and self.sector:
            raise ValidationError({"sector": _("只有公共服务单位可以填写公共服务行业")})
