"""Seals in the states the workflow names: ``SealFactory(suspended=True)``, ``revoked``,
``expired``. Each seal gets its first SM2 key (version 1), stored as the services store it."""

import datetime as dt

import factory
from django.utils import timezone

from tests.core.factories import OrganizationFactory
from tongban.core import crypto
from tongban.seals.codes import SealType, seal_code
from tongban.seals.models import Seal, SealKey, SealStatus


def _today() -> dt.date:
    return timezone.localdate()


class SealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seal
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    seal_type = SealType.ADMIN_APPROVAL
    name = factory.LazyAttribute(lambda o: f"{o.organization.name}行政审批专用章")
    code = factory.LazyAttributeSequence(
        lambda o, n: seal_code(o.organization.uscc, o.seal_type, n % 99 + 1)
    )
    valid_from = factory.LazyFunction(lambda: _today() - dt.timedelta(days=30))
    valid_to = factory.LazyFunction(lambda: _today() + dt.timedelta(days=3 * 365))

    class Params:
        suspended = factory.Trait(
            status=SealStatus.SUSPENDED,
            suspended_at=factory.LazyFunction(timezone.now),
            status_reason="印章遗失待查",
        )
        revoked = factory.Trait(
            status=SealStatus.REVOKED,
            revoked_at=factory.LazyFunction(timezone.now),
            status_reason="机构撤并",
        )
        expired = factory.Trait(
            valid_from=factory.LazyFunction(lambda: _today() - dt.timedelta(days=1000)),
            valid_to=factory.LazyFunction(lambda: _today() - dt.timedelta(days=1)),
        )

    @factory.post_generation
    def key(obj, create, extracted, **kwargs):
        if not create:
            return
        private, public = crypto.generate_keypair()
        SealKey.objects.create(
            seal=obj,
            version=1,
            public_key=public.to_bytes().hex(),
            private_key_sealed=crypto.seal_private_key(private),
        )
