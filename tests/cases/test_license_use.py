"""用证: a license from the wallet stands in for a material, with the holder's recorded consent;
anyone else's license, an invalid one or one of the wrong type is refused with its reason."""

from __future__ import annotations

import pytest

from tests.accounts.factories import UserFactory
from tests.cases.factories import FORM, pdf
from tests.licenses.factories import LicenseFactory, LicenseTypeFactory
from tongban.cases import applications
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import Draft, MaterialKind
from tongban.core.models import AuditRecord
from tongban.licenses.models import LicenseUse
from tongban.licenses.services import revoke_license

pytestmark = pytest.mark.django_db


@pytest.fixture
def wallet(env):
    """The citizen holds a business license that stands in for the 营业执照 material."""
    license_type = LicenseTypeFactory(name="营业执照（电子）")
    license_type.materials.add(env.licence)
    env.license = LicenseFactory(holder=env.citizen, license_type=license_type)
    return env


def _draft(env, applicant=None):
    applicant = applicant or env.citizen
    draft = applications.open_draft(actor=applicant, implementation=env.implementation)
    applications.save_draft(actor=applicant, draft=draft, data=FORM)
    applications.attach(
        actor=applicant, draft=draft, material_id=env.plan.pk, upload=pdf("plan.pdf", b"p")
    )
    return draft


def test_a_license_stands_in_for_the_material_with_a_recorded_consent(wallet):
    env = wallet
    draft = _draft(env)
    applications.use_license(
        actor=env.citizen, draft=draft, material_id=env.licence.pk, license_id=env.license.pk
    )
    assert Draft.objects.get(pk=draft.pk).licenses == {str(env.licence.pk): env.license.pk}
    case = applications.submit(actor=env.citizen, draft=draft).case
    row = case.materials.get(kind=MaterialKind.LICENSE)
    assert row.material_id == env.licence.pk
    assert row.license_identifier == env.license.identifier
    use = LicenseUse.objects.get()
    assert (use.license_id, use.organization_id, use.case_reference) == (
        env.license.pk,
        env.organization.pk,
        case.number,
    )
    assert use.expires_at > use.granted_at
    assert AuditRecord.objects.filter(action="license.use", result="success").exists()


def test_someone_elses_license_is_refused_and_recorded(wallet):
    env = wallet
    stranger = UserFactory()
    draft = _draft(env, stranger)
    with pytest.raises(CaseError) as caught:
        applications.use_license(
            actor=stranger, draft=draft, material_id=env.licence.pk, license_id=env.license.pk
        )
    assert caught.value.code == CaseErrorCode.LICENSE_NOT_USABLE
    assert "只能使用本人" in caught.value.message
    assert caught.value.field == f"m{env.licence.pk}"
    assert Draft.objects.get(pk=draft.pk).licenses == {}
    assert AuditRecord.objects.filter(action="license.use", result="failure").exists()


def test_a_license_of_the_wrong_type_is_refused(wallet):
    env = wallet
    draft = _draft(env)
    with pytest.raises(CaseError) as caught:
        applications.use_license(
            actor=env.citizen, draft=draft, material_id=env.plan.pk, license_id=env.license.pk
        )
    assert "不能代替这项材料" in caught.value.message


def test_a_license_revoked_before_submission_stops_the_submission(wallet):
    env = wallet
    draft = _draft(env)
    applications.use_license(
        actor=env.citizen, draft=draft, material_id=env.licence.pk, license_id=env.license.pk
    )
    issuer = UserFactory(is_superuser=True, is_staff=True)
    revoke_license(actor=issuer, license=env.license, reason="依法撤销")
    with pytest.raises(CaseError) as caught:
        applications.submit(actor=env.citizen, draft=draft)
    assert "当前无效" in caught.value.errors[f"m{env.licence.pk}"][0]
    assert Draft.objects.filter(pk=draft.pk).exists()
    assert not LicenseUse.objects.exists()


def test_choosing_to_upload_instead_forgets_the_license(wallet):
    env = wallet
    draft = _draft(env)
    applications.use_license(
        actor=env.citizen, draft=draft, material_id=env.licence.pk, license_id=env.license.pk
    )
    applications.stop_using_license(actor=env.citizen, draft=draft, material_id=env.licence.pk)
    with pytest.raises(CaseError) as caught:
        applications.submit(actor=env.citizen, draft=draft)
    assert f"m{env.licence.pk}" in caught.value.errors
