"""Staff posts and 三权分立: only a security admin grants, never to themself; no two separated
admin posts; an audit admin holds nothing else; superusers are no way around it; role groups
carry the permissions and follow the posts; each change (and each refusal) is audited."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.accounts.factories import StaffPostFactory, UserFactory
from tests.backoffice.helpers import login_backoffice
from tests.core.factories import OrganizationFactory, RegionFactory
from tongban.accounts.errors import AccountError
from tongban.accounts.models import StaffPost, StaffRole
from tongban.accounts.staff import (
    ROLE_PERMISSIONS,
    bootstrap_security_admin,
    grant_post,
    group_name,
    is_security_admin,
    revoke_post,
    separation_conflict,
    sync_role_groups,
)
from tongban.core.audit import can_read_audit, verify_chain
from tongban.core.models import AuditAction, AuditRecord, AuditResult

pytestmark = pytest.mark.django_db

SEPARATED = (StaffRole.SYSTEM_ADMIN, StaffRole.SECURITY_ADMIN, StaffRole.AUDIT_ADMIN)


@pytest.fixture
def secadmin():
    return StaffPostFactory(security_admin=True).user


def snapshot():
    return (
        sorted(StaffPost.objects.values_list("user_id", "organization_id", "role")),
        sorted(Group.objects.filter(user__isnull=False).values_list("name", "user")),
    )


def last_record():
    return AuditRecord.objects.order_by("-seq").first()


def test_a_security_admin_grants_a_post_with_its_group_and_audit(secadmin):
    person = UserFactory()
    org = OrganizationFactory()
    region = RegionFactory(dongsheng=True)
    post = grant_post(
        actor=secadmin, user=person, organization=org, role=StaffRole.REVIEWER, regions=[region]
    )
    person.refresh_from_db()
    assert person.is_staff
    assert list(post.regions.all()) == [region]
    assert set(person.groups.values_list("name", flat=True)) == {group_name(StaffRole.REVIEWER)}
    assert person.has_perm("core.reveal_personal_data")
    assert person.has_perm("catalog.view_implementation")
    assert not person.has_perm("catalog.change_implementation")
    rec = last_record()
    assert rec.action == AuditAction.PERMISSION_CHANGE
    assert rec.result == AuditResult.SUCCESS
    assert rec.actor_id == secadmin.pk
    assert rec.subject == f"user:{person.pk}"
    assert rec.details["role"] == "reviewer"
    assert rec.details["regions"] == ["150602"]


def test_revoking_the_last_post_removes_groups_and_staff_status(secadmin):
    post = grant_post(
        actor=secadmin, user=UserFactory(), organization=OrganizationFactory(), role="clerk"
    )
    user = post.user
    revoke_post(actor=secadmin, post=post)
    user.refresh_from_db()
    assert not user.is_staff
    assert not user.groups.exists()
    assert not StaffPost.objects.filter(pk=post.pk).exists()
    assert last_record().details["change"] == "revoke"


@pytest.mark.parametrize("role", [r for r in StaffRole.values if r != StaffRole.SECURITY_ADMIN])
def test_only_a_security_admin_may_grant(role):
    actor = StaffPostFactory(role=role).user
    person = UserFactory()
    before = snapshot()
    with pytest.raises(AccountError) as exc:
        grant_post(actor=actor, user=person, organization=OrganizationFactory(), role="clerk")
    assert exc.value.code == "forbidden"
    assert snapshot() == before
    rec = last_record()
    assert (rec.action, rec.result, rec.actor_id) == (
        AuditAction.PERMISSION_CHANGE,
        AuditResult.FAILURE,
        actor.pk,
    )


def test_a_superuser_is_not_a_security_admin():
    root = UserFactory(is_superuser=True, is_staff=True)
    assert not is_security_admin(root)
    before = snapshot()
    with pytest.raises(AccountError):
        grant_post(actor=root, user=UserFactory(), organization=OrganizationFactory(), role="clerk")
    assert snapshot() == before


def test_a_security_admin_cannot_grant_or_revoke_for_himself(secadmin):
    before = snapshot()
    with pytest.raises(AccountError) as exc:
        grant_post(actor=secadmin, user=secadmin, organization=OrganizationFactory(), role="clerk")
    assert exc.value.code == "self_grant"
    own = secadmin.staff_posts.get()
    with pytest.raises(AccountError) as exc:
        revoke_post(actor=secadmin, post=own)
    assert exc.value.code == "self_grant"
    assert snapshot() == before
    assert last_record().result == AuditResult.FAILURE


@pytest.mark.parametrize("held", SEPARATED)
@pytest.mark.parametrize("wanted", SEPARATED)
def test_no_one_holds_two_separated_posts(secadmin, held, wanted):
    if held == wanted:
        pytest.skip("the same post")
    person = StaffPostFactory(role=held).user
    before = snapshot()
    with pytest.raises(AccountError) as exc:
        grant_post(actor=secadmin, user=person, organization=OrganizationFactory(), role=wanted)
    assert exc.value.code == "role_conflict"
    assert snapshot() == before
    rec = last_record()
    assert rec.result == AuditResult.FAILURE
    assert rec.details["error"] == "role_conflict"


@pytest.mark.parametrize("other", [r for r in StaffRole.values if r != StaffRole.AUDIT_ADMIN])
def test_an_audit_admin_holds_no_other_post_either_way(secadmin, other):
    auditor = StaffPostFactory(audit_admin=True).user
    with pytest.raises(AccountError):
        grant_post(actor=secadmin, user=auditor, organization=OrganizationFactory(), role=other)
    clerk = StaffPostFactory(role=other).user
    with pytest.raises(AccountError):
        grant_post(
            actor=secadmin, user=clerk, organization=OrganizationFactory(), role="audit_admin"
        )
    assert not StaffPost.objects.filter(user=clerk, role="audit_admin").exists()


def test_a_superuser_cannot_take_a_separated_post(secadmin):
    root = UserFactory(is_superuser=True, is_staff=True)
    for role in SEPARATED:
        with pytest.raises(AccountError) as exc:
            grant_post(actor=secadmin, user=root, organization=OrganizationFactory(), role=role)
        assert exc.value.code == "role_conflict"
    assert not root.staff_posts.exists()


def test_separation_rule_table():
    assert not separation_conflict({"clerk", "reviewer", "org_admin"})
    assert not separation_conflict({"system_admin", "operator"})
    assert separation_conflict({"system_admin", "security_admin"})
    assert separation_conflict({"audit_admin", "clerk"})
    assert separation_conflict({"security_admin"}, is_superuser=True)


def test_role_permissions_keep_the_three_apart():
    sync_role_groups()
    groups = {g.name: g for g in Group.objects.prefetch_related("permissions__content_type")}

    def perms(role):
        return {
            f"{p.content_type.app_label}.{p.codename}"
            for p in groups[group_name(role)].permissions.all()
        }

    assert perms(StaffRole.AUDIT_ADMIN) == {"core.view_auditrecord"}
    for role in StaffRole.values:
        assert perms(role) == set(ROLE_PERMISSIONS[role]), role  # every codename exists
        if role != StaffRole.AUDIT_ADMIN:
            assert "core.view_auditrecord" not in perms(role)
    assert "core.reveal_personal_data" not in perms(StaffRole.SECURITY_ADMIN)
    assert "core.change_region" in perms(StaffRole.SYSTEM_ADMIN)
    assert "accounts.add_staffpost" not in perms(StaffRole.SYSTEM_ADMIN)
    assert "catalog.change_item" in perms(StaffRole.OPERATOR)
    assert "catalog.change_implementation" in perms(StaffRole.ORG_ADMIN)
    # idempotent: a second run changes nothing
    count = Group.objects.count()
    sync_role_groups()
    assert Group.objects.count() == count


def test_audit_admin_reads_the_trail_and_system_admin_does_not(secadmin):
    auditor = grant_post(
        actor=secadmin, user=UserFactory(), organization=OrganizationFactory(), role="audit_admin"
    ).user
    sysadmin = grant_post(
        actor=secadmin, user=UserFactory(), organization=OrganizationFactory(), role="system_admin"
    ).user
    assert can_read_audit(auditor)
    assert not can_read_audit(sysadmin)
    assert not can_read_audit(secadmin)
    assert verify_chain().ok


def test_audit_admin_changes_nothing_in_the_admin(client, secadmin):
    auditor = StaffPostFactory(audit_admin=True).user
    grant_post(actor=secadmin, user=UserFactory(), organization=OrganizationFactory(), role="clerk")
    auditor.refresh_from_db()
    sync_role_groups()
    auditor.groups.add(Group.objects.get(name=group_name("audit_admin")))
    login_backoffice(client, auditor)
    assert client.get("/admin/core/auditrecord/").status_code == 200
    post = StaffPost.objects.exclude(user=auditor).first()
    before = snapshot()
    assert (
        client.post(f"/admin/accounts/staffpost/{post.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert client.get("/admin/accounts/staffpost/add/").status_code == 403
    assert client.post("/admin/core/region/add/", {"code": "150603"}).status_code == 403
    assert snapshot() == before


def test_system_admin_cannot_read_the_audit_trail(client, secadmin):
    sysadmin = grant_post(
        actor=secadmin, user=UserFactory(), organization=OrganizationFactory(), role="system_admin"
    ).user
    login_backoffice(client, sysadmin)
    before = AuditRecord.objects.count()
    assert client.get("/admin/core/auditrecord/").status_code == 403
    assert client.get("/backoffice/audit-trail/").status_code == 404
    assert AuditRecord.objects.count() == before
    assert client.get("/admin/core/region/").status_code == 200


def test_security_admin_grants_through_the_admin(client, secadmin):
    login_backoffice(client, secadmin)
    person = UserFactory()
    org = OrganizationFactory()
    response = client.post(
        "/admin/accounts/staffpost/add/",
        {"user": person.pk, "organization": org.pk, "role": "clerk"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert StaffPost.objects.filter(user=person, role="clerk").exists()
    assert last_record().action == AuditAction.PERMISSION_CHANGE
    # a forbidden combination is refused beside the form, and nothing changes
    StaffPostFactory(user=person, system_admin=True)
    before = snapshot()
    response = client.post(
        "/admin/accounts/staffpost/add/",
        {"user": person.pk, "organization": org.pk, "role": "audit_admin"},
    )
    assert response.status_code == 200
    assert "必须分设" in response.content.decode()
    assert snapshot() == before


def test_bootstrap_only_while_there_is_no_security_admin():
    org = OrganizationFactory()
    first = UserFactory()
    call_command("create_security_admin", first.username, org.uscc)
    assert is_security_admin(first)
    with pytest.raises(CommandError):
        call_command("create_security_admin", UserFactory().username, org.uscc)
    with pytest.raises(AccountError):
        bootstrap_security_admin(user=UserFactory(), organization=org)
    assert StaffPost.objects.filter(role="security_admin").count() == 1


def test_migrate_gives_every_role_group_its_permissions_including_later_domains():
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    Group.objects.all().delete()
    call_command("migrate", verbosity=0)
    reviewer = Group.objects.get(name=group_name(StaffRole.REVIEWER))
    codes = {f"{p.content_type.app_label}.{p.codename}" for p in reviewer.permissions.all()}
    assert {"seals.use_seal", "core.reveal_personal_data"} <= codes
    assert "core.view_auditrecord" not in codes
