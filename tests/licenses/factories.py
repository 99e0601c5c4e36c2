"""License types and licenses in the states the workflow names: ``LicenseFactory(suspended=True)``,
``revoked``, ``cancelled``, ``expired``; ``company_holder=True`` for a company's license.

Licenses are made by :func:`tongban.licenses.services.issue_license` (a real serial, identifier and
seal signature), by a superuser of the seal's organization; the state traits then move the row
the way the services would (``expired`` is issued six years back with five years' validity)."""

import datetime as dt
import itertools

import factory
from django.utils import timezone

from tests.accounts.factories import CompanyFactory, UserFactory
from tests.core.factories import make_uscc
from tests.seals.factories import SealFactory
from tongban.licenses import services
from tongban.licenses.models import HolderKind, License, LicenseStatus, LicenseType
from tongban.seals.codes import SealType

_type_serial = itertools.count(1)

FIELDS = [
    {"key": "scope", "label": "经营范围", "required": True},
    {"key": "address", "label": "经营场所", "required": False, "masked": True},
    {"key": "remark", "label": "备注", "required": False},
]


def make_type_code() -> str:
    return f"{make_uscc('100000')}{next(_type_serial) % 1000:03d}"


class LicenseTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LicenseType

    name = factory.Sequence(lambda n: f"食品经营许可证{n}")
    code = factory.LazyFunction(make_type_code)
    holder_kind = HolderKind.PERSON
    fields = factory.LazyFunction(lambda: [dict(f) for f in FIELDS])
    validity_years = 5
    seal_type = SealType.LICENSE

    class Params:
        company = factory.Trait(holder_kind=HolderKind.COMPANY)
        permanent = factory.Trait(validity_years=None)


def issuer_of(seal):
    return UserFactory(is_superuser=True, is_staff=True)


class LicenseFactory(factory.Factory):
    class Meta:
        model = License

    license_type = factory.SubFactory(LicenseTypeFactory)
    holder = factory.SubFactory(UserFactory)
    seal = factory.SubFactory(SealFactory, seal_type=SealType.LICENSE)
    data = factory.LazyFunction(lambda: {"scope": "预包装食品销售", "address": "东胜区天骄路1号"})
    valid_from = None
    status = LicenseStatus.VALID
    status_reason = ""

    class Params:
        company_holder = factory.Trait(
            license_type=factory.SubFactory(LicenseTypeFactory, company=True),
            holder=factory.SubFactory(CompanyFactory),
        )
        suspended = factory.Trait(status=LicenseStatus.SUSPENDED, status_reason="涉嫌违法经营")
        revoked = factory.Trait(status=LicenseStatus.REVOKED, status_reason="以欺骗手段取得")
        cancelled = factory.Trait(status=LicenseStatus.CANCELLED, status_reason="申请注销")
        expired = factory.Trait(
            valid_from=factory.LazyFunction(
                lambda: timezone.localdate() - dt.timedelta(days=6 * 365)
            ),
            status=LicenseStatus.EXPIRED,
            status_reason="有效期届满",
        )

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("licenses are only made by issue_license")

    @classmethod
    def _create(
        cls, model_class, *, license_type, holder, seal, data, valid_from, status, status_reason
    ):
        lic = services.issue_license(
            actor=issuer_of(seal),
            license_type=license_type,
            holder=holder,
            data=data,
            issuer_seal=seal,
            valid_from=valid_from,
        )
        if status != LicenseStatus.VALID:
            License.objects.filter(pk=lic.pk).update(
                status=status, status_reason=status_reason, status_changed_at=timezone.now()
            )
            lic.refresh_from_db()
        return lic
