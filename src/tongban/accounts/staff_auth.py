"""Staff login: a password, then the TOTP second factor (:mod:`tongban.accounts.totp`).

Staff log in with their login name, mobile number or ID number. Wrong passwords lock the account
and the address exactly like a person's login (the same counters and rules as
:mod:`tongban.accounts.auth`), and every failure answers ``login_failed`` whether or not the
account exists. A right password for someone who holds no post (and is not the demo superuser)
is refused too: the staff login opens the back office only.

The password step alone logs nobody in: the channel keeps the user id as *pending* for a few
minutes, asks for the TOTP code (or, the first time, enrols the authenticator), and only then
starts the session (:func:`complete_login` records ``auth.login`` with ``password+totp``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from tongban.accounts import throttling, totp
from tongban.accounts.auth import LOGIN_ACCOUNT_RULE, LOGIN_ADDRESS_RULE, mask_login
from tongban.accounts.errors import AccountError, AccountErrorCode
from tongban.accounts.models import User
from tongban.accounts.queries import find_person
from tongban.core.audit import AuditAction, AuditResult, record
from tongban.core.personal import lookup_digest

PENDING_SECONDS = 300


def _find(login: str) -> User | None:
    text = (login or "").strip()
    if not text:
        return None
    return User.objects.filter(username=text).first() or find_person(text)


def _account_key(user: User | None, login: str) -> str:
    if user is not None:
        return throttling.key_for("user", user.pk)
    return throttling.key_for("login", lookup_digest("login", (login or "").strip().upper()))


def _actor(user: User | None) -> dict[str, Any]:
    if user is None:
        return {"actor": None}
    return {"actor": user, "object_type": "accounts.user", "object_id": user.pk}


def check_password(
    *, login: str, password: str, ip: str | None = None, user_agent: str = ""
) -> User:
    """The staff member whose password this is (first factor), or ``login_failed`` /
    ``locked`` / ``forbidden`` (right password, but no post). Failures are committed."""
    user = _find(login)
    ctx = {"ip": ip, "user_agent": user_agent or ""}
    account_key = _account_key(user, login)
    masked = mask_login(login)
    until = throttling.locked_until(LOGIN_ACCOUNT_RULE.scope, account_key)
    if until is None and ip:
        until = throttling.locked_until(LOGIN_ADDRESS_RULE.scope, throttling.key_for("ip", ip))
    if until is not None:
        with transaction.atomic():
            record(
                action=AuditAction.LOGIN_FAILED,
                result=AuditResult.FAILURE,
                details={"login": masked, "method": "staff_password", "error": "locked"},
                **_actor(user),
                **ctx,
            )
        raise AccountError(AccountErrorCode.LOCKED)
    if user is None:
        User().set_password(password)  # the same hashing time as a real check
        ok = False
    else:
        ok = user.is_active and user.check_password(password or "")
    if not ok:
        with transaction.atomic():
            account = throttling.fail(LOGIN_ACCOUNT_RULE, account_key)
            address = (
                throttling.fail(LOGIN_ADDRESS_RULE, throttling.key_for("ip", ip)) if ip else None
            )
            record(
                action=AuditAction.LOGIN_FAILED,
                result=AuditResult.FAILURE,
                details={"login": masked, "method": "staff_password", "failures": account.count},
                **_actor(user),
                **ctx,
            )
            for count, scope in ((account, "account"), (address, "address")):
                if count is not None and count.just_locked:
                    record(
                        action=AuditAction.LOCKOUT,
                        details={"scope": scope, "login": masked, "failures": count.count},
                        **_actor(user if scope == "account" else None),
                        **ctx,
                    )
        locked = account.just_locked or bool(address and address.just_locked)
        raise AccountError(AccountErrorCode.LOCKED if locked else AccountErrorCode.LOGIN_FAILED)
    if not totp.requires_second_factor(user):
        with transaction.atomic():
            record(
                action=AuditAction.LOGIN_FAILED,
                result=AuditResult.FAILURE,
                details={"login": masked, "method": "staff_password", "error": "not_staff"},
                **_actor(user),
                **ctx,
            )
        raise AccountError(AccountErrorCode.FORBIDDEN)
    throttling.reset(LOGIN_ACCOUNT_RULE.scope, account_key)
    return user


def complete_login(
    *, user: User, code: str, enrol: bool = False, ip: str | None = None, user_agent: str = ""
) -> User:
    """Second step: verify the TOTP code (``enrol``: confirm a new authenticator with it) and
    record the login. The caller then starts the session."""
    if enrol:
        totp.confirm_enrolment(user, code, ip=ip, user_agent=user_agent)
    else:
        totp.verify(user, code, ip=ip, user_agent=user_agent)
    with transaction.atomic():
        record(
            action=AuditAction.LOGIN,
            details={"method": "password+totp", "enrolled": enrol},
            **_actor(user),
            ip=ip,
            user_agent=user_agent or "",
        )
    return user


__all__ = ["PENDING_SECONDS", "check_password", "complete_login"]
