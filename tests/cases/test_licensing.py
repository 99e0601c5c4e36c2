"""A concluded, approved case issues its e-license (issue 5 done-when), inside the conclusion."""

from __future__ import annotations

import pytest

from tests.cases.factories import make_case, setting
from tests.licenses.factories import LicenseTypeFactory
from tests.seals.factories import SealFactory
from tongban.cases import licensing, services
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import CaseStatus, MaterialKind
from tongban.licenses.models import License
from tongban.seals.codes import SealType

pytestmark = pytest.mark.django_db

FIELDS = [
    {"key": "address", "label": "经营场所", "required": True},
    {"key": "area", "label": "经营面积", "required": False},
    {"key": "scope", "label": "经营项目", "required": True},
]


@pytest.fixture
def env():
    env = setting()
    env.license_type = LicenseTypeFactory(fields=FIELDS)
    env.license_type.items.add(env.implementation.item)
    return env


def test_form_answers_prefill_the_license_fields_by_key(env):
    case = make_case(env, "decided")
    fields = {f.key: f.value for f in licensing.fields_for(case, env.license_type)}
    assert fields == {"address": "东胜区鄂尔多斯西街1号", "area": "120", "scope": ""}


def test_concluding_issues_the_license_and_makes_it_the_result(env):
    SealFactory(organization=env.organization, seal_type=SealType.LICENSE)
    case = make_case(env, "decided")
    services.conclude(
        actor=env.reviewer,
        case=case,
        version=case.version,
        license_data={"scope": "预包装食品销售"},
    )
    lic = License.objects.get(case_reference=case.number)
    assert lic.person_id == env.citizen.pk
    assert lic.data["scope"] == "预包装食品销售"
    assert lic.data["address"].startswith("东胜区")
    result = case.materials.get(kind=MaterialKind.RESULT)
    assert lic.identifier in result.name
    assert case.events.last().details["license"] == lic.identifier


def test_a_missing_license_field_refuses_the_conclusion_and_issues_nothing(env):
    SealFactory(organization=env.organization, seal_type=SealType.LICENSE)
    case = make_case(env, "decided")
    with pytest.raises(CaseError) as caught:
        services.conclude(actor=env.reviewer, case=case, version=case.version)
    assert caught.value.code == CaseErrorCode.LICENSE_REFUSED
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDED
    assert not License.objects.exists()
    assert not case.materials.filter(kind=MaterialKind.RESULT).exists()


def test_without_a_usable_seal_the_case_does_not_conclude(env):
    SealFactory(organization=env.organization, seal_type=SealType.LICENSE, revoked=True)
    case = make_case(env, "decided")
    with pytest.raises(CaseError) as caught:
        services.conclude(
            actor=env.reviewer, case=case, version=case.version, license_data={"scope": "x"}
        )
    assert caught.value.code == CaseErrorCode.NO_SEAL
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDED


def test_a_denied_case_issues_no_license(env):
    case = make_case(env, "under_review")
    services.deny(actor=env.reviewer, case=case, version=case.version, opinion="不符合条件")
    services.conclude(actor=env.reviewer, case=case, version=case.version)
    assert case.status == CaseStatus.CONCLUDED
    assert not License.objects.exists()
