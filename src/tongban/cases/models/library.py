"""What an applicant keeps between cases: drafts and the materials library (材料库)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.cases.models.cases import _private
from tongban.core.personal import EncryptedTextField


class LibraryFile(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("所有人"),
        on_delete=models.CASCADE,
        related_name="library_files",
    )
    title = models.CharField(_("材料名称"), max_length=200)
    name = models.CharField(_("文件名"), max_length=200)
    file = models.FileField(_("文件"), storage=_private, upload_to="library/%Y/%m/")
    sm3 = models.CharField(_("SM3摘要"), max_length=64)
    size = models.PositiveIntegerField(_("大小"))
    content_type = models.CharField(_("文件类型"), max_length=80)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("材料库文件")
        verbose_name_plural = _("材料库文件")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "sm3"], name="library_owner_digest"),
        ]

    def __str__(self) -> str:
        return self.title


class Draft(models.Model):
    """An application being filled in; saved as the applicant types, resumed on any device."""

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_drafts"
    )
    company = models.ForeignKey(
        "accounts.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # "person" or "company:<id>": one draft per applicant, acting party and implementation.
    acting_key = models.CharField(max_length=30)
    implementation = models.ForeignKey(
        "catalog.Implementation", on_delete=models.CASCADE, related_name="+"
    )
    form_data = EncryptedTextField(_("表单数据"), purpose="case.draft", blank=True)
    answers = models.JSONField(default=list, blank=True)
    materials = models.JSONField(
        default=dict, blank=True, help_text="{material id: [library file id, …]}"
    )
    commitments = models.JSONField(default=list, blank=True)
    licenses = models.JSONField(
        default=dict, blank=True, help_text="{material id: license id} (用证, with consent)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("草稿")
        verbose_name_plural = _("草稿")
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "acting_key", "implementation"], name="draft_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.applicant_id} {self.acting_key} {self.implementation_id}"
