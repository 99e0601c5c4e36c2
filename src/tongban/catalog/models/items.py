"""The base catalog (基本目录): one definition of each item, identical in every region."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models.choices import Audience, ExerciseLevel, ItemType


class Theme(models.Model):
    """A theme people browse by (生育、入学、开办企业 …), separate for persons and companies."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    audience = models.CharField(
        _("面向"),
        max_length=1,
        choices=[(Audience.PERSON, _("个人")), (Audience.ENTERPRISE, _("法人"))],
    )
    icon = models.CharField(_("图标"), max_length=8, blank=True, help_text=_("一个表情符号或字符"))
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("服务主题")
        verbose_name_plural = _("服务主题")
        ordering = ["audience", "order", "code"]

    def __str__(self) -> str:
        return self.name


class PowerListEntry(models.Model):
    """权责清单 entry; linked to items one-to-one, one-to-many or many-to-one (seed 001 row 9)."""

    code = models.CharField(_("权责编码"), max_length=50, unique=True)
    name = models.CharField(_("权责事项名称"), max_length=200)
    item_type = models.CharField(_("权力类型"), max_length=2, choices=ItemType.choices)
    department = models.CharField(_("责任部门"), max_length=200, blank=True)
    basis = models.TextField(_("设定依据"), blank=True)
    url = models.URLField(_("公开页面"), blank=True)

    class Meta:
        verbose_name = _("权责清单事项")
        verbose_name_plural = _("权责清单事项")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Item(models.Model):
    """政务服务事项 (基本目录).

    Name, code, basis and type are defined here once and hold in every region (seed 001 row 10).
    """

    code = models.CharField(_("基本编码"), max_length=24, unique=True)
    national_code = models.CharField(_("国家基本编码"), max_length=24, blank=True)
    name = models.CharField(_("事项名称"), max_length=200)
    item_type = models.CharField(
        _("事项类型"), max_length=2, choices=ItemType.choices, db_index=True
    )
    legal_basis = models.TextField(_("设定依据"))
    level = models.CharField(_("行使层级"), max_length=1, choices=ExerciseLevel.choices)
    audiences = models.CharField(
        _("服务对象"), max_length=20, help_text=_("服务对象代码，多个以逗号分隔，如“1,2”")
    )
    themes = models.ManyToManyField(
        Theme, verbose_name=_("服务主题"), blank=True, related_name="items"
    )
    power_entries = models.ManyToManyField(
        PowerListEntry, verbose_name=_("权责清单"), blank=True, related_name="items"
    )
    keywords = models.CharField(_("关键词"), max_length=200, blank=True, help_text=_("以空格分隔"))
    description = models.TextField(_("事项简介"), blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    popularity = models.PositiveIntegerField(_("热度"), default=0, db_index=True)
    # Tokens for full-text search (jieba words, pinyin, initials), maintained by catalog.search.
    search_document = models.TextField(_("检索词"), blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("政务服务事项")
        verbose_name_plural = _("政务服务事项")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def audience_list(self) -> list[str]:
        return [a for a in self.audiences.split(",") if a]

    def get_audiences_display(self) -> str:
        labels = dict(Audience.choices)
        return "、".join(str(labels.get(a, a)) for a in self.audience_list)


class ItemTranslation(models.Model):
    """An item's name and description in another language (catalog content carries its own)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("语言"), max_length=10)
    name = models.CharField(_("事项名称"), max_length=300)
    description = models.TextField(_("事项简介"), blank=True)

    class Meta:
        verbose_name = _("事项译文")
        verbose_name_plural = _("事项译文")
        constraints = [
            models.UniqueConstraint(fields=["item", "language"], name="uniq_item_language")
        ]

    def __str__(self) -> str:
        return f"{self.language}: {self.name}"


class Synonym(models.Model):
    """Words people type for a service (结婚 → 婚姻登记), maintained by operators."""

    term = models.CharField(_("用户用语"), max_length=50, unique=True)
    expansions = models.CharField(_("对应检索词"), max_length=200, help_text=_("以空格分隔"))

    class Meta:
        verbose_name = _("同义词")
        verbose_name_plural = _("同义词")
        ordering = ["term"]

    def __str__(self) -> str:
        return f"{self.term} → {self.expansions}"
