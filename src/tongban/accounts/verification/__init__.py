"""Real-name verification (L2 name + ID number, L3 face) behind pluggable providers."""

from tongban.accounts.verification.base import (
    FaceEvidence,
    FaceProvider,
    Outcome,
    ProviderUnavailable,
    RealNameProvider,
)
from tongban.accounts.verification.registry import face_provider, real_name_provider, register
from tongban.accounts.verification.services import (
    clean_id_number,
    clean_real_name,
    require_level,
    verify_face,
    verify_real_name,
)

__all__ = [
    "FaceEvidence",
    "FaceProvider",
    "Outcome",
    "ProviderUnavailable",
    "RealNameProvider",
    "clean_id_number",
    "clean_real_name",
    "face_provider",
    "real_name_provider",
    "register",
    "require_level",
    "verify_face",
    "verify_real_name",
]
