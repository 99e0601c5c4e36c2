"""Real-name verification of persons: L2 (name + ID number) and L3 (face), and the level check
that services declare (:func:`require_level`).

Every attempt, passed or not, is audited (``account.verify_real_name`` / ``account.verify_face``).
A refused attempt commits its audit record and its failure count before the error is raised.
Failed L2 attempts are limited per account (:data:`VERIFY_RULE`) so that nobody can try names
against an ID number at length.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.accounts import throttling
from tongban.accounts.errors import AccountError, AccountErrorCode
from tongban.accounts.models import User, VerificationLevel
from tongban.accounts.verification.base import FaceEvidence, Outcome, ProviderUnavailable
from tongban.accounts.verification.registry import face_provider, real_name_provider
from tongban.core.audit import AuditResult, record
from tongban.core.identifiers import IdentifierError, validate_id_number
from tongban.core.personal import lookup_digest, mask_id_number

ACTION_VERIFY_REAL_NAME = "account.verify_real_name"
ACTION_VERIFY_FACE = "account.verify_face"
VERIFY_RULE = throttling.Rule(
    "verify_user", limit=10, window=dt.timedelta(days=1), lock_for=dt.timedelta(days=1)
)
_NAME = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef·•]{2,30}$")


def clean_real_name(value: str) -> str:
    """A name as on the ID card: 2 to 30 Chinese characters, minority names with a middle dot."""
    name = "".join((value or "").split()).replace("•", "·")
    if not _NAME.match(name) or name.startswith("·") or name.endswith("·"):
        raise AccountError(AccountErrorCode.INVALID_NAME, field="real_name")
    return name


def clean_id_number(value: str) -> str:
    """The ID number upper-cased, or :class:`AccountError` naming what is wrong with it
    (length, characters, region, date or check character)."""
    try:
        return validate_id_number(value)
    except IdentifierError as exc:
        raise AccountError(
            AccountErrorCode.INVALID_ID_NUMBER, field="id_number", message=str(exc.message)
        ) from None


def require_level(user: Any, level: int) -> None:
    """Raise ``LEVEL_TOO_LOW`` unless ``user`` is logged in and verified to ``level``."""
    if not (user and getattr(user, "is_authenticated", False)) or int(user.level) < int(level):
        raise AccountError(AccountErrorCode.LEVEL_TOO_LOW)


def _audit(actor: User, action: str, result: str, ctx: dict[str, Any], **details: Any) -> None:
    record(
        actor=actor,
        action=action,
        result=result,
        object_type="accounts.user",
        object_id=actor.pk,
        ip=ctx.get("ip"),
        user_agent=ctx.get("user_agent", ""),
        details=details,
    )


def verify_real_name(
    *, actor: User, real_name: str, id_number: str, ip: str | None = None, user_agent: str = ""
) -> User:
    """Check name and ID number with the L2 provider and raise ``actor`` to L2.

    Errors: ``INVALID_NAME``, ``INVALID_ID_NUMBER`` (with the reason), ``ALREADY_VERIFIED``,
    ``ID_NUMBER_TAKEN`` (verified on another account), ``RATE_LIMITED``,
    ``VERIFICATION_FAILED``, ``VERIFICATION_UNAVAILABLE``.
    """
    ctx = {"ip": ip, "user_agent": user_agent}
    name = clean_real_name(real_name)
    number = clean_id_number(id_number)
    if actor.level >= VerificationLevel.L2:
        raise AccountError(AccountErrorCode.ALREADY_VERIFIED)
    key = throttling.key_for("user", actor.pk)
    if throttling.locked_until(VERIFY_RULE.scope, key):
        raise AccountError(AccountErrorCode.RATE_LIMITED)
    masked = mask_id_number(number)
    digest = lookup_digest("id_number", number)
    if User.objects.filter(id_number_digest=digest).exclude(pk=actor.pk).exists():
        with transaction.atomic():
            throttling.fail(VERIFY_RULE, key)
            _audit(
                actor,
                ACTION_VERIFY_REAL_NAME,
                AuditResult.FAILURE,
                ctx,
                error=AccountErrorCode.ID_NUMBER_TAKEN.value,
                id_number=masked,
            )
        raise AccountError(AccountErrorCode.ID_NUMBER_TAKEN, field="id_number")
    provider = real_name_provider()
    try:
        outcome = provider.check_real_name(real_name=name, id_number=number)
    except ProviderUnavailable as exc:
        raise AccountError(AccountErrorCode.VERIFICATION_UNAVAILABLE, message=exc.message) from None
    if not outcome.passed:
        with transaction.atomic():
            throttling.fail(VERIFY_RULE, key)
            _audit(
                actor,
                ACTION_VERIFY_REAL_NAME,
                AuditResult.FAILURE,
                ctx,
                provider=provider.name,
                reason=outcome.reason,
                id_number=masked,
            )
        raise AccountError(AccountErrorCode.VERIFICATION_FAILED, message=outcome.message or "")
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=actor.pk)
            if user.level >= VerificationLevel.L2:
                raise AccountError(AccountErrorCode.ALREADY_VERIFIED)
            user.real_name, user.id_number = name, number
            user.level = VerificationLevel.L2
            user.verified_by, user.verified_at = provider.name, timezone.now()
            user.save(
                update_fields=[
                    "real_name",
                    "id_number",
                    "id_number_digest",
                    "level",
                    "verified_by",
                    "verified_at",
                ]
            )
            _audit(
                user,
                ACTION_VERIFY_REAL_NAME,
                AuditResult.SUCCESS,
                ctx,
                provider=provider.name,
                reference=outcome.reference,
                id_number=masked,
            )
    except IntegrityError:  # the same number verified on another account meanwhile
        raise AccountError(AccountErrorCode.ID_NUMBER_TAKEN, field="id_number") from None
    _copy(actor, user)
    return user


def verify_face(
    *, actor: User, evidence: FaceEvidence, ip: str | None = None, user_agent: str = ""
) -> User:
    """Check the face with the L3 provider and raise ``actor`` to L3.

    Requires L2 (``LEVEL_TOO_LOW``). Errors: ``ALREADY_VERIFIED``, ``VERIFICATION_FAILED``,
    ``VERIFICATION_UNAVAILABLE`` (e.g. the local provider in production).
    """
    ctx = {"ip": ip, "user_agent": user_agent}
    require_level(actor, VerificationLevel.L2)
    if actor.level >= VerificationLevel.L3:
        raise AccountError(AccountErrorCode.ALREADY_VERIFIED)
    provider = face_provider()
    try:
        outcome: Outcome = provider.check_face(
            real_name=actor.real_name, id_number=actor.id_number, evidence=evidence
        )
    except ProviderUnavailable as exc:
        with transaction.atomic():
            _audit(
                actor,
                ACTION_VERIFY_FACE,
                AuditResult.FAILURE,
                ctx,
                provider=provider.name,
                reason="unavailable",
            )
        raise AccountError(AccountErrorCode.VERIFICATION_UNAVAILABLE, message=exc.message) from None
    if not outcome.passed:
        with transaction.atomic():
            _audit(
                actor,
                ACTION_VERIFY_FACE,
                AuditResult.FAILURE,
                ctx,
                provider=provider.name,
                reason=outcome.reason,
            )
        raise AccountError(
            AccountErrorCode.VERIFICATION_FAILED, message=outcome.message or _("人脸核验未通过")
        )
    with transaction.atomic():
        updated = User.objects.filter(pk=actor.pk, level=VerificationLevel.L2).update(
            level=VerificationLevel.L3, verified_by=provider.name, verified_at=timezone.now()
        )
        if updated != 1:
            raise AccountError(AccountErrorCode.ALREADY_VERIFIED)
        user = User.objects.get(pk=actor.pk)
        _audit(
            user,
            ACTION_VERIFY_FACE,
            AuditResult.SUCCESS,
            ctx,
            provider=provider.name,
            reference=outcome.reference,
        )
    _copy(actor, user)
    return user


def _copy(target: User, source: User) -> None:
    """Keep the caller's instance (often ``request.user``) in step with the saved row."""
    for name in (
        "real_name",
        "id_number",
        "id_number_digest",
        "level",
        "verified_by",
        "verified_at",
    ):
        setattr(target, name, getattr(source, name))
