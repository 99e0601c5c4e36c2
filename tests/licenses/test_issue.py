"""Issuing: the identifier (GB/T 36904 vectors), data checked against the type, serials, the seal
signature, permissions, and the models' own rules."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from tests.accounts.factories import CompanyFactory, UserFactory
from tests.licenses.factories import LicenseFactory, LicenseTypeFactory
from tests.seals.factories import SealFactory
from tongban.core.identifiers import (
    IdentifierError,
    license_check_char,
    validate_license_identifier,
)
from tongban.core.models import AuditRecord
from tongban.licenses import services
from tongban.licenses.errors import LicenseError
from tongban.licenses.models import (
    FieldSpecsValidator,
    License,
    LicenseEvent,
    LicenseStatus,
    validate_type_code,
)
from tongban.seals.codes import SealType
from tongban.seals.errors import VerifyCode
from tongban.seals.services import verify_signature

pytestmark = pytest.mark.django_db

VECTORS = [  # STANDARDS.md §2.2
    "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
]


@pytest.mark.parametrize("vector", VECTORS)
def test_identifier_vectors(vector):
    parts = vector.split(".")
    type_code, issuer, serial, version, check = parts[5:]
    assert services.build_identifier(type_code, issuer, serial, int(version)) == vector
    assert license_check_char(type_code + issuer + serial + version) == check
    assert validate_license_identifier(vector) == vector
    with pytest.raises(IdentifierError) as exc:
        validate_license_identifier(vector[:-1] + ("A" if check != "A" else "B"))
    assert exc.value.reason == "check"


def test_the_api_doc_example_fails_its_check():
    wrong = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.M"
    with pytest.raises(IdentifierError):
        validate_license_identifier(wrong)


def _issue(people, seal, **kwargs):
    args = {
        "actor": people.reviewer_a,
        "license_type": kwargs.pop("license_type", None) or LicenseTypeFactory(),
        "holder": kwargs.pop("holder", None) or UserFactory(),
        "data": {"scope": "预包装食品销售", "address": "东胜区天骄路1号"},
        "issuer_seal": seal,
    }
    args.update(kwargs)
    return services.issue_license(**args)


def test_issue_makes_a_signed_license_with_a_valid_identifier(people, seal):
    holder = UserFactory()
    lic = _issue(people, seal, holder=holder, case_reference="C-2026-1")
    lic.refresh_from_db()
    assert validate_license_identifier(lic.identifier) == lic.identifier
    assert lic.identifier.split(".")[6] == people.org_a.uscc
    assert lic.serial == "000000001"
    assert lic.holder_name == holder.real_name
    assert lic.holder_id_number == holder.id_number  # decrypted on read
    assert lic.holder_id_number_digest
    assert lic.data == {"scope": "预包装食品销售", "address": "东胜区天骄路1号"}
    assert lic.valid_from == timezone.localdate()
    assert lic.valid_to == services.validity(lic.license_type, lic.valid_from)
    assert lic.status == LicenseStatus.VALID
    assert lic.status_code == "01"
    assert verify_signature(lic.signature, services.canonical_bytes(lic)).code == VerifyCode.OK
    assert lic.signature.reference == lic.identifier
    assert list(lic.events.values_list("action", "to_status")) == [("issue", "valid")]
    audit = AuditRecord.objects.get(action="license.issue")
    assert audit.details["identifier"] == lic.identifier
    assert holder.id_number not in str(audit.details)
    # The encrypted column holds no plain ID number.
    with connection.cursor() as cursor:
        cursor.execute("SELECT holder_id_number FROM licenses_license WHERE id = %s", [lic.pk])
        assert holder.id_number not in cursor.fetchone()[0]


def test_serials_follow_per_type_and_issuer(people, seal):
    license_type = LicenseTypeFactory()
    first = _issue(people, seal, license_type=license_type)
    second = _issue(people, seal, license_type=license_type)
    other_type = _issue(people, seal)
    assert (first.serial, second.serial, other_type.serial) == (
        "000000001",
        "000000002",
        "000000001",
    )


def test_company_license(people, seal):
    company = CompanyFactory()
    lic = _issue(people, seal, license_type=LicenseTypeFactory(company=True), holder=company)
    assert (lic.holder_code, lic.holder_code_type, lic.company) == (company.uscc, "001", company)
    assert lic.person is None
    assert lic.holder_id_number == ""


def test_validity_rules():
    five = LicenseTypeFactory.build(validity_years=5)
    assert services.validity(five, dt.date(2024, 2, 29)) == dt.date(2029, 2, 27)
    assert services.validity(five, dt.date(2026, 3, 1)) == dt.date(2031, 2, 28)
    assert services.validity(LicenseTypeFactory.build(permanent=True), dt.date(2026, 1, 1)) is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"address": "x"}, "scope"),  # required missing
        ({"scope": "  "}, "scope"),  # required blank
        ({"scope": "x", "unknown": "y"}, "unknown"),
        ({"scope": 12}, "scope"),
        ({"scope": "x" * 1001}, "scope"),
        (["scope"], "data"),
    ],
)
def test_data_that_does_not_fit_the_type_is_refused(people, seal, data, field):
    with pytest.raises(LicenseError) as exc:
        _issue(people, seal, data=data)
    assert (exc.value.code, exc.value.field) == ("invalid_data", field)
    assert not License.objects.exists()
    assert AuditRecord.objects.filter(action="license.issue", result="failure").exists()


def test_holder_of_the_wrong_kind_or_unverified(people, seal):
    with pytest.raises(LicenseError) as exc:
        _issue(people, seal, holder=CompanyFactory())
    assert exc.value.code == "holder_mismatch"
    with pytest.raises(LicenseError) as exc:
        _issue(people, seal, license_type=LicenseTypeFactory(company=True), holder=UserFactory())
    assert exc.value.code == "holder_mismatch"
    with pytest.raises(LicenseError) as exc:
        _issue(people, seal, holder=UserFactory(unverified=True))
    assert exc.value.code == "holder_unverified"


def test_wrong_seal_type_and_unusable_seal(people):
    with pytest.raises(LicenseError) as exc:
        _issue(people, SealFactory(organization=people.org_a, seal_type=SealType.OFFICIAL))
    assert exc.value.code == "wrong_seal_type"
    suspended = SealFactory(organization=people.org_a, seal_type=SealType.LICENSE, suspended=True)
    with pytest.raises(LicenseError) as exc:
        _issue(people, suspended)
    assert (exc.value.code, exc.value.detail) == ("seal_unusable", "seal_suspended")
    assert not License.objects.exists()


def test_only_staff_of_the_issuing_organization_with_the_permission_issue(people, seal):
    for actor, code in (
        (people.admin_b, "not_found"),
        (people.clerk_a, "forbidden"),
        (UserFactory(), "not_found"),
    ):
        with pytest.raises(LicenseError) as exc:
            _issue(people, seal, actor=actor)
        assert exc.value.code == code
    assert not License.objects.exists()
    assert not LicenseEvent.objects.exists()
    _issue(people, seal, actor=people.admin_a)  # org admins issue too


def test_inactive_type(people, seal):
    with pytest.raises(LicenseError) as exc:
        _issue(people, seal, license_type=LicenseTypeFactory(is_active=False))
    assert exc.value.code == "inactive_type"


def test_type_code_and_field_specs_validation():
    validate_type_code("11100000000013338W032")
    for bad in ("11100000000013338W03", "11100000000013338X032", "1110000000001333 W032"):
        with pytest.raises(ValidationError):
            validate_type_code(bad)
    check = FieldSpecsValidator()
    check([{"key": "scope", "label": "经营范围", "required": True}])
    for bad in (
        {"key": "scope"},
        [{"key": "Scope", "label": "x"}],
        [{"key": "a", "label": "x"}, {"key": "a", "label": "y"}],
        [{"key": "a", "label": ""}],
        [{"key": "a", "label": "x", "required": "yes"}],
        [{"key": "a", "label": "x", "colour": "red"}],
    ):
        with pytest.raises(ValidationError):
            check(bad)


def test_a_license_holds_exactly_one_holder_of_its_kind(people, seal):
    lic = LicenseFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        License.objects.filter(pk=lic.pk).update(company=CompanyFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        License.objects.filter(pk=lic.pk).update(holder_kind="company")
    with pytest.raises(IntegrityError), transaction.atomic():
        License.objects.filter(pk=lic.pk).update(person=None)


def test_factory_traits():
    assert LicenseFactory(suspended=True).status == "suspended"
    assert LicenseFactory(revoked=True).status == "revoked"
    expired = LicenseFactory(expired=True)
    assert expired.status == "expired"
    assert expired.valid_to < timezone.localdate()
    assert LicenseFactory(company_holder=True).company is not None


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_serials_are_unique_under_concurrency(people, seal):
    license_type = LicenseTypeFactory()
    holders = [UserFactory() for _ in range(8)]
    barrier = threading.Barrier(len(holders))
    errors: list[Exception] = []

    def work(holder) -> None:
        try:
            barrier.wait()
            _issue(people, seal, license_type=license_type, holder=holder)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(h,)) for h in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    serials = sorted(
        License.objects.filter(license_type=license_type).values_list("serial", flat=True)
    )
    assert serials == [f"{n:09d}" for n in range(1, 9)]
