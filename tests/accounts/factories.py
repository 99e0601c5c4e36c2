"""Personas for every test that needs someone acting: a citizen, a company with its legal
representative and an agent, staff of each post. Valid ID numbers and credit codes throughout."""

import datetime as dt
import itertools

import factory
from django.utils import timezone

from tests.core.factories import OrganizationFactory, make_uscc
from tongban.accounts.models import (
    AgentGrant,
    Company,
    StaffPost,
    StaffRole,
    User,
    VerificationLevel,
)
from tongban.core.identifiers import id_number_check_char

_serial = itertools.count(1)

PASSWORD = "Tongban#2026-test"


def make_id_number(region: str = "150602", birth: str = "19900101") -> str:
    """A fresh valid resident ID number (GB 11643) for the region and birth date."""
    first17 = f"{region}{birth}{next(_serial) % 1000:03d}"
    return first17 + id_number_check_char(first17)


def make_phone() -> str:
    return f"139{next(_serial):08d}"


class UserFactory(factory.django.DjangoModelFactory):
    """A citizen at L2 (name and ID number verified) with a phone and the test password."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    real_name = factory.Sequence(lambda n: f"张测试{n}")
    id_number = factory.LazyFunction(make_id_number)
    phone = factory.LazyFunction(make_phone)
    level = VerificationLevel.L2
    verified_by = "local"
    verified_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])

    class Params:
        unverified = factory.Trait(
            level=VerificationLevel.L1, real_name="", id_number="", verified_by="", verified_at=None
        )
        face_checked = factory.Trait(level=VerificationLevel.L3)


class CompanyFactory(factory.django.DjangoModelFactory):
    """A company whose legal representative is a verified person."""

    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"鄂尔多斯市测试商贸有限公司{n}")
    uscc = factory.LazyFunction(lambda: make_uscc("150602", authority="9", category="1"))
    legal_rep = factory.SubFactory(UserFactory)
    legal_rep_name = factory.LazyAttribute(lambda o: o.legal_rep.real_name)
    verified_by = "local"
    verified_at = factory.LazyFunction(timezone.now)


class AgentGrantFactory(factory.django.DjangoModelFactory):
    """A live grant for every service, valid for a year. Traits: ``expired``, ``revoked``."""

    class Meta:
        model = AgentGrant

    company = factory.SubFactory(CompanyFactory)
    agent = factory.SubFactory(UserFactory)
    all_services = True
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=365))
    granted_by = factory.LazyAttribute(lambda o: o.company.legal_rep)

    class Params:
        expired = factory.Trait(
            expires_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
        )
        revoked = factory.Trait(revoked_at=factory.LazyFunction(timezone.now))


class StaffPostFactory(factory.django.DjangoModelFactory):
    """A staff member (a verified person) in a post of an organization. Traits name the posts."""

    class Meta:
        model = StaffPost

    user = factory.SubFactory(UserFactory, is_staff=True)
    organization = factory.SubFactory(OrganizationFactory)
    role = StaffRole.CLERK

    class Params:
        reviewer = factory.Trait(role=StaffRole.REVIEWER)
        org_admin = factory.Trait(role=StaffRole.ORG_ADMIN)
        operator = factory.Trait(role=StaffRole.OPERATOR)
        system_admin = factory.Trait(role=StaffRole.SYSTEM_ADMIN)
        security_admin = factory.Trait(role=StaffRole.SECURITY_ADMIN)
        audit_admin = factory.Trait(role=StaffRole.AUDIT_ADMIN)


def make_staff(organization, role):
    """A staff member in ``role`` at ``organization``, in the role's group (its permissions)."""
    from tongban.accounts.staff import role_group

    user = StaffPostFactory(organization=organization, role=role).user
    user.groups.add(role_group(role))
    return user


def staff_of_two_organizations(name_a: str):
    """The personas of authorization tests: org admin, reviewer and clerk of organization A, an
    org admin of organization B."""
    from types import SimpleNamespace

    org_a, org_b = OrganizationFactory(name=name_a), OrganizationFactory()
    return SimpleNamespace(
        org_a=org_a,
        org_b=org_b,
        admin_a=make_staff(org_a, StaffRole.ORG_ADMIN),
        reviewer_a=make_staff(org_a, StaffRole.REVIEWER),
        clerk_a=make_staff(org_a, StaffRole.CLERK),
        admin_b=make_staff(org_b, StaffRole.ORG_ADMIN),
    )
