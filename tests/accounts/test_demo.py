"""The demo identities: idempotent, obey the separation of admin posts, never touch a real
account, and create no account in production."""

import pyotp
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.core.factories import OrganizationFactory, RegionFactory
from tongban.accounts import demo
from tongban.accounts.models import (
    AgentGrant,
    Company,
    EnterpriseRecord,
    PopulationRecord,
    StaffPost,
    StaffRole,
    User,
)
from tongban.accounts.staff import roles_of, separation_conflict
from tongban.core.identifiers import validate_id_number, validate_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def organizations():
    RegionFactory(dongsheng=True)
    for uscc in {spec.organization_uscc for spec in demo.STAFF}:
        OrganizationFactory(uscc=uscc)


def test_demo_identifiers_are_valid():
    for person in (demo.LEGAL_REP, demo.AGENT, demo.NEWCOMER):
        assert validate_id_number(person.id_number) == person.id_number
    assert validate_uscc(demo.COMPANY_USCC) == demo.COMPANY_USCC
    for spec in demo.STAFF:
        assert len(pyotp.TOTP(spec.totp_secret).byte_secret()) >= 14


def test_loads_everyone_once_whatever_the_number_of_runs(organizations):
    first = demo.load_demo_identities(production=False)
    second = demo.load_demo_identities(production=False)
    assert [login.status for login in first.logins] == ["已创建"] * (2 + len(demo.STAFF))
    assert [login.status for login in second.logins] == ["已存在"] * (2 + len(demo.STAFF))
    assert User.objects.count() == 2 + len(demo.STAFF)
    assert StaffPost.objects.count() == len(demo.STAFF)
    assert AgentGrant.objects.filter(revoked_at__isnull=True).count() == 1
    assert Company.objects.get().legal_rep.username == demo.LEGAL_REP.username
    assert PopulationRecord.objects.count() == 3
    assert EnterpriseRecord.objects.count() == 1


def test_every_demo_staff_member_holds_one_post_and_no_forbidden_combination(organizations):
    demo.load_demo_identities(production=False)
    for spec in demo.STAFF:
        user = User.objects.get(username=spec.username)
        assert roles_of(user) == {spec.role}
        assert not separation_conflict(roles_of(user), is_superuser=user.is_superuser)
        assert user.has_totp
    auditor = User.objects.get(username="auditor")
    assert auditor.has_perm("core.view_auditrecord")
    assert not User.objects.get(username="sysadmin").has_perm("core.view_auditrecord")
    clerk_post = StaffPost.objects.get(user__username="clerk")
    assert [r.code for r in clerk_post.regions.all()] == ["150602"]
    assert clerk_post.role == StaffRole.CLERK


def test_a_real_account_with_a_demo_name_is_left_alone(organizations):
    real = User.objects.create_user(username="clerk", email="clerk@city.gov.cn", password="x")
    result = demo.load_demo_identities(production=False)
    real.refresh_from_db()
    assert real.email == "clerk@city.gov.cn"
    assert not StaffPost.objects.filter(user=real).exists()
    clerk = next(login for login in result.logins if login.username == "clerk")
    assert clerk.password is None
    assert "不是演示账号" in clerk.status


def test_production_loads_the_registers_but_no_account(organizations):
    result = demo.load_demo_identities(production=True)
    assert result.logins == []
    assert not User.objects.exists()
    assert PopulationRecord.objects.count() == 3


def test_demo_totp_prints_codes_only_for_demo_staff(organizations, capsys, monkeypatch):
    demo.load_demo_identities(production=False)
    call_command("demo_totp", "clerk")
    code = capsys.readouterr().out.strip()
    assert pyotp.TOTP(User.objects.get(username="clerk").totp_secret).verify(code)
    with pytest.raises(CommandError):
        call_command("demo_totp", demo.AGENT.username)
    monkeypatch.setenv("TONGBAN_PRODUCTION", "true")
    with pytest.raises(CommandError):
        call_command("demo_totp", "clerk")
