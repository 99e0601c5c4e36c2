"""Machine-readable error codes of the cases domain, each with its Chinese message.

The API answers ``{"code", "message", "field"}`` (plus ``errors`` for a form: every bad field at
once); pages show each message beside its field.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseErrorCode(models.TextChoices):
    # Applying
    INVALID_FORM = "invalid_form", _("申请信息有误，请按提示修改")
    MISSING_MATERIAL = "missing_material", _("请上传全部必要材料")
    FILE_TOO_LARGE = "file_too_large", _("文件过大")
    FILE_TYPE = "file_type", _("文件类型不支持，请上传PDF、JPG、PNG或OFD文件")
    FILE_EMPTY = "file_empty", _("文件为空")
    NOT_ONLINE = "not_online", _("该事项暂不支持网上申请，请到窗口办理")
    LEVEL_TOO_LOW = "level_too_low", _("该事项要求更高的实名认证级别")
    NOT_APPLICANT = "not_applicant", _("只有申请人本人或其授权代理人可以操作")
    COMMITMENT_NOT_ALLOWED = "commitment_not_allowed", _("该材料不适用告知承诺")
    LICENSE_NOT_USABLE = "license_not_usable", _("该电子证照不能用于这项材料")
    # Handling
    NOT_ALLOWED = "not_allowed", _("当前状态不能进行该操作")
    FORBIDDEN = "forbidden", _("您没有办理该办件的权限")
    CONFLICT = "conflict", _("该办件已被他人处理，请刷新后查看最新状态")
    OPINION_REQUIRED = "opinion_required", _("请填写意见或理由")
    CORRECTION_EMPTY = "correction_empty", _("请至少指明一项需要补正的字段或材料")
    CORRECTION_OUTSIDE = "correction_outside", _("只能修改被要求补正的内容")
    CORRECTION_INCOMPLETE = "correction_incomplete", _("请完成全部补正内容后再提交")
    DEFICIENCIES_EMPTY = "deficiencies_empty", _("请列出容缺的材料及补交期限")
    DEFICIENCIES_OPEN = "deficiencies_open", _("容缺材料尚未补齐，不能办结")
    DOCUMENT_REQUIRED = "document_required", _("请上传决定文书")
    RESULT_REQUIRED = "result_required", _("网上送达需先上传办理结果")
    LAST_STEP = "last_step", _("已是最后一个审查环节，请作出决定")
    NOT_INSTANT = "not_instant", _("该事项不是即办件")
    BAD_DAYS = "bad_days", _("延长天数应为1至法定时限之间的整数")
    NO_EXTENSION = "no_extension", _("没有待批准的延期申请")
    OWN_EXTENSION = "own_extension", _("不能批准自己提出的延期申请")
    BAD_DEADLINE = "bad_deadline", _("补交期限应晚于今天")
    NOT_FOUND = "not_found", _("办件不存在")
    NO_SEAL = "no_seal", _("本部门没有可用的证照签发印章，请联系部门管理员")
    LICENSE_REFUSED = "license_refused", _("电子证照签发失败")
    # Department systems
    NO_ENDPOINT = "no_endpoint", _("该部门未接入业务系统")


class CaseError(Exception):
    def __init__(
        self,
        code: CaseErrorCode,
        message: str | None = None,
        *,
        field: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        self.code = code
        self.message = str(message if message is not None else code.label)
        self.field = field
        self.errors = errors or {}
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": str(self.code), "message": self.message}
        if self.field:
            out["field"] = self.field
        if self.errors:
            out["errors"] = [
                {"field": name, "message": message}
                for name, messages in self.errors.items()
                for message in messages
            ]
        return out
