"""``tongban demo``: load the demo data (idempotent) and create the demo accounts.

The command runs a list of loaders, then a list of demo accounts. To add demo data for a new
domain (personas, cases …), append a ``DemoStep`` to ``LOADERS``; to add an account, append a
function to ``ACCOUNTS`` that returns a ``DemoAccount``. Each loader is idempotent and takes a
keyword ``stdout``; its result has ``lines()`` for the summary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from tongban.accounts.demo import OPERATOR_TOTP_SECRET, load_demo_identities
from tongban.cases.demo import load_demo_cases
from tongban.catalog.demo import load_demo
from tongban.conf import env_bool

OPERATOR_USERNAME = "operator"
OPERATOR_PASSWORD = "tongban-demo-2026"  # noqa: S105 (a published demo password, never in production)
# Marks an account as created by this command: the command only ever touches such an account.
DEMO_MARKER_EMAIL = "operator@demo.tongban.invalid"
DEMO_LAST_NAME = "演示账号"


@dataclass(frozen=True)
class DemoStep:
    label: str
    load: Callable[..., Any]


def load_identities(*, stdout) -> object:
    return load_demo_identities(production=is_production())


LOADERS: list[DemoStep] = [
    DemoStep("政务服务事项目录（鄂尔多斯市、二连浩特市）", load_demo),
    # After the catalog: the demo staff work for its organizations.
    DemoStep("统一身份认证（人口库、企业库、演示账号）", load_identities),
    # After the staff: demo cases are moved by the demo clerk and reviewer.
    DemoStep("办件（数据元、申请表单、演示办件）", load_demo_cases),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str | None  # None: not usable with the demo password (say why in ``status``)
    role: str
    where: str
    status: str


def is_production() -> bool:
    value = getattr(settings, "TONGBAN_PRODUCTION", None)
    return bool(value) if value is not None else env_bool("TONGBAN_PRODUCTION", False)


def ensure_demo_operator(*, production: bool, reset_password: bool = False) -> DemoAccount:
    """Create the demo superuser ``operator`` unless in production; never touch another account.

    An existing ``operator`` carrying the demo marker keeps a password someone changed, unless
    ``reset_password`` asks to set the demo password again. An ``operator`` without the marker
    is a real account and is left exactly as it is.
    """
    role = f"Django admin 超级用户（运营人员，动态口令密钥 {OPERATOR_TOTP_SECRET}）"
    where = "/backoffice/login/"
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.select_for_update().filter(username=OPERATOR_USERNAME).first()
        if user is None:
            if production:
                return DemoAccount(
                    OPERATOR_USERNAME, None, role, where, "未创建：TONGBAN_PRODUCTION=true"
                )
            user = user_model.objects.create_superuser(
                username=OPERATOR_USERNAME,
                email=DEMO_MARKER_EMAIL,
                password=OPERATOR_PASSWORD,
                first_name="运营",
                last_name=DEMO_LAST_NAME,
                real_name="演示运营",
                totp_secret=OPERATOR_TOTP_SECRET,
                totp_confirmed_at=timezone.now(),
            )
            return DemoAccount(OPERATOR_USERNAME, OPERATOR_PASSWORD, role, where, "已创建")
        if user.email != DEMO_MARKER_EMAIL:
            return DemoAccount(
                OPERATOR_USERNAME, None, role, where, "已存在且不是演示账号，未作任何修改"
            )
        if production:
            return DemoAccount(
                OPERATOR_USERNAME,
                None,
                role,
                where,
                "警告：生产环境中存在演示账号，请立即停用或删除该账号",
            )
        changed = []
        for name in ("is_active", "is_staff", "is_superuser"):
            if not getattr(user, name):
                setattr(user, name, True)
                changed.append(name)
        has_demo_password = user.check_password(OPERATOR_PASSWORD)
        if not has_demo_password and reset_password:
            user.set_password(OPERATOR_PASSWORD)
            changed.append("password")
            has_demo_password = True
        if changed:
            user.save(update_fields=changed)
        if not has_demo_password:
            return DemoAccount(
                OPERATOR_USERNAME,
                None,
                role,
                where,
                "密码已被修改，保留现有密码（如需恢复演示密码，使用 --reset-demo-password）",
            )
        status = "已恢复演示密码" if "password" in changed else "已存在"
        return DemoAccount(OPERATOR_USERNAME, OPERATOR_PASSWORD, role, where, status)


ACCOUNTS: list[Callable[..., DemoAccount]] = [ensure_demo_operator]


class Command(BaseCommand):
    help = "载入演示数据（可重复执行，不会产生重复数据）并创建演示账号。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-demo-password",
            action="store_true",
            help="把演示账号的密码恢复为公布的演示密码（仅对本命令创建的演示账号有效）",
        )

    def handle(self, *args, reset_demo_password: bool = False, **options):
        production = is_production()
        logins = []
        for step in LOADERS:
            self.stdout.write(self.style.MIGRATE_HEADING(f"载入：{step.label}"))
            result = step.load(stdout=self.stdout)
            for line in result.lines():
                self.stdout.write(line)
            logins += getattr(result, "logins", None) or []  # demo accounts a domain made
        accounts = [
            account(production=production, reset_password=reset_demo_password)
            for account in ACCOUNTS
        ]
        accounts += [DemoAccount(**vars(login)) for login in logins]
        self.stdout.write(self.style.MIGRATE_HEADING("演示账号（仅供体验，切勿用于生产环境）："))
        for account in accounts:
            password = account.password if account.password else "（不可用）"
            self.stdout.write(
                f"  {account.role}：用户名 {account.username}  密码 {password}  "
                f"入口 {account.where}  —— {account.status}"
            )
        if not production:
            self.stdout.write(
                self.style.WARNING(
                    "  上线前请设置 TONGBAN_PRODUCTION=true（不再创建演示账号），"
                    "并删除或停用以上演示账号。"
                )
            )
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。"))
