"""Persons' accounts: registration by mobile number, SMS codes, login by code or password,
lockout, password changes and "log out everywhere".

Rules (issue 3, 等保 level 3 身份鉴别):

* **Nothing reveals whether an account exists.** A code request answers the same for any valid
  number; the owner of an already registered number is told by SMS instead of being sent a
  registration code, and an unregistered number asked to log in is told so by SMS. Every failed
  login answers ``LOGIN_FAILED``; unknown logins are counted and locked like real ones.
* **Codes**: 6 digits, stored only as a keyed SM3 digest, valid 5 minutes, used once; only the
  newest code of a number and purpose counts; a code dies after 5 wrong entries, and every wrong
  entry also counts toward the lockout of the account and of the address.
* **Rate limits** on code requests: one per 60 s and 10 per day per number, 20 per hour per
  address (:data:`SMS_RULES`).
* **Lockout**: 5 failures in 15 minutes lock the account for 15 minutes, 20 failures from one
  address in 15 minutes lock the address (:data:`LOGIN_ACCOUNT_RULE`, :data:`LOGIN_ADDRESS_RULE`).
* **Audit**: ``auth.login``, ``auth.login_failed`` (actor ``None`` and a masked login for an
  unknown account), ``auth.lockout``, ``auth.logout``, ``account.register``,
  ``auth.password_change``, ``auth.logout_everywhere``.

A refused attempt commits its counters and audit records before raising, so the error a view
sees never rolls back the trace of the attempt. Counters are updated under row locks
(:mod:`tongban.accounts.throttling`) so that concurrent failures are all counted on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.accounts import throttling
from tongban.accounts.errors import AccountError, AccountErrorCode
from tongban.accounts.messaging import send_sms
from tongban.accounts.models import OneTimeCode, OneTimeCodePurpose, User, VerificationLevel
from tongban.accounts.oidc import revoke_all_for
from tongban.core.audit import AuditAction, AuditResult, record
from tongban.core.crypto import constant_time_equal
from tongban.core.personal import lookup_digest, mask_id_number, mask_phone, normalize

LOGIN_ACCOUNT_RULE = throttling.Rule(
    "login_account", limit=5, window=dt.timedelta(minutes=15), lock_for=dt.timedelta(minutes=15)
)
LOGIN_ADDRESS_RULE = throttling.Rule(
    "login_address", limit=20, window=dt.timedelta(minutes=15), lock_for=dt.timedelta(minutes=15)
)
SMS_PHONE_MINUTE = throttling.Rule("sms_phone_minute", limit=1, window=dt.timedelta(seconds=60))
SMS_PHONE_DAY = throttling.Rule("sms_phone_day", limit=10, window=dt.timedelta(days=1))
SMS_ADDRESS_HOUR = throttling.Rule("sms_address_hour", limit=20, window=dt.timedelta(hours=1))
SMS_RULES = (SMS_PHONE_MINUTE, SMS_PHONE_DAY, SMS_ADDRESS_HOUR)
CODE_LENGTH = 6
CODE_TTL = dt.timedelta(minutes=5)
CODE_MAX_ATTEMPTS = 5
RESEND_SECONDS = int(SMS_PHONE_MINUTE.window.total_seconds())

ACTION_REGISTER = "account.register"
ACTION_PASSWORD_CHANGE = "auth.password_change"  # noqa: S105 - an audit action code
ACTION_LOGOUT_EVERYWHERE = "auth.logout_everywhere"
ACTION_PASSWORD_RESET = "auth.password_reset"  # noqa: S105 - an audit action code

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_CODE = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class CodeSent:
    """The answer to a code request, the same whether or not the number has an account."""

    resend_after: int = RESEND_SECONDS


# --- Input ---------------------------------------------------------------------------------------


def clean_phone(value: str) -> str:
    """An 11-digit mainland mobile number (spaces, dashes and +86 allowed) or ``INVALID_PHONE``."""
    phone = normalize("phone", value or "")
    if not _MOBILE.match(phone):
        raise AccountError(AccountErrorCode.INVALID_PHONE, field="phone")
    return phone


def mask_login(value: str) -> str:
    """A login as it may appear in logs and audit details: a phone or ID number masked, anything
    else reduced to its first character."""
    text = (value or "").strip()
    phone = normalize("phone", text)
    if _MOBILE.match(phone):
        return mask_phone(phone)
    if len(text) == 18:
        return mask_id_number(text.upper())
    return (text[:1] + "***") if text else ""


def check_password_rules(
    password: str, *, user: User | None = None, field: str = "password"
) -> None:
    """Django's validators plus the complexity rule (settings.AUTH_PASSWORD_VALIDATORS), as
    ``WEAK_PASSWORD`` with every reason in the message."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise AccountError(
            AccountErrorCode.WEAK_PASSWORD, field=field, message="；".join(exc.messages)
        ) from None


