"""Required materials (申请材料) and the situations (情形) that decide which apply."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models.choices import MaterialForm, MaterialMedium, MaterialSource, Necessity


class Situation(models.Model):
    """A question whose answer decides which materials apply (seed 001 row 11)."""

    implementation = models.ForeignKey(
        "catalog.Implementation", on_delete=models.CASCADE, related_name="situations"
    )
    question = models.CharField(_("情形问题"), max_length=200)
    multiple = models.BooleanField(_("可多选"), default=False)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("情形")
        verbose_name_plural = _("情形")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.question


class SituationOption(models.Model):
    situation = models.ForeignKey(Situation, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(_("选项"), max_length=200)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("情形选项")
        verbose_name_plural = _("情形选项")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.situation.question}：{self.label}"


class Material(models.Model):
    implementation = models.ForeignKey(
        "catalog.Implementation", on_delete=models.CASCADE, related_name="materials"
    )
    name = models.CharField(_("材料名称"), max_length=200)
    source = models.CharField(_("来源渠道"), max_length=20, choices=MaterialSource.choices)
    issuer = models.CharField(_("出具单位"), max_length=200, blank=True)
    originals = models.PositiveSmallIntegerField(_("原件份数"), default=0)
    copies = models.PositiveSmallIntegerField(_("复印件份数"), default=0)
    form = models.CharField(_("材料类型"), max_length=10, choices=MaterialForm.choices)
    medium = models.CharField(_("材料形式"), max_length=12, choices=MaterialMedium.choices)
    necessity = models.CharField(_("必要性"), max_length=12, choices=Necessity.choices)
    needs_filling = models.BooleanField(_("需申请人填写的表格"), default=False)
    blank_form = models.FileField(_("空白表格"), upload_to="catalog/forms/", blank=True)
    sample_form = models.FileField(_("示范样表"), upload_to="catalog/samples/", blank=True)
    allows_commitment = models.BooleanField(
        _("可告知承诺"),
        default=False,
        help_text=_("申请人可签署告知承诺书代替提交该证明材料"),
    )
    requirements = models.CharField(_("要求"), max_length=500, blank=True)
    note = models.CharField(_("备注"), max_length=500, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    # The material applies only when, for every situation among these options, one of the
    # options is chosen. No options: it always applies.
    conditions = models.ManyToManyField(
        SituationOption, verbose_name=_("适用情形"), blank=True, related_name="materials"
    )

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name
