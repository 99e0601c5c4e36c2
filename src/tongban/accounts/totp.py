"""The staff second factor: time-based one-time passwords (TOTP, RFC 6238; pyotp).

* :func:`requires_second_factor` — every staff post can change data or read personal data, so
  every post holder needs it, and so does a superuser (the demo operator).
* :func:`begin_enrolment` stores a new secret (SM4-encrypted on the user) and returns it with its
  ``otpauth://`` URI, shown as a QR code (:func:`qr_svg`); :func:`confirm_enrolment` activates it
  once the person types a valid code. A confirmed second factor is never replaced this way: a
  security administrator resets it (:func:`reset`), and the person enrols again at next login.
* :func:`verify` accepts a code of the current 30-second step or one step either side, only for a
  step later than the last accepted one (:class:`TotpUse`, replay protection). Wrong codes count
  toward a lockout of the account (:mod:`tongban.accounts.throttling`, scope ``totp``); each
  failure and each lockout is written to the audit trail.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pyotp
import segno
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.accounts import throttling
from tongban.accounts.errors import AccountError, AccountErrorCode
from tongban.accounts.models import StaffPost, TotpUse, User
from tongban.core.audit import AuditAction, AuditResult, record

ISSUER = "Tongban"
INTERVAL = 30
VALID_WINDOW = 1  # steps either side, for clocks that drift
RULE = throttling.Rule(
    scope="totp",
    limit=5,
    window=dt.timedelta(minutes=15),
    lock_for=dt.timedelta(minutes=15),
)


class TotpAction:
    ENROL = "auth.totp_enrol"
    RESET = "auth.totp_reset"


def requires_second_factor(user: Any) -> bool:
    if not (user and getattr(user, "is_authenticated", False)):
        return False
    if user.is_superuser:
        return True
    return StaffPost.objects.filter(user_id=user.pk).exists()


def _key(user: User) -> str:
    return throttling.key_for("user", user.pk)


def _step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // INTERVAL)


def provisioning_uri(user: User, secret: str) -> str:
    issuer = getattr(settings, "TONGBAN_TOTP_ISSUER", ISSUER)
    return pyotp.TOTP(secret, interval=INTERVAL).provisioning_uri(
        name=user.get_username(), issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The QR code of an ``otpauth://`` URI as an inline SVG (no file, no network)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#1f2328", light="#ffffff")


def begin_enrolment(user: User) -> tuple[str, str]:
    """A fresh secret for ``user`` (replacing an unconfirmed one) → ``(secret, otpauth URI)``."""
    if user.has_totp:
        raise AccountError(AccountErrorCode.FORBIDDEN)
    secret = pyotp.random_base32()
    user.totp_secret = secret
    user.totp_confirmed_at = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    return secret, provisioning_uri(user, secret)


def _matching_step(secret: str, code: str, now: float) -> int | None:
    code = "".join((code or "").split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret, interval=INTERVAL)
    current = _step(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if pyotp.utils.strings_equal(totp.at(step * INTERVAL), code):
            return step
    return None


def _claim_step(user: User, step: int) -> bool:
    """Record ``step`` as used if it is later than the last one; ``False`` for a replay."""
    with transaction.atomic():
        if TotpUse.objects.filter(user_id=user.pk, last_step__lt=step).update(last_step=step):
            return True
        if TotpUse.objects.filter(user_id=user.pk).exists():
            return False
        try:
            with transaction.atomic():
                TotpUse.objects.create(user_id=user.pk, last_step=step)
        except IntegrityError:  # a concurrent request claimed first
            return (
                TotpUse.objects.filter(user_id=user.pk, last_step__lt=step).update(last_step=step)
                == 1
            )
    return True


def _fail(user: User, ctx: dict, reason: str) -> AccountError:
    count = throttling.fail(RULE, _key(user))
    with transaction.atomic():
        record(
            actor=user,
            action=AuditAction.LOGIN_FAILED,
            result=AuditResult.FAILURE,
            details={"factor": "totp", "reason": reason, "failures": count.count},
            **ctx,
        )
        if count.just_locked:
            record(
                actor=user,
                action=AuditAction.LOCKOUT,
                result=AuditResult.FAILURE,
                details={"factor": "totp", "until": count.locked_until.isoformat()},
                **ctx,
            )
    if count.locked_until and count.locked_until > timezone.now():
        return AccountError(AccountErrorCode.LOCKED)
    return AccountError(AccountErrorCode.SECOND_FACTOR_INVALID, field="code")


def _check(user: User, code: str, ctx: dict, *, now: float | None) -> None:
    if throttling.locked_until(RULE.scope, _key(user)):
        raise AccountError(AccountErrorCode.LOCKED)
    now = time.time() if now is None else now
    step = _matching_step(user.totp_secret, code, now)
    if step is None:
        raise _fail(user, ctx, "wrong_code")
    if not _claim_step(user, step):
        raise _fail(user, ctx, "replayed_code")
    throttling.reset(RULE.scope, _key(user))


def confirm_enrolment(
    user: User, code: str, *, ip: str | None = None, user_agent: str = "", now: float | None = None
) -> None:
    """Activate the pending secret once ``code`` proves the authenticator app holds it."""
    if user.has_totp or not user.totp_secret:
        raise AccountError(AccountErrorCode.SECOND_FACTOR_NOT_ENROLLED)
    ctx = {"ip": ip, "user_agent": user_agent}
    _check(user, code, ctx, now=now)
    with transaction.atomic():
        user.totp_confirmed_at = timezone.now()
        user.save(update_fields=["totp_confirmed_at"])
        record(actor=user, action=TotpAction.ENROL, subject=f"user:{user.pk}", **ctx)


def verify(
    user: User, code: str, *, ip: str | None = None, user_agent: str = "", now: float | None = None
) -> None:
    """Accept ``code`` as the second factor of ``user`` or raise ``locked`` /
    ``second_factor_invalid`` / ``second_factor_not_enrolled``."""
    if not user.has_totp:
        raise AccountError(AccountErrorCode.SECOND_FACTOR_NOT_ENROLLED)
    _check(user, code, {"ip": ip, "user_agent": user_agent}, now=now)


def reset(*, actor: Any, user: User, ip: str | None = None, user_agent: str = "") -> None:
    """A security administrator clears a lost authenticator; the person enrols at next login."""
    from tongban.accounts.staff import is_security_admin

    if not is_security_admin(actor) or actor.pk == user.pk:
        raise AccountError(AccountErrorCode.FORBIDDEN)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(totp_secret="", totp_confirmed_at=None)
        TotpUse.objects.filter(user_id=user.pk).delete()
        record(
            actor=actor,
            action=TotpAction.RESET,
            subject=f"user:{user.pk}",
            object_type="accounts.user",
            object_id=user.pk,
            ip=ip,
            user_agent=user_agent,
        )
    user.refresh_from_db(fields=["totp_secret", "totp_confirmed_at"])


__all__ = [
    "RULE",
    "begin_enrolment",
    "confirm_enrolment",
    "provisioning_uri",
    "qr_svg",
    "requires_second_factor",
    "reset",
    "verify",
]