def _user_by_phone(phone: str) -> User | None:
    return User.objects.filter(phone_digest=lookup_digest("phone", phone)).first()


def _user_by_login(login: str) -> User | None:
    """The account of a mobile number or a resident ID number (not a login name: persons log
    in with what they own)."""
    text = (login or "").strip()
    phone = normalize("phone", text)
    if _MOBILE.match(phone):
        return _user_by_phone(phone)
    number = normalize("id_number", text)
    if len(number) == 18:
        return User.objects.filter(id_number_digest=lookup_digest("id_number", number)).first()
    return None


def _account_key(user: User | None, login: str) -> str:
    """Failures of a known account are counted on the account (whichever login was typed); an
    unknown login is counted on its digest, so that it locks exactly like a real one."""
    if user is not None:
        return throttling.key_for("user", user.pk)
    return throttling.key_for("login", lookup_digest("login", (login or "").strip().upper()))


# --- SMS codes -----------------------------------------------------------------------------------


def _code_digest(phone_digest: str, purpose: str, code: str) -> str:
    return lookup_digest("sms_code", f"{purpose}:{phone_digest}:{code}")


def request_sms_code(
    *, phone: str, purpose: str, ip: str | None = None, user_agent: str = ""
) -> CodeSent:
    """Send a code for ``purpose`` to ``phone``; the answer is the same for every valid number.

    Errors: ``INVALID_PHONE``, ``RATE_LIMITED``."""
    phone = clean_phone(phone)
    purpose = OneTimeCodePurpose(purpose)
    phone_digest = lookup_digest("phone", phone)
    phone_key = throttling.key_for("phone", phone_digest)
    rules = [(SMS_PHONE_MINUTE, phone_key), (SMS_PHONE_DAY, phone_key)]
    if ip:
        rules.append((SMS_ADDRESS_HOUR, throttling.key_for("ip", ip)))
    with transaction.atomic():
        refused = throttling.consume(rules)
        if refused is None:
            _issue_code(phone=phone, phone_digest=phone_digest, purpose=purpose)
    if refused is not None:
        raise AccountError(AccountErrorCode.RATE_LIMITED, field="phone")
    return CodeSent()


