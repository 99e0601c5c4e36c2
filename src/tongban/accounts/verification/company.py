"""Company verification (法人核验): does the market regulator's register hold this credit code,
under this name, with this person as legal representative?

Pluggable like the person checks (:mod:`tongban.accounts.verification.registry`):
``TONGBAN_COMPANY_PROVIDER`` is ``local`` (default, the :class:`EnterpriseRecord` table loaded
with ``tongban load_enterprises``) or the dotted path of a :class:`CompanyProvider` subclass
(for example a gateway to the national enterprise credit information system).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from tongban.accounts.models import EnterpriseRecord
from tongban.accounts.verification.base import Outcome, ProviderUnavailable

ACTIVE_STATUSES = frozenset({"存续", "在业", "开业"})


class CompanyProvider(ABC):
    name: ClassVar[str]

    @abstractmethod
    def check_company(
        self, *, uscc: str, name: str, legal_rep_name: str, legal_rep_id_digest: str
    ) -> Outcome:
        """``legal_rep_id_digest`` is the keyed digest of the representative's ID number (the
        local register stores the same digest; a remote provider decrypts nothing)."""


def _norm(text: str) -> str:
    return "".join((text or "").split()).replace("(", "（").replace(")", "）")


class LocalCompanyProvider(CompanyProvider):
    name = "local"

    def check_company(
        self, *, uscc: str, name: str, legal_rep_name: str, legal_rep_id_digest: str
    ) -> Outcome:
        record = EnterpriseRecord.objects.filter(uscc=uscc).first()
        # One message whatever did not match: nobody learns a company's representative by trying.
        message = _("企业名称、统一社会信用代码与法定代表人信息不一致，或登记信息库中没有该企业")
        if record is None:
            return Outcome(False, "no_record", message)
        if record.status not in ACTIVE_STATUSES:
            return Outcome(False, "not_active", _("该企业登记状态为“%(s)s”") % {"s": record.status})
        if _norm(record.name) != _norm(name):
            return Outcome(False, "name_mismatch", message)
        if _norm(record.legal_rep_name) != _norm(legal_rep_name):
            return Outcome(False, "legal_rep_mismatch", message)
        if not legal_rep_id_digest or record.legal_rep_id_digest != legal_rep_id_digest:
            return Outcome(False, "legal_rep_mismatch", message)
        return Outcome(True, "", "", reference=f"enterprise:{record.pk}")


_PROVIDERS: dict[str, type[CompanyProvider]] = {LocalCompanyProvider.name: LocalCompanyProvider}


def register_company_provider(provider: type[CompanyProvider]) -> type[CompanyProvider]:
    _PROVIDERS[provider.name] = provider
    return provider


def company_provider() -> CompanyProvider:
    name = str(getattr(settings, "TONGBAN_COMPANY_PROVIDER", "local") or "local")
    cls = _PROVIDERS.get(name)
    if cls is None:
        try:
            cls = import_string(name)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"TONGBAN_COMPANY_PROVIDER={name!r}: no such provider ({exc})"
            ) from exc
        if not (isinstance(cls, type) and issubclass(cls, CompanyProvider)):
            raise ImproperlyConfigured(
                f"TONGBAN_COMPANY_PROVIDER={name!r} is not a CompanyProvider"
            )
    return cls()


__all__ = [
    "CompanyProvider",
    "LocalCompanyProvider",
    "ProviderUnavailable",
    "company_provider",
    "register_company_provider",
]
