"""Companies (法人), their authorized agents (经办人), and the party a person acts for.

* :func:`register_company` — a verified person (L2 or above) registers a company of which the
  market regulator's register (:mod:`tongban.accounts.verification.company`) names them legal
  representative.
* :func:`grant_agent` / :func:`revoke_agent` — the legal representative authorizes a verified
  person for every service or listed items, until an expiry at most three years away.
* :func:`switch_acting_party` — a person switches between acting for themself and for a company
  they represent; :func:`acting_party` tells every later audit record whom they act for
  (``on_behalf_of = party.audit_party``).
* :func:`check_agent_scope` — before a company's service is handled: the refusal (403 at the
  channels) is committed to the audit trail before it is raised, so call it outside the
  transaction of the action it guards (as :func:`tongban.core.personal.reveal`).
* :func:`load_enterprises` — the operators' loader of the register (command ``load_enterprises``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.accounts.errors import AccountError, AccountErrorCode
from tongban.accounts.models import (
    AgentGrant,
    Company,
    EnterpriseRecord,
    User,
    VerificationLevel,
)
from tongban.accounts.queries import find_person
from tongban.core.audit import AuditResult, record
from tongban.core.identifiers import IdentifierError, validate_id_number, validate_uscc
from tongban.core.models import Region

MAX_GRANT_YEARS = 3


class CompanyAction:
    REGISTER = "company.register"
    GRANT = "company.agent_grant"
    REVOKE = "company.agent_revoke"
    SWITCH = "company.switch_party"
    SCOPE_DENIED = "company.agent_scope_denied"
    LOAD = "company.load_register"


# --- The acting party ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActingParty:
    kind: str  # "person" or "company"
    company: Company | None
    label: str
    audit_party: str  # "user:<pk>" or "company:<uscc>"

    @property
    def is_company(self) -> bool:
        return self.kind == "company"


def _person_party(user: Any) -> ActingParty:
    if not getattr(user, "pk", None):
        return ActingParty("person", None, "", "")
    return ActingParty("person", None, user.display_name, f"user:{user.pk}")


def _company_party(company: Company) -> ActingParty:
    return ActingParty("company", company, company.name, company.party)


def _live_grant(user: Any, company: Company, *, now: dt.datetime | None = None):
    now = now or timezone.now()
    return AgentGrant.objects.filter(
        company=company, agent_id=user.pk, revoked_at__isnull=True, expires_at__gt=now
    ).first()


def may_act_for(user: Any, company: Company) -> bool:
    """Legal representative, or a live unexpired grant."""
    if not getattr(user, "pk", None) or not user.is_active:
        return False
    return company.legal_rep_id == user.pk or _live_grant(user, company) is not None


def acting_party(user: Any) -> ActingParty:
    """Whom ``user`` acts for now. A company chosen earlier counts only while the user still
    represents it (a revoked or expired grant falls back to the person)."""
    company_id = getattr(user, "acting_company_id", None)
    if company_id:
        company = user.acting_company
        if may_act_for(user, company):
            return _company_party(company)
    return _person_party(user)


# --- Registering a company ----------------------------------------------------------------------


def _region_of(uscc: str) -> Region | None:
    return Region.objects.filter(code=uscc[2:8]).first()


def register_company(
    *,
    actor: User,
    uscc: str,
    name: str,
    legal_rep_name: str,
    ip: str | None = None,
    user_agent: str = "",
) -> Company:
    """Register a company with ``actor`` as its verified legal representative."""
    from tongban.accounts.verification.company import ProviderUnavailable, company_provider

    ctx = {"ip": ip, "user_agent": user_agent}
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as exc:
        raise AccountError(
            AccountErrorCode.INVALID_USCC, field="uscc", message=exc.message
        ) from exc
    name, legal_rep_name = (name or "").strip(), (legal_rep_name or "").strip()
    if not name:
        raise AccountError(AccountErrorCode.COMPANY_VERIFICATION_FAILED, field="name")
    if actor.level < VerificationLevel.L2 or not actor.id_number_digest:
        raise AccountError(AccountErrorCode.LEVEL_TOO_LOW)
    if Company.objects.filter(uscc=uscc).exists():
        raise AccountError(AccountErrorCode.COMPANY_TAKEN, field="uscc")
    provider = company_provider()
    try:
        outcome = provider.check_company(
            uscc=uscc,
            name=name,
            legal_rep_name=legal_rep_name,
            legal_rep_id_digest=actor.id_number_digest,
        )
    except ProviderUnavailable as exc:
        raise AccountError(AccountErrorCode.VERIFICATION_UNAVAILABLE, message=exc.message) from exc
    if not outcome.passed:
        with transaction.atomic():
            record(
                actor=actor,
                action=CompanyAction.REGISTER,
                result=AuditResult.FAILURE,
                object_type="accounts.company",
                object_id=uscc,
                details={"provider": provider.name, "reason": outcome.reason},
                **ctx,
            )
        raise AccountError(
            AccountErrorCode.COMPANY_VERIFICATION_FAILED, message=outcome.message or ""
        )
    with transaction.atomic():
        company, created = Company.objects.get_or_create(
            uscc=uscc,
            defaults={
                "name": name,
                "legal_rep_name": legal_rep_name,
                "legal_rep": actor,
                "region": _region_of(uscc),
                "verified_by": provider.name,
                "verified_at": timezone.now(),
            },
        )
        if not created:  # registered by a concurrent request
            raise AccountError(AccountErrorCode.COMPANY_TAKEN, field="uscc")
        record(
            actor=actor,
            action=CompanyAction.REGISTER,
            object_type="accounts.company",
            object_id=company.pk,
            on_behalf_of=company.party,
            details={"provider": provider.name, "reference": outcome.reference},
            **ctx,
        )
    return company


# --- Agents -------------------------------------------------------------------------------------


def max_expiry(now: dt.datetime | None = None) -> dt.datetime:
    now = now or timezone.now()
    try:
        return now.replace(year=now.year + MAX_GRANT_YEARS)
    except ValueError:  # 29 February
        return now.replace(year=now.year + MAX_GRANT_YEARS, day=28)


def _require_legal_rep(actor: Any, company: Company) -> None:
    if not (getattr(actor, "pk", None) and actor.is_active and company.legal_rep_id == actor.pk):
        raise AccountError(AccountErrorCode.NOT_LEGAL_REP)


def grant_agent(
    *,
    actor: User,
    company: Company,
    agent: str | User,
    all_services: bool = False,
    items: Iterable = (),
    expires_at: dt.datetime,
    ip: str | None = None,
    user_agent: str = "",
) -> AgentGrant:
    """Authorize ``agent`` (a user, or the mobile or ID number of a verified person) to act for
    ``company``. A live grant the agent already holds is replaced (revoked, then granted anew),
    so a change of scope or expiry leaves both versions in the record."""
    _require_legal_rep(actor, company)
    person = agent if isinstance(agent, User) else find_person(str(agent))
    if person is None or not person.is_active or person.level < VerificationLevel.L2:
        raise AccountError(AccountErrorCode.AGENT_NOT_FOUND, field="agent")
    if person.pk == company.legal_rep_id:
        raise AccountError(AccountErrorCode.AGENT_IS_LEGAL_REP, field="agent")
    now = timezone.now()
    if expires_at <= now or expires_at > max_expiry(now):
        raise AccountError(AccountErrorCode.GRANT_EXPIRY_INVALID, field="expires_at")
    items = list(items)
    if not all_services and not items:
        raise AccountError(AccountErrorCode.GRANT_SCOPE_EMPTY, field="items")
    with transaction.atomic():
        replaced = list(
            AgentGrant.objects.select_for_update()
            .filter(company=company, agent=person, revoked_at__isnull=True)
            .values_list("pk", flat=True)
        )
        AgentGrant.objects.filter(pk__in=replaced).update(revoked_at=now, revoked_by=actor)
        grant = AgentGrant.objects.create(
            company=company,
            agent=person,
            all_services=all_services,
            expires_at=expires_at,
            granted_by=actor,
        )
        if not all_services:
            grant.items.set(items)
        record(
            actor=actor,
            action=CompanyAction.GRANT,
            object_type="accounts.agentgrant",
            object_id=grant.pk,
            on_behalf_of=company.party,
            subject=f"user:{person.pk}",
            details={
                "agent": person.pk,
                "all_services": all_services,
                "items": sorted(i.code for i in items) if not all_services else [],
                "expires_at": expires_at.isoformat(),
                "replaced": replaced,
            },
            ip=ip,
            user_agent=user_agent,
        )
    return grant


def revoke_agent(
    *, actor: User, grant: AgentGrant, ip: str | None = None, user_agent: str = ""
) -> AgentGrant:
    """The legal representative revokes a grant (or the agent renounces it)."""
    company = grant.company
    if not (
        getattr(actor, "pk", None)
        and actor.is_active
        and actor.pk in (company.legal_rep_id, grant.agent_id)
    ):
        raise AccountError(AccountErrorCode.NOT_LEGAL_REP)
    now = timezone.now()
    with transaction.atomic():
        touched = AgentGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor
        )
        if touched != 1:
            raise AccountError(AccountErrorCode.NOT_FOUND)
        User.objects.filter(pk=grant.agent_id, acting_company=company).update(acting_company=None)
        record(
            actor=actor,
            action=CompanyAction.REVOKE,
            object_type="accounts.agentgrant",
            object_id=grant.pk,
            on_behalf_of=company.party,
            subject=f"user:{grant.agent_id}",
            details={"agent": grant.agent_id},
            ip=ip,
            user_agent=user_agent,
        )
    grant.refresh_from_db()
    return grant


def switch_acting_party(
    *, actor: User, company: Company | None, ip: str | None = None, user_agent: str = ""
) -> ActingParty:
    """Act for ``company`` (or for oneself with ``None``) from now on."""
    if company is not None and not may_act_for(actor, company):
        grant = AgentGrant.objects.filter(
            company=company, agent_id=actor.pk, revoked_at__isnull=True
        ).first()
        code = AccountErrorCode.GRANT_EXPIRED if grant else AccountErrorCode.NOT_AGENT
        raise AccountError(code)
    with transaction.atomic():
        User.objects.filter(pk=actor.pk).update(acting_company=company)
        actor.acting_company = company
        party = acting_party(actor)
        record(
            actor=actor,
            action=CompanyAction.SWITCH,
            on_behalf_of=party.audit_party,
            object_type="accounts.company" if company else "",
            object_id=company.pk if company else "",
            ip=ip,
            user_agent=user_agent,
        )
    return party


def check_agent_scope(
    *, actor: User, company: Company, item, ip: str | None = None, user_agent: str = ""
) -> AgentGrant | None:
    """Whether ``actor`` may handle catalog ``item`` for ``company``: returns the grant (or
    ``None`` for the legal representative), else commits a failure record and raises
    ``not_agent`` / ``grant_expired`` / ``out_of_scope`` (HTTP 403 at the channels)."""
    if getattr(actor, "pk", None) and actor.is_active and company.legal_rep_id == actor.pk:
        return None
    now = timezone.now()
    grants = list(
        AgentGrant.objects.filter(
            company=company, agent_id=getattr(actor, "pk", None), revoked_at__isnull=True
        )
    )
    live = [g for g in grants if g.expires_at > now]
    code = None
    if not getattr(actor, "is_active", False) or not grants:
        code = AccountErrorCode.NOT_AGENT
    elif not live:
        code = AccountErrorCode.GRANT_EXPIRED
    else:
        grant = live[0]
        if grant.all_services or grant.items.filter(pk=item.pk).exists():
            return grant
        code = AccountErrorCode.OUT_OF_SCOPE
    with transaction.atomic():
        record(
            actor=actor,
            action=CompanyAction.SCOPE_DENIED,
            result=AuditResult.FAILURE,
            on_behalf_of=company.party,
            object_type="catalog.item",
            object_id=item.pk,
            details={"item": item.code, "error": code.value},
            ip=ip,
            user_agent=user_agent,
        )
    raise AccountError(code)


# --- The register of enterprises ----------------------------------------------------------------

ENTERPRISE_COLUMNS = ("uscc", "name", "legal_rep_name", "legal_rep_id_number")


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def _clean_row(line: int, row: dict, report: LoadReport) -> dict | None:
    values = {k: (row.get(k) or "").strip() for k in ENTERPRISE_COLUMNS}
    problems = []
    try:
        values["uscc"] = validate_uscc(values["uscc"])
    except IdentifierError as exc:
        problems.append(_("统一社会信用代码：%(m)s") % {"m": exc.message})
    try:
        values["legal_rep_id_number"] = validate_id_number(values["legal_rep_id_number"])
    except IdentifierError as exc:
        problems.append(_("法定代表人身份证号：%(m)s") % {"m": exc.message})
    if not values["name"]:
        problems.append(_("名称不能为空"))
    if not values["legal_rep_name"]:
        problems.append(_("法定代表人姓名不能为空"))
    for problem in problems:
        report.errors.append((line, problem))
    return None if problems else values


def load_enterprises(
    fileobj: io.TextIOBase, *, actor: Any = None, source: str = "", dry_run: bool = False
) -> LoadReport:
    """Load the register from CSV (``uscc,name,legal_rep_name,legal_rep_id_number``; header
    row required). Every row is checked first; a file with any bad row loads nothing, and the
    report names each bad row by its line number."""
    report = LoadReport()
    reader = csv.DictReader(fileobj)
    missing = [c for c in ENTERPRISE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        report.errors.append((1, _("缺少列：%(c)s") % {"c": ", ".join(missing)}))
        return report
    rows: dict[str, dict] = {}
    first_line: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        values = _clean_row(line, row, report)
        if values is None:
            continue
        if values["uscc"] in rows:
            report.errors.append(
                (line, _("统一社会信用代码与第%(n)d行重复") % {"n": first_line[values["uscc"]]})
            )
            continue
        rows[values["uscc"]] = values
        first_line[values["uscc"]] = line
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        existing = {r.uscc: r for r in EnterpriseRecord.objects.filter(uscc__in=list(rows))}
        for uscc, values in rows.items():
            rec = existing.get(uscc) or EnterpriseRecord(uscc=uscc)
            rec.name = values["name"]
            rec.legal_rep_name = values["legal_rep_name"]
            rec.legal_rep_id_number = values["legal_rep_id_number"]
            rec.source = source[:100]
            rec.save()
            if uscc in existing:
                report.updated += 1
            else:
                report.created += 1
        record(
            actor=actor,
            action=CompanyAction.LOAD,
            object_type="accounts.enterpriserecord",
            details={"created": report.created, "updated": report.updated, "source": source},
        )
    return report


def companies_for_switch(user: User) -> list[Company]:
    """Companies ``user`` may act for right now."""
    now = timezone.now()
    return list(
        Company.objects.filter(
            Q(legal_rep_id=user.pk)
            | Q(
                agent_grants__agent_id=user.pk,
                agent_grants__revoked_at__isnull=True,
                agent_grants__expires_at__gt=now,
            )
        )
        .distinct()
        .order_by("name")
    )


__all__ = [
    "ActingParty",
    "CompanyAction",
    "LoadReport",
    "acting_party",
    "check_agent_scope",
    "companies_for_switch",
    "grant_agent",
    "load_enterprises",
    "max_expiry",
    "may_act_for",
    "register_company",
    "revoke_agent",
    "switch_acting_party",
]
