"""The case (办件) and what hangs on it: its events, materials, number counter and dispatches."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.models.history import StatusEvent
from tongban.core.personal import EncryptedTextField


class CaseStatus(models.TextChoices):
    PRE_REVIEW = "pre_review", _("待预审")
    TO_ACCEPT = "to_accept", _("待受理")
    CORRECTING = "correcting", _("待补正")
    UNDER_REVIEW = "under_review", _("审查中")
    SUSPENDED = "suspended", _("特别程序中")
    DECIDED = "decided", _("已作出决定")
    CONCLUDED = "concluded", _("已办结")
    DELIVERED = "delivered", _("已送达")
    REJECTED = "rejected", _("不予受理")
    WITHDRAWN = "withdrawn", _("已撤回")
    ARCHIVED = "archived", _("已归档")


S = CaseStatus
# Nobody acts on these any more but the archivist.
FINAL_STATES = frozenset({S.DELIVERED, S.REJECTED, S.WITHDRAWN, S.ARCHIVED})
# Before acceptance: the applicant may still withdraw and nothing is counted.
BEFORE_ACCEPTANCE = frozenset({S.PRE_REVIEW, S.TO_ACCEPT, S.CORRECTING})
# The time limit runs in these states (it stops in correction and special procedures).
CLOCK_RUNS = frozenset({S.UNDER_REVIEW})
OPEN_STATES = frozenset(set(S) - FINAL_STATES - {S.CONCLUDED})
# The states a staff queue lists (open, and concluded awaiting delivery), in a fixed order.
QUEUE_STATES = [S.PRE_REVIEW, S.TO_ACCEPT, S.CORRECTING, S.UNDER_REVIEW, S.SUSPENDED, S.DECIDED]
QUEUE_STATES += [S.CONCLUDED]


class Decision(models.TextChoices):
    APPROVED = "approved", _("准予")
    DENIED = "denied", _("不予准予")


class Channel(models.TextChoices):
    ONLINE = "online", _("网上申请")
    COUNTER = "counter", _("窗口申请")
    DEPARTMENT = "department", _("部门系统")


class DeliveryMethod(models.TextChoices):
    WINDOW = "window", _("窗口领取")
    EXPRESS = "express", _("快递送达")
    ONLINE = "online", _("网上下载")


def _private():
    from django.core.files.storage import storages

    return storages["private"]


class Case(models.Model):
    number = models.CharField(_("办件编号"), max_length=24, unique=True)
    implementation = models.ForeignKey(
        "catalog.Implementation",
        verbose_name=_("实施清单"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("办理部门"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    region_code = models.CharField(_("区划代码"), max_length=12)
    counter_organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("受理窗口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="counter_cases",
        help_text=_("综合窗口收件时为窗口所属机构，结果返回该窗口出件"),
    )
    channel = models.CharField(_("申请渠道"), max_length=12, choices=Channel.choices)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    company = models.ForeignKey(
        "accounts.Company",
        verbose_name=_("申请企业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    applicant_display = models.CharField(_("申请人（脱敏）"), max_length=120)
    phone_tail = models.CharField(_("手机尾号"), max_length=4)
    query_code_digest = models.CharField(_("查询码摘要"), max_length=64)
    form_data = EncryptedTextField(_("表单数据"), purpose="case.form")
    answers = models.JSONField(_("情形选择"), default=list, blank=True)
    commitments = models.JSONField(_("告知承诺的材料"), default=list, blank=True)

    status = models.CharField(_("状态"), max_length=20, choices=CaseStatus.choices)
    decision = models.CharField(_("决定"), max_length=10, choices=Decision.choices, blank=True)
    step = models.PositiveSmallIntegerField(_("当前审查环节"), default=0)
    version = models.PositiveIntegerField(_("版本"), default=1)
    resume_status = models.CharField(
        _("补正或特别程序后回到"), max_length=20, choices=CaseStatus.choices, blank=True
    )
    correction = models.JSONField(_("补正要求"), default=dict, blank=True)
    deficiencies = models.JSONField(_("容缺材料"), default=list, blank=True)
    pending_extension = models.JSONField(_("待批准的延期"), default=dict, blank=True)
    suspension = models.JSONField(_("特别程序"), default=dict, blank=True)

    submitted_at = models.DateTimeField(_("提交时间"))
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    concluded_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)

    # The clock (see cases.clock): dates in China time, stored so queues filter on an index.
    promised_due = models.DateField(_("承诺办结日期"), null=True, blank=True)
    statutory_due = models.DateField(_("法定办结日期"), null=True, blank=True)
    warn_on = models.DateField(_("预警日期"), null=True, blank=True)
    paused_at = models.DateTimeField(_("计时暂停于"), null=True, blank=True)
    paused_working_days = models.PositiveIntegerField(_("暂停工作日"), default=0)
    paused_natural_days = models.PositiveIntegerField(_("暂停自然日"), default=0)
    extension_days = models.PositiveIntegerField(_("延长天数"), default=0)

    decision_note = models.TextField(_("决定说明"), blank=True)
    delivery_method = models.CharField(
        _("送达方式"), max_length=10, choices=DeliveryMethod.choices, blank=True
    )
    delivery_note = models.CharField(_("送达说明"), max_length=300, blank=True)
    archive_digest = models.CharField(_("归档包摘要"), max_length=64, blank=True)
    archive_file = models.FileField(
        _("归档包"), storage=_private, upload_to="cases/archives/", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        indexes = [
            # Staff queues (cases.queries.queue and queue_counts, bench/cases.py): one
            # organization, one status, in page order (soonest due, then oldest). Partial: only
            # cases still in a queue, a small share of the table once finished cases pile up;
            # warn_on and region_code ride along so that the counts are an index-only scan.
            models.Index(
                fields=[
                    "organization",
                    "status",
                    "promised_due",
                    "submitted_at",
                    "id",
                    "warn_on",
                    "region_code",
                ],
                name="case_queue",
                condition=models.Q(status__in=QUEUE_STATES),
            ),
            # The review queue spans two statuses: one ordered range for its page.
            models.Index(
                fields=["organization", "promised_due", "submitted_at", "id"],
                name="case_to_review",
                condition=models.Q(status__in=[S.UNDER_REVIEW, S.DECIDED]),
            ),
            models.Index(fields=["organization", "status", "-submitted_at"], name="case_org_new"),
            models.Index(fields=["organization", "warn_on"], name="case_org_warn"),
            models.Index(fields=["counter_organization", "status"], name="case_counter"),
            models.Index(fields=["applicant", "-submitted_at"], name="case_applicant"),
            models.Index(fields=["status", "promised_due"], name="case_supervision"),
        ]

    def __str__(self) -> str:
        return self.number


class CaseAction(models.TextChoices):
    SUBMIT = "submit", _("提交申请")
    PRE_APPROVE = "pre_approve", _("预审通过")
    REQUEST_CORRECTION = "request_correction", _("要求补正")
    RESUBMIT = "resubmit", _("补正后重新提交")
    ACCEPT = "accept", _("受理")
    ACCEPT_WITH_DEFICIENCIES = "accept_with_deficiencies", _("容缺受理")
    REJECT = "reject", _("不予受理")
    SUPPLY = "supply", _("补交容缺材料")
    ADVANCE = "advance", _("审查通过，转下一环节")
    SUSPEND = "suspend", _("启动特别程序")
    RESUME = "resume", _("特别程序结束，恢复计时")
    REQUEST_EXTENSION = "request_extension", _("申请延期")
    APPROVE_EXTENSION = "approve_extension", _("批准延期")
    APPROVE = "approve", _("准予")
    DENY = "deny", _("不予准予")
    HANDLE_INSTANTLY = "handle_instantly", _("即办办结")
    WITHDRAW = "withdraw", _("申请人撤回")
    CONCLUDE = "conclude", _("办结")
    DELIVER = "deliver", _("送达")
    ARCHIVE = "archive", _("归档")


class CaseEvent(StatusEvent):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("动作"), max_length=30, choices=CaseAction.choices)
    actor_label = models.CharField(_("操作方"), max_length=120, blank=True)
    opinion = models.TextField(_("意见"), blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("办件记录")
        verbose_name_plural = _("办件记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


class MaterialKind(models.TextChoices):
    APPLICATION = "application", _("申请材料")
    COMMITMENT = "commitment", _("告知承诺书")
    DECISION = "decision", _("决定文书")
    RESULT = "result", _("办理结果")
    ATTACHMENT = "attachment", _("办理附件")
    LICENSE = "license", _("电子证照（用证）")


class CaseMaterial(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    material = models.ForeignKey(
        "catalog.Material",
        verbose_name=_("对应材料"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("类别"), max_length=12, choices=MaterialKind.choices)
    name = models.CharField(_("文件名"), max_length=200)
    file = models.FileField(_("文件"), storage=_private, upload_to="cases/materials/%Y/%m/")
    sm3 = models.CharField(_("SM3摘要"), max_length=64)
    size = models.PositiveIntegerField(_("大小"))
    content_type = models.CharField(_("文件类型"), max_length=80)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    replaced = models.BooleanField(_("已被替换"), default=False)
    license_identifier = models.CharField(
        _("电子证照标识"), max_length=100, blank=True, help_text=_("以电子证照代替提交时")
    )

    class Meta:
        verbose_name = _("办件材料")
        verbose_name_plural = _("办件材料")
        ordering = ["id"]
        indexes = [models.Index(fields=["case", "kind"], name="case_material_case")]

    def __str__(self) -> str:
        return self.name


class CaseCounter(models.Model):
    """The last serial handed out for one region on one day; updated under a row lock."""

    region_code = models.CharField(max_length=6)
    day = models.DateField()
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region_code", "day"], name="case_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.day:%Y%m%d} {self.last_serial}"


class DispatchStatus(models.TextChoices):
    PENDING = "pending", _("待推送")
    DELIVERED = "delivered", _("已推送")
    FAILED = "failed", _("推送失败（已停止重试）")


class Dispatch(models.Model):
    """One message for a department system, written in the same transaction as the change it
    reports (the outbox). The worker posts it until the endpoint says 2xx."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="dispatches")
    endpoint = models.ForeignKey(
        "cases.DepartmentEndpoint", on_delete=models.PROTECT, related_name="dispatches"
    )
    event = models.ForeignKey(CaseEvent, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(_("幂等键"), max_length=64, unique=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=DispatchStatus.choices, default=DispatchStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"))
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(_("推送成功时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("部门推送")
        verbose_name_plural = _("部门推送")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="dispatch_due")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.status}"


class DepartmentEndpoint(models.Model):
    """An organization whose own business system handles its cases (seed 000 第十六条)."""

    organization = models.OneToOneField(
        "core.Organization",
        verbose_name=_("部门"),
        on_delete=models.CASCADE,
        related_name="case_endpoint",
    )
    url = models.URLField(_("接收地址"))
    secret = EncryptedTextField(_("签名密钥"), purpose="cases.endpoint")
    client_id = models.CharField(
        _("回调客户端"),
        max_length=100,
        blank=True,
        help_text=_("部门系统以该OAuth2客户端（client credentials）回传受理、决定与结果"),
    )
    enabled = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("部门业务系统")
        verbose_name_plural = _("部门业务系统")

    def __str__(self) -> str:
        return self.url