def _issue_code(*, phone: str, phone_digest: str, purpose: OneTimeCodePurpose) -> None:
    owner = User.objects.filter(phone_digest=phone_digest).only("pk", "is_active").first()
    wants_new_number = purpose in (OneTimeCodePurpose.REGISTER, OneTimeCodePurpose.CHANGE_PHONE)
    if wants_new_number and owner is not None:
        send_sms(phone=phone, body=_already_registered_text())
        return
    if not wants_new_number and (owner is None or not owner.is_active):
        send_sms(
            phone=phone,
            body=_(
                "【通办】有人使用您的手机号申请%(purpose)s，但该号码尚未注册通办账号。"
                "如需办事请先注册；如非本人操作，请忽略本短信。"
            )
            % {"purpose": purpose.label},
        )
        return
    code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
    now = timezone.now()
    OneTimeCode.objects.create(
        purpose=purpose,
        phone_digest=phone_digest,
        code_digest=_code_digest(phone_digest, purpose, code),
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    send_sms(
        phone=phone,
        body=_("【通办】您的%(purpose)s验证码为%(code)s，%(minutes)d分钟内有效，请勿告诉他人。")
        % {
            "purpose": purpose.label,
            "code": code,
            "minutes": int(CODE_TTL.total_seconds() // 60),
        },
    )


def _already_registered_text() -> str:
    return _(
        "【通办】有人使用您的手机号申请注册，该号码已注册通办账号，无需重复注册，"
        "可直接用短信验证码登录。如非本人操作，请忽略本短信。"
    )


def _take_code(*, phone_digest: str, purpose: str, code: str) -> bool:
    """Use the newest code of the number for ``purpose`` if ``code`` matches it.

    A wrong entry counts on that code, which dies at :data:`CODE_MAX_ATTEMPTS`. Commits its
    change (call outside a transaction that the caller would roll back)."""
    now = timezone.now()
    with transaction.atomic():
        latest = (
            OneTimeCode.objects.select_for_update()
            .filter(phone_digest=phone_digest, purpose=purpose)
            .order_by("-created_at", "-pk")
            .first()
        )
        if (
            latest is None
            or latest.consumed_at is not None
            or latest.expires_at <= now
            or latest.attempts >= CODE_MAX_ATTEMPTS
        ):
            return False
        entered = (code or "").strip()
        if _CODE.match(entered) and constant_time_equal(
            _code_digest(phone_digest, purpose, entered).encode(), latest.code_digest.encode()
        ):
            return (
                OneTimeCode.objects.filter(pk=latest.pk, consumed_at__isnull=True).update(
                    consumed_at=now
                )
                == 1
            )
        OneTimeCode.objects.filter(pk=latest.pk).update(attempts=F("attempts") + 1)
        return False


# --- Failures and lockout ------------------------------------------------------------------------


def _ctx(ip: str | None, user_agent: str) -> dict[str, Any]:
    return {"ip": ip, "user_agent": user_agent or ""}


def _user_fields(user: User | None) -> dict[str, Any]:
    if user is None:
        return {"actor": None}
    return {"actor": user, "object_type": "accounts.user", "object_id": user.pk}


def _refuse_if_locked(
    *, user: User | None, account_key: str, login: str, method: str, ip: str | None, ua: str
) -> None:
    until = throttling.locked_until(LOGIN_ACCOUNT_RULE.scope, account_key)
    if until is None and ip:
        until = throttling.locked_until(LOGIN_ADDRESS_RULE.scope, throttling.key_for("ip", ip))
    if until is None:
        return
    with transaction.atomic():
        record(
            action=AuditAction.LOGIN_FAILED,
            result=AuditResult.FAILURE,
            details={"login": mask_login(login), "method": method, "error": "locked"},
            **_user_fields(user),
            **_ctx(ip, ua),
        )
    raise AccountError(AccountErrorCode.LOCKED)


def _count_failure(
    *,
    user: User | None,
    account_key: str,
    login: str,
    method: str,
    ip: str | None,
    ua: str,
    action: str = AuditAction.LOGIN_FAILED,
) -> bool:
    """Count one failure on the account and the address, audit it (and any lockout it causes);
    return whether a lock started. Commits."""
    with transaction.atomic():
        account = throttling.fail(LOGIN_ACCOUNT_RULE, account_key)
        address = throttling.fail(LOGIN_ADDRESS_RULE, throttling.key_for("ip", ip)) if ip else None
        masked = mask_login(login)
        record(
            action=action,
            result=AuditResult.FAILURE,
            details={"login": masked, "method": method, "failures": account.count},
            **_user_fields(user),
            **_ctx(ip, ua),
        )
        for count, scope in ((account, "account"), (address, "address")):
            if count is not None and count.just_locked:
                record(
                    action=AuditAction.LOCKOUT,
                    result=AuditResult.SUCCESS,
                    details={
                        "scope": scope,
                        "login": masked,
                        "failures": count.count,
                        "until": count.locked_until.isoformat() if count.locked_until else "",
                    },
                    **_user_fields(user if scope == "account" else None),
                    **_ctx(ip, ua),
                )
    return account.just_locked or bool(address and address.just_locked)


def _fail_login(**kwargs: Any) -> None:
    locked = _count_failure(**kwargs)
    raise AccountError(AccountErrorCode.LOCKED if locked else AccountErrorCode.LOGIN_FAILED)


def _succeed(user: User, *, method: str, ip: str | None, ua: str) -> User:
    with transaction.atomic():
        throttling.reset(LOGIN_ACCOUNT_RULE.scope, throttling.key_for("user", user.pk))
        record(
            action=AuditAction.LOGIN,
            details={"method": method},
            **_user_fields(user),
            **_ctx(ip, ua),
        )
    return user


# --- Login ---------------------------------------------------------------------------------------


def login_with_sms(*, phone: str, code: str, ip: str | None = None, user_agent: str = "") -> User:
    """The account of ``phone`` if ``code`` is its newest live login code.

    Errors: ``INVALID_PHONE``, ``LOGIN_FAILED`` (wrong, used, expired or absent code, unknown
    number), ``LOCKED``. The caller starts the session (:func:`sessions.start_session`)."""
    phone = clean_phone(phone)
    user = _user_by_phone(phone)
    account_key = _account_key(user, phone)
    common = {"user": user, "login": phone, "method": "sms", "ip": ip, "ua": user_agent}
    _refuse_if_locked(account_key=account_key, **common)
    taken = _take_code(
        phone_digest=lookup_digest("phone", phone), purpose=OneTimeCodePurpose.LOGIN, code=code
    )
    if not taken or user is None or not user.is_active:
        _fail_login(account_key=account_key, **common)
    return _succeed(user, method="sms", ip=ip, ua=user_agent)


def login_with_password(
    *, login: str, password: str, ip: str | None = None, user_agent: str = ""
) -> User:
    """The account whose mobile or ID number is ``login`` if ``password`` is right.

    Errors: ``LOGIN_FAILED``, ``LOCKED``. An unknown login costs the same hashing time."""
    user = _user_by_login(login)
    account_key = _account_key(user, login)
    common = {"user": user, "login": login, "method": "password", "ip": ip, "ua": user_agent}
    _refuse_if_locked(account_key=account_key, **common)
    if user is None:
        User().set_password(password)  # the same work as a real check (Django's ModelBackend)
        ok = False
    else:
        ok = user.check_password(password or "") and user.is_active
    if not ok:
        _fail_login(account_key=account_key, **common)
    return _succeed(user, method="password", ip=ip, ua=user_agent)


def record_logout(
    *, actor: User, ip: str | None = None, user_agent: str = "", reason: str = ""
) -> None:
    """Audit the end of a session (``reason``: ``""`` for the person's own logout, or
    ``idle_timeout``, ``logout_everywhere``)."""
    with transaction.atomic():
        record(
            action=AuditAction.LOGOUT,
            details={"reason": reason} if reason else {},
            **_user_fields(actor),
            **_ctx(ip, user_agent),
        )


# --- Registration --------------------------------------------------------------------------------


def _new_username() -> str:
    while True:
        name = "p" + secrets.token_hex(6)
        if not User.objects.filter(username=name).exists():
            return name


def register_person(
    *, phone: str, code: str, password: str = "", ip: str | None = None, user_agent: str = ""
) -> User:
    """Create a person's account at L1 (phone confirmed by the registration code).

    The password is optional (the person can always log in by SMS). A number that already has
    an account never gets a registration code (its owner gets an SMS instead), so registering it
    fails like a wrong code. Errors: ``INVALID_PHONE``, ``WEAK_PASSWORD``, ``CODE_INVALID``,
    ``LOCKED``."""
    phone = clean_phone(phone)
    if password:
        check_password_rules(password, user=User(username="", phone=phone))
    account_key = _account_key(None, phone)
    common = {"user": None, "login": phone, "method": "register", "ip": ip, "ua": user_agent}
    _refuse_if_locked(account_key=account_key, **common)
    phone_digest = lookup_digest("phone", phone)
    if not _take_code(phone_digest=phone_digest, purpose=OneTimeCodePurpose.REGISTER, code=code):
        locked = _count_failure(account_key=account_key, action=ACTION_REGISTER, **common)
        if locked:
            raise AccountError(AccountErrorCode.LOCKED)
        raise AccountError(AccountErrorCode.CODE_INVALID, field="code")
    now = timezone.now()
    try:
        with transaction.atomic():
            user = User(username=_new_username(), phone=phone, level=VerificationLevel.L1)
            if password:
                user.set_password(password)
                user.password_changed_at = now
            else:
                user.set_unusable_password()
            user.save()
            record(
                action=ACTION_REGISTER,
                details={"phone": mask_phone(phone), "password": bool(password)},
                **_user_fields(user),
                **_ctx(ip, user_agent),
            )
    except IntegrityError:
        # Registered by someone else between the code and now: tell the owner, answer as for a
        # used code.
        with transaction.atomic():
            send_sms(phone=phone, body=_already_registered_text())
        raise AccountError(AccountErrorCode.CODE_INVALID, field="code") from None
    return user


# --- Passwords and sessions ----------------------------------------------------------------------


def change_password(
    *,
    actor: User,
    old_password: str,
    new_password: str,
    ip: str | None = None,
    user_agent: str = "",
) -> User:
    """Set a new password; every other session ends (the epoch moves on). A person who
    registered without a password sets one without giving an old one.

    Errors: ``WRONG_PASSWORD`` (counts toward the lockout), ``LOCKED``, ``WEAK_PASSWORD``."""
    account_key = throttling.key_for("user", actor.pk)
    common = {
        "user": actor,
        "login": actor.phone,
        "method": "change_password",
        "ip": ip,
        "ua": user_agent,
    }
    _refuse_if_locked(account_key=account_key, **common)
    if actor.has_usable_password() and not actor.check_password(old_password or ""):
        locked = _count_failure(account_key=account_key, action=ACTION_PASSWORD_CHANGE, **common)
        if locked:
            raise AccountError(AccountErrorCode.LOCKED)
        raise AccountError(AccountErrorCode.WRONG_PASSWORD, field="old_password")
    if old_password and new_password == old_password:
        raise AccountError(
            AccountErrorCode.WEAK_PASSWORD,
            field="new_password",
            message=_("新密码不能与原密码相同"),
        )
    check_password_rules(new_password, user=actor, field="new_password")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=actor.pk)
        user.set_password(new_password)
        user.password_changed_at = timezone.now()
        user.session_epoch = F("session_epoch") + 1
        user.save(update_fields=["password", "password_changed_at", "session_epoch"])
        user.refresh_from_db(fields=["session_epoch"])
        tokens = revoke_all_for(user)
        record(
            action=ACTION_PASSWORD_CHANGE,
            details={"tokens_revoked": tokens},
            **_user_fields(user),
            **_ctx(ip, user_agent),
        )
    actor.password = user.password
    actor.password_changed_at = user.password_changed_at
    actor.session_epoch = user.session_epoch
    return actor


def reset_password(
    *, phone: str, code: str, new_password: str, ip: str | None = None, user_agent: str = ""
) -> None:
    """Set a new password with a ``reset_password`` SMS code (forgotten password); every session
    of the account ends. A number without an account never gets such a code, so it fails like a
    wrong code and counts the same way.

    Errors: ``INVALID_PHONE``, ``WEAK_PASSWORD``, ``CODE_INVALID`` (counts toward the lockout),
    ``LOCKED``."""
    phone = clean_phone(phone)
    user = _user_by_phone(phone)
    check_password_rules(new_password, user=user or User(username="", phone=phone))
    account_key = _account_key(user, phone)
    common = {"user": user, "login": phone, "method": "reset_password", "ip": ip, "ua": user_agent}
    _refuse_if_locked(account_key=account_key, **common)
    phone_digest = lookup_digest("phone", phone)
    taken = _take_code(
        phone_digest=phone_digest, purpose=OneTimeCodePurpose.RESET_PASSWORD, code=code
    )
    if not taken or user is None or not user.is_active:
        locked = _count_failure(account_key=account_key, action=ACTION_PASSWORD_RESET, **common)
        if locked:
            raise AccountError(AccountErrorCode.LOCKED)
        raise AccountError(AccountErrorCode.CODE_INVALID, field="code")
    with transaction.atomic():
        locked_user = User.objects.select_for_update().get(pk=user.pk)
        locked_user.set_password(new_password)
        locked_user.password_changed_at = timezone.now()
        locked_user.session_epoch = F("session_epoch") + 1
        locked_user.save(update_fields=["password", "password_changed_at", "session_epoch"])
        throttling.reset(LOGIN_ACCOUNT_RULE.scope, account_key)
        tokens = revoke_all_for(locked_user)
        record(
            action=ACTION_PASSWORD_RESET,
            details={"tokens_revoked": tokens},
            **_user_fields(locked_user),
            **_ctx(ip, user_agent),
        )


def logout_everywhere(*, actor: User, ip: str | None = None, user_agent: str = "") -> int:
    """End every session of ``actor`` on every device (the session middleware logs out any
    session whose epoch is older); return the new epoch."""
    with transaction.atomic():
        User.objects.filter(pk=actor.pk).update(session_epoch=F("session_epoch") + 1)
        epoch = User.objects.filter(pk=actor.pk).values_list("session_epoch", flat=True).get()
        tokens = revoke_all_for(actor)
        record(
            action=ACTION_LOGOUT_EVERYWHERE,
            details={"tokens_revoked": tokens},
            **_user_fields(actor),
            **_ctx(ip, user_agent),
        )
    actor.session_epoch = epoch
    return epoch
