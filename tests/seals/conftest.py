"""Personas of the seal tests: an org admin and a reviewer of organization A, an org admin of
organization B, a clerk of A. The role groups carry the seal permissions of
accounts.staff.ROLE_PERMISSIONS (org admin: manage + use + view; reviewer: use + view)."""

import pytest

from tests.accounts.factories import staff_of_two_organizations
from tests.seals.factories import SealFactory
from tongban.accounts.models import StaffRole
from tongban.accounts.staff import role_group

ROLE_SEAL_PERMISSIONS = {
    StaffRole.ORG_ADMIN: ("manage_seal", "use_seal", "view_seal"),
    StaffRole.REVIEWER: ("use_seal",),
}


@pytest.fixture
def people(db):
    for role, codenames in ROLE_SEAL_PERMISSIONS.items():  # mapped in accounts.staff
        granted = set(role_group(role).permissions.values_list("codename", flat=True))
        assert set(codenames) <= granted
    return staff_of_two_organizations("鄂尔多斯市东胜区行政审批和政务服务局")


@pytest.fixture
def seal(people):
    return SealFactory(organization=people.org_a)
