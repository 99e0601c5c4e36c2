"""Administrative divisions (行政区划, GB/T 2260 and the 12-digit statistics layout)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, _("省级")
    CITY = 2, _("市级")
    COUNTY = 3, _("县级")
    TOWNSHIP = 4, _("乡级")
    VILLAGE = 5, _("村级")


def region_prefix(code: str) -> str:
    """The significant leading digits of a region code: descendants share this prefix.

    ``150000`` → ``15``, ``150600`` → ``1506``, ``150602`` → ``150602``,
    ``150602001000`` → ``150602001``.
    """
    code = code.strip()
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
        return code
    if len(code) == 12:
        if code.endswith("000000"):
            return region_prefix(code[:6])
        if code.endswith("000"):
            return code[:9]
        return code
    return code


class Region(models.Model):
    """One division. Codes are 6 digits down to county, 9 or 12 below (统计用区划代码)."""

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("级别"), choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    prefix = models.CharField(_("代码前缀"), max_length=12, editable=False, db_index=True)
    edition = models.CharField(_("数据版本"), max_length=40, blank=True)
    valid_from = models.DateField(_("启用日期"), null=True, blank=True)
    valid_to = models.DateField(_("停用日期"), null=True, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def save(self, *args, **kwargs):
        self.prefix = region_prefix(self.code)
        super().save(*args, **kwargs)

    def ancestor_codes(self) -> list[str]:
        """Codes of every ancestor, nearest last, without a query per level."""
        codes: list[str] = []
        code = self.code[:6]
        if self.level >= RegionLevel.CITY:
            codes.append(code[:2] + "0000")
        if self.level >= RegionLevel.COUNTY and not code.endswith("00"):
            codes.append(code[:4] + "00")
        if self.level >= RegionLevel.TOWNSHIP:
            codes.append(code)
        if self.level >= RegionLevel.VILLAGE:
            codes.append(self.code[:9] + "000")
        return [c for c in codes if c != self.code]
