"""Account models, one module per part of the identity (persons, companies, staff, security)."""

from tongban.accounts.models.clients import ClientPolicy, SubjectIdentifier
from tongban.accounts.models.companies import AgentGrant, Company, EnterpriseRecord
from tongban.accounts.models.persons import PopulationRecord, User, VerificationLevel
from tongban.accounts.models.second_factor import TotpUse
from tongban.accounts.models.security import (
    MessageChannel,
    OneTimeCode,
    OneTimeCodePurpose,
    OutgoingMessage,
    Throttle,
)
from tongban.accounts.models.staff import SEPARATED_ADMIN_ROLES, StaffPost, StaffRole

__all__ = [
    "SEPARATED_ADMIN_ROLES",
    "AgentGrant",
    "ClientPolicy",
    "Company",
    "EnterpriseRecord",
    "MessageChannel",
    "OneTimeCode",
    "OneTimeCodePurpose",
    "OutgoingMessage",
    "PopulationRecord",
    "StaffPost",
    "StaffRole",
    "SubjectIdentifier",
    "Throttle",
    "TotpUse",
    "User",
    "VerificationLevel",
]
