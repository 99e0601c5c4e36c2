"""Demo identities for ``tongban demo``: population and enterprise register rows, two citizens
(a company's legal representative and its authorized agent), and one staff member per post.

Idempotent. Only accounts carrying the demo marker (an e-mail under ``demo.tongban.invalid``)
are ever touched; an existing account of the same name without it is left alone. Nothing is
created when ``production`` is true. Staff posts are granted through
:func:`tongban.accounts.staff.grant_post` by the demo security administrator, exactly as an
operator would, so the demo obeys the separation of the three administrator posts.

The ID numbers, phone numbers and credit codes are invented (valid check characters, not real
people or companies).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from tongban.accounts.companies import grant_agent
from tongban.accounts.errors import AccountError
from tongban.accounts.models import (
    AgentGrant,
    Company,
    EnterpriseRecord,
    PopulationRecord,
    StaffPost,
    StaffRole,
    User,
    VerificationLevel,
)
from tongban.accounts.staff import bootstrap_security_admin, grant_post
from tongban.core.identifiers import id_number_check_char
from tongban.core.models import Organization, Region

DEMO_PASSWORD = "tongban-demo-2026"  # noqa: S105 (a published demo password, never in production)
MARKER_DOMAIN = "demo.tongban.invalid"


def _id(first17: str) -> str:
    return first17 + id_number_check_char(first17)


@dataclass(frozen=True)
class DemoPerson:
    username: str
    real_name: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class DemoStaff:
    username: str
    real_name: str
    organization_uscc: str
    role: str
    region: str | None
    # A fixed TOTP secret so that a tester can add it to an authenticator app (printed by the
    # demo); ``tongban demo_totp <username>`` prints the current code for demo accounts only.
    totp_secret: str


LEGAL_REP = DemoPerson("demo-wangxm", "王晓梅", _id("15060219880512002"), "13800000001")
AGENT = DemoPerson("demo-lijg", "李建国", _id("15060319920303001"), "13800000002")
# In the population register but without an account: use it to try registration + real name.
NEWCOMER = DemoPerson("", "赵敏", _id("15060219950718002"), "13800000003")

COMPANY_USCC = "91150602MA0D7E8KXM"  # inner organization code MA0D7E8KX, both checks valid
COMPANY_NAME = "鄂尔多斯市示例商贸有限公司"

CITY_CENTRE = "11150600798118402T"  # 鄂尔多斯市行政审批和政务服务局
DONGSHENG_CENTRE = "111506025988955816"  # 东胜区行政审批和政务服务局
DONGSHENG_SAMR = "111506027156872139"  # 东胜区市场监督管理局

STAFF = [
    DemoStaff(
        "secadmin",
        "安全管理员",
        CITY_CENTRE,
        StaffRole.SECURITY_ADMIN,
        None,
        "OEAHWB35OU7CEQB2QTOETZWE7QMASRMG",
    ),
    DemoStaff(
        "sysadmin",
        "系统管理员",
        CITY_CENTRE,
        StaffRole.SYSTEM_ADMIN,
        None,
        "GACGZEX53T4ID52WEZ4IYEDVZ3YQ77HP",
    ),
    DemoStaff(
        "auditor",
        "审计管理员",
        CITY_CENTRE,
        StaffRole.AUDIT_ADMIN,
        None,
        "PSH7KBOJ6F6VKZA4IHIYHKWVDT7VJIYT",
    ),
    DemoStaff(
        "platform",
        "平台运营",
        CITY_CENTRE,
        StaffRole.OPERATOR,
        None,
        "SFGPYFGWTWY7ERWX5HOB35T2LSEEJNNA",
    ),
    DemoStaff(
        "clerk",
        "窗口受理员",
        DONGSHENG_CENTRE,
        StaffRole.CLERK,
        "150602",
        "TJ7L5AUUMKZWMOIJCJ2H6HO6GK2M5ELB",
    ),
    DemoStaff(
        "deptclerk",
        "部门受理员",
        DONGSHENG_SAMR,
        StaffRole.CLERK,
        "150602",
        "N4QJ2W7ZC5HXK3LT6MVB3RPD5YFG2SEA",
    ),
    DemoStaff(
        "reviewer",
        "审核员",
        DONGSHENG_SAMR,
        StaffRole.REVIEWER,
        "150602",
        "3GY5H5742VLL7A7LWHMMY2MHIMZV3YRX",
    ),
    DemoStaff(
        "orgadmin",
        "部门管理员",
        DONGSHENG_SAMR,
        StaffRole.ORG_ADMIN,
        "150602",
        "3PMQS3JKO2NGWGGZ7BB6ENH2LPCI3FH2",
    ),
]


# The demo superuser ``operator`` (created by ``tongban demo``) needs a second factor too.
OPERATOR_TOTP_SECRET = "HPJ7BKSOLMI2SDN4LGSU6MHHD2Z5LBVJ"  # noqa: S105 (published demo secret)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str | None
    role: str
    where: str
    status: str


@dataclass
class IdentityDemoResult:
    population: int = 0
    enterprises: int = 0
    logins: list[DemoLogin] | None = None

    def lines(self) -> list[str]:
        return [
            f"  人口基础信息：{self.population} 条；企业登记信息：{self.enterprises} 条",
            f"  可用于注册并实名认证的演示人员：{NEWCOMER.real_name} {NEWCOMER.id_number}"
            f"（手机号 {NEWCOMER.phone}，短信验证码见 /account/dev/messages/）",
            "  工作人员登录须输入动态口令：将下列密钥加入身份验证器应用，"
            "或运行 tongban demo_totp <用户名> 取得当前口令。",
        ]


def _marker(username: str) -> str:
    return f"{username}@{MARKER_DOMAIN}"


def is_demo_account(user: User) -> bool:
    return (user.email or "").endswith("@" + MARKER_DOMAIN)


def _person(spec: DemoPerson, *, is_staff: bool = False) -> tuple[User | None, str]:
    """The demo account of ``spec`` (created, or found with the marker) and a status text."""
    user = User.objects.filter(username=spec.username).first()
    if user is not None and not is_demo_account(user):
        return None, "已存在且不是演示账号，未作任何修改"
    if user is None:
        user = User(username=spec.username, email=_marker(spec.username))
        status = "已创建"
    else:
        status = "已存在"
    user.real_name = spec.real_name
    user.id_number = spec.id_number
    user.phone = spec.phone
    user.is_staff = is_staff
    user.level = max(user.level, VerificationLevel.L2)
    user.verified_by = user.verified_by or "local"
    user.verified_at = user.verified_at or timezone.now()
    if user.pk is None or not user.has_usable_password():
        user.set_password(DEMO_PASSWORD)
        user.password_changed_at = timezone.now()
    user.save()
    return user, status


def _staff(spec: DemoStaff) -> tuple[User | None, str]:
    user = User.objects.filter(username=spec.username).first()
    if user is not None and not is_demo_account(user):
        return None, "已存在且不是演示账号，未作任何修改"
    status = "已存在"
    if user is None:
        user = User(username=spec.username, email=_marker(spec.username), is_staff=True)
        user.set_password(DEMO_PASSWORD)
        user.password_changed_at = timezone.now()
        status = "已创建"
    user.real_name = user.real_name or spec.real_name
    user.level = max(user.level, VerificationLevel.L1)
    if not user.has_totp:
        user.totp_secret = spec.totp_secret
        user.totp_confirmed_at = timezone.now()
    user.save()
    return user, status


def _post(actor: User, user: User, spec: DemoStaff) -> str:
    """Grant the demo post unless held; a refusal (say, another security administrator runs
    this installation) is reported, not raised."""
    organization = Organization.objects.get(uscc=spec.organization_uscc)
    if StaffPost.objects.filter(user=user, organization=organization, role=spec.role).exists():
        return ""
    regions = list(Region.objects.filter(code=spec.region)) if spec.region else []
    try:
        grant_post(
            actor=actor, user=user, organization=organization, role=spec.role, regions=regions
        )
    except AccountError as exc:
        return f"（岗位未授予：{exc.message}）"
    return ""


def load_demo_identities(*, production: bool) -> IdentityDemoResult:
    """Load the registers, and unless ``production`` the demo accounts. Idempotent."""
    result = IdentityDemoResult(logins=[])
    with transaction.atomic():
        for spec in (LEGAL_REP, AGENT, NEWCOMER):
            record = PopulationRecord.objects.filter(
                id_number_digest=PopulationRecord._meta.get_field("id_number_digest").digest_of(
                    spec.id_number
                )
            ).first() or PopulationRecord(id_number=spec.id_number)
            record.name, record.source = spec.real_name, "演示数据"
            record.save()
        result.population = PopulationRecord.objects.count()
        EnterpriseRecord.objects.get_or_create(
            uscc=COMPANY_USCC,
            defaults={
                "name": COMPANY_NAME,
                "legal_rep_name": LEGAL_REP.real_name,
                "legal_rep_id_number": LEGAL_REP.id_number,
                "source": "演示数据",
            },
        )
        result.enterprises = EnterpriseRecord.objects.count()
    if production:
        return result

    portal = "/account/login/（手机号 + 密码或短信验证码）"
    with transaction.atomic():
        rep, rep_status = _person(LEGAL_REP)
        agent, agent_status = _person(AGENT)
        if rep is not None:
            company, _ = Company.objects.get_or_create(
                uscc=COMPANY_USCC,
                defaults={
                    "name": COMPANY_NAME,
                    "legal_rep_name": LEGAL_REP.real_name,
                    "legal_rep": rep,
                    "verified_by": "local",
                    "verified_at": timezone.now(),
                },
            )
            live = AgentGrant.objects.filter(company=company, revoked_at__isnull=True)
            if agent is not None and company.legal_rep_id == rep.pk and not live.exists():
                grant_agent(
                    actor=rep,
                    company=company,
                    agent=agent,
                    all_services=True,
                    expires_at=timezone.now() + dt.timedelta(days=365),
                )
        for spec, user, status, role in (
            (LEGAL_REP, rep, rep_status, f"市民，{COMPANY_NAME}法定代表人"),
            (AGENT, agent, agent_status, f"市民，{COMPANY_NAME}经办人"),
        ):
            result.logins.append(
                DemoLogin(
                    spec.phone, DEMO_PASSWORD if user is not None else None, role, portal, status
                )
            )

    missing = {s.organization_uscc for s in STAFF} - set(
        Organization.objects.filter(uscc__in={s.organization_uscc for s in STAFF}).values_list(
            "uscc", flat=True
        )
    )
    if missing:  # the catalog demo (which brings the organizations) was not loaded
        for spec in STAFF:
            result.logins.append(
                DemoLogin(
                    spec.username,
                    None,
                    str(StaffRole(spec.role).label),
                    "-",
                    "未创建：缺少演示组织机构",
                )
            )
        return result
    with transaction.atomic():
        staff_users: dict[str, tuple[User | None, str]] = {s.username: _staff(s) for s in STAFF}
        security_admin = staff_users["secadmin"][0]
        if security_admin is not None:
            if not StaffPost.objects.filter(role=StaffRole.SECURITY_ADMIN).exists():
                bootstrap_security_admin(
                    user=security_admin,
                    organization=Organization.objects.get(uscc=STAFF[0].organization_uscc),
                )
            for spec in STAFF[1:]:
                user, status = staff_users[spec.username]
                if user is not None:
                    staff_users[spec.username] = (user, status + _post(security_admin, user, spec))
        for spec in STAFF:
            user, status = staff_users[spec.username]
            result.logins.append(
                DemoLogin(
                    spec.username,
                    DEMO_PASSWORD if user is not None else None,
                    f"工作人员·{StaffRole(spec.role).label}（动态口令密钥 {spec.totp_secret}）",
                    "/backoffice/login/",
                    status,
                )
            )
    return result


def demo_totp_secret(username: str) -> str | None:
    """The published TOTP secret of a demo staff account, or None for any other account."""
    user = User.objects.filter(username=username).first()
    published = {s.username: s.totp_secret for s in STAFF} | {"operator": OPERATOR_TOTP_SECRET}
    if user is None or username not in published or not is_demo_account(user):
        return None
    return user.totp_secret if user.totp_secret == published[username] else None
