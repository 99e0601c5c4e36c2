"""Companies and agents: registration against the enterprise register, grants with scope and
expiry, switching the acting party, the agent scope check (403 + audit), the register loader."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tests.accounts.factories import (
    AgentGrantFactory,
    CompanyFactory,
    UserFactory,
    make_id_number,
)
from tests.catalog.factories import ItemFactory
from tests.core.factories import make_uscc
from tongban.accounts import companies as svc
from tongban.accounts.errors import AccountError
from tongban.accounts.models import AgentGrant, Company, EnterpriseRecord, User
from tongban.core.models import AuditRecord, AuditResult

pytestmark = pytest.mark.django_db


def register_record(person, **overrides):
    values = {
        "uscc": make_uscc("150602", authority="9", category="1"),
        "name": "鄂尔多斯市通办商贸有限公司",
        "legal_rep_name": person.real_name,
        "legal_rep_id_number": person.id_number,
    }
    values.update(overrides)
    return EnterpriseRecord.objects.create(**values)


def last_record():
    return AuditRecord.objects.order_by("-seq").first()


# --- registration ------------------------------------------------------------------------------


def test_the_legal_representative_registers_the_company():
    person = UserFactory()
    rec = register_record(person)
    company = svc.register_company(
        actor=person, uscc=rec.uscc, name=rec.name, legal_rep_name=person.real_name
    )
    assert company.legal_rep == person
    assert company.verified_by == "local"
    assert last_record().action == "company.register"
    assert last_record().on_behalf_of == f"company:{rec.uscc}"


@pytest.mark.parametrize(
    "change",
    [
        {"name": "别的公司"},
        {"legal_rep_name": "李四"},
        {"other_person": True},
        {"missing": True},
    ],
)
def test_registration_is_refused_unless_the_register_agrees(change):
    person = UserFactory()
    rec = register_record(person)
    actor = UserFactory() if change.get("other_person") else person
    uscc = make_uscc("150602", "9", "1") if change.get("missing") else rec.uscc
    with pytest.raises(AccountError) as exc:
        svc.register_company(
            actor=actor,
            uscc=uscc,
            name=change.get("name", rec.name),
            legal_rep_name=change.get("legal_rep_name", actor.real_name),
        )
    assert exc.value.code == "company_verification_failed"
    assert not Company.objects.exists()
    assert last_record().result == AuditResult.FAILURE


def test_registration_needs_l2_a_valid_code_and_a_free_code():
    person = UserFactory(unverified=True)
    with pytest.raises(AccountError) as exc:
        svc.register_company(
            actor=person, uscc=make_uscc("150602"), name="某公司", legal_rep_name="张三"
        )
    assert exc.value.code == "level_too_low"
    verified = UserFactory()
    bad = make_uscc("150602")[:-1] + "0"
    with pytest.raises(AccountError) as exc:
        svc.register_company(actor=verified, uscc=bad, name="某公司", legal_rep_name="张三")
    assert exc.value.code == "invalid_uscc"
    assert exc.value.field == "uscc"
    existing = CompanyFactory()
    with pytest.raises(AccountError) as exc:
        svc.register_company(
            actor=verified, uscc=existing.uscc, name=existing.name, legal_rep_name="张三"
        )
    assert exc.value.code == "company_taken"
    assert Company.objects.count() == 1


# --- grants ------------------------------------------------------------------------------------


def in_days(n):
    return timezone.now() + dt.timedelta(days=n)


def test_grant_by_phone_or_id_number_with_items():
    company = CompanyFactory()
    agent = UserFactory()
    item = ItemFactory()
    grant = svc.grant_agent(
        actor=company.legal_rep,
        company=company,
        agent=agent.phone,
        items=[item],
        expires_at=in_days(30),
    )
    assert grant.agent == agent
    assert not grant.all_services
    assert list(grant.items.all()) == [item]
    # granting again replaces the live grant (the old one stays, revoked)
    again = svc.grant_agent(
        actor=company.legal_rep,
        company=company,
        agent=agent.id_number,
        all_services=True,
        expires_at=in_days(60),
    )
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert again.revoked_at is None
    assert last_record().details["replaced"] == [grant.pk]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"expires_at": "past"}, "grant_expiry_invalid"),
        ({"expires_at": "too_far"}, "grant_expiry_invalid"),
        ({"all_services": False}, "grant_scope_empty"),
        ({"agent": "unverified"}, "agent_not_found"),
        ({"agent": "nobody"}, "agent_not_found"),
        ({"agent": "legal_rep"}, "agent_is_legal_rep"),
        ({"actor": "stranger"}, "not_legal_rep"),
    ],
)
def test_bad_grants_are_refused_and_change_nothing(kwargs, code):
    company = CompanyFactory()
    agent = UserFactory()
    args = {
        "actor": company.legal_rep,
        "company": company,
        "agent": agent.phone,
        "all_services": True,
        "expires_at": in_days(30),
    }
    special = {
        "past": in_days(-1),
        "too_far": in_days(3 * 366 + 2),
        "unverified": UserFactory(unverified=True).phone,
        "nobody": "13900000000",
        "legal_rep": company.legal_rep.phone,
        "stranger": UserFactory(),
    }
    for key, value in kwargs.items():
        args[key] = special.get(value, value) if isinstance(value, str) else value
    with pytest.raises(AccountError) as exc:
        svc.grant_agent(**args)
    assert exc.value.code == code
    assert not AgentGrant.objects.exists()


def test_revoke_by_legal_rep_or_agent_only():
    grant = AgentGrantFactory()
    stranger = UserFactory()
    with pytest.raises(AccountError):
        svc.revoke_agent(actor=stranger, grant=grant)
    grant.refresh_from_db()
    assert grant.revoked_at is None
    grant.agent.acting_company = grant.company
    grant.agent.save()
    svc.revoke_agent(actor=grant.company.legal_rep, grant=grant)
    assert grant.revoked_at is not None
    assert grant.revoked_by == grant.company.legal_rep
    assert User.objects.get(pk=grant.agent_id).acting_company is None
    with pytest.raises(AccountError) as exc:
        svc.revoke_agent(actor=grant.company.legal_rep, grant=grant)
    assert exc.value.code == "not_found"


# --- acting party ------------------------------------------------------------------------------


def test_switch_acting_party_and_fall_back_when_the_grant_ends():
    grant = AgentGrantFactory()
    agent = grant.agent
    assert svc.acting_party(agent).kind == "person"
    assert svc.acting_party(agent).audit_party == f"user:{agent.pk}"
    party = svc.switch_acting_party(actor=agent, company=grant.company)
    assert party.kind == "company"
    assert party.audit_party == f"company:{grant.company.uscc}"
    agent.refresh_from_db()
    assert agent.acting_company == grant.company
    assert svc.acting_party(agent).company == grant.company
    AgentGrant.objects.filter(pk=grant.pk).update(expires_at=in_days(-1))
    assert svc.acting_party(agent).kind == "person"  # expired: no longer acts for it
    back = svc.switch_acting_party(actor=agent, company=None)
    assert back.kind == "person"


@pytest.mark.parametrize(("trait", "code"), [("expired", "grant_expired"), (None, "not_agent")])
def test_switch_is_refused_without_a_live_grant(trait, code):
    grant = AgentGrantFactory(**({trait: True} if trait else {}))
    actor = grant.agent if trait else UserFactory()
    with pytest.raises(AccountError) as exc:
        svc.switch_acting_party(actor=actor, company=grant.company)
    assert exc.value.code == code
    actor.refresh_from_db()
    assert actor.acting_company is None


def test_the_legal_rep_switches_without_a_grant():
    company = CompanyFactory()
    assert svc.switch_acting_party(actor=company.legal_rep, company=company).is_company


# --- scope check -------------------------------------------------------------------------------


def test_agent_scope_check_allows_and_refuses_with_an_audit_record():
    listed, other = ItemFactory(), ItemFactory()
    grant = AgentGrantFactory(all_services=False)
    grant.items.set([listed])
    assert svc.check_agent_scope(actor=grant.agent, company=grant.company, item=listed) == grant
    assert (
        svc.check_agent_scope(actor=grant.company.legal_rep, company=grant.company, item=other)
        is None
    )
    before = AuditRecord.objects.count()
    with pytest.raises(AccountError) as exc:
        svc.check_agent_scope(actor=grant.agent, company=grant.company, item=other, ip="10.0.0.9")
    assert exc.value.code == "out_of_scope"
    assert AuditRecord.objects.count() == before + 1
    rec = last_record()
    assert rec.result == AuditResult.FAILURE
    assert rec.action == "company.agent_scope_denied"
    assert rec.on_behalf_of == grant.company.party
    assert rec.details == {"item": other.code, "error": "out_of_scope"}
    assert rec.ip == "10.0.0.9"


@pytest.mark.parametrize(
    ("trait", "code"), [("expired", "grant_expired"), ("revoked", "not_agent")]
)
def test_scope_check_for_expired_or_revoked_grants(trait, code):
    grant = AgentGrantFactory(**{trait: True})
    with pytest.raises(AccountError) as exc:
        svc.check_agent_scope(actor=grant.agent, company=grant.company, item=ItemFactory())
    assert exc.value.code == code
    assert last_record().details["error"] == code


def test_the_refusal_record_survives_the_callers_rollback():
    from django.db import transaction

    grant = AgentGrantFactory(expired=True)
    item = ItemFactory()
    before = AuditRecord.objects.count()
    with pytest.raises(AccountError), transaction.atomic():
        svc.check_agent_scope(actor=grant.agent, company=grant.company, item=item)
    # called inside the caller's transaction the record rolls back with it: the documented
    # contract is to call the check before opening the action's transaction
    assert AuditRecord.objects.count() == before
    with pytest.raises(AccountError):
        svc.check_agent_scope(actor=grant.agent, company=grant.company, item=item)
    assert AuditRecord.objects.count() == before + 1


# --- the register ------------------------------------------------------------------------------


def csv_text(rows):
    header = "uscc,name,legal_rep_name,legal_rep_id_number\n"
    return header + "".join(",".join(r) + "\n" for r in rows)


def test_load_enterprises_reports_bad_rows_by_line_and_loads_nothing(tmp_path):
    good = [make_uscc("150602", "9", "1"), "甲公司", "张三", make_id_number()]
    bad_uscc = [make_uscc("150602", "9", "1")[:-1] + "0", "乙公司", "李四", make_id_number()]
    bad_id = [make_uscc("150602", "9", "1"), "丙公司", "王五", make_id_number()[:-1] + "0"]
    path = tmp_path / "register.csv"
    path.write_text(csv_text([good, bad_uscc, bad_id]), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("load_enterprises", str(path))
    report = svc.load_enterprises(io.StringIO(csv_text([good, bad_uscc, bad_id])))
    assert [line for line, _m in report.errors] == [3, 4]
    assert "统一社会信用代码" in report.errors[0][1]
    assert "身份证号" in report.errors[1][1]
    assert not EnterpriseRecord.objects.exists()


def test_load_enterprises_loads_and_updates(tmp_path):
    person = UserFactory()
    uscc = make_uscc("150602", "9", "1")
    path = tmp_path / "register.csv"
    path.write_text(csv_text([[uscc, "甲公司", person.real_name, person.id_number]]), "utf-8")
    call_command("load_enterprises", str(path))
    path.write_text(csv_text([[uscc, "甲公司（新）", person.real_name, person.id_number]]), "utf-8")
    call_command("load_enterprises", str(path))
    rec = EnterpriseRecord.objects.get()
    assert rec.name == "甲公司（新）"
    assert rec.legal_rep_id_number == person.id_number
    company = svc.register_company(
        actor=person, uscc=uscc, name="甲公司(新)", legal_rep_name=person.real_name
    )
    assert company.pk
