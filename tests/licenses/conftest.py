"""Personas of the license tests: a reviewer (issues) and an org admin (manages) of the issuing
organization A, an org admin of organization B, a clerk of A; a license seal of A."""

import pytest

from tests.accounts.factories import staff_of_two_organizations
from tests.seals.factories import SealFactory
from tongban.seals.codes import SealType


@pytest.fixture
def people(db):
    return staff_of_two_organizations("鄂尔多斯市东胜区市场监督管理局")


@pytest.fixture
def seal(people):
    return SealFactory(organization=people.org_a, seal_type=SealType.LICENSE)
