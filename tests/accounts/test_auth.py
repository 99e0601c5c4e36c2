"""Registration, SMS codes, login by code or password, lockout, password changes."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.db.models import F
from django.utils import timezone

from tests.accounts.factories import PASSWORD, UserFactory, make_phone
from tests.accounts.helpers import last_code, sms_to
from tongban.accounts import auth
from tongban.accounts.errors import AccountError, AccountErrorCode
from tongban.accounts.models import (
    OneTimeCode,
    OneTimeCodePurpose,
    OutgoingMessage,
    Throttle,
    User,
    VerificationLevel,
)
from tongban.core.audit import AuditAction, AuditResult
from tongban.core.models import AuditRecord

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"
OTHER_IP = "198.51.100.9"


def _code(phone, purpose=OneTimeCodePurpose.LOGIN, ip=IP):
    auth.request_sms_code(phone=phone, purpose=purpose, ip=ip)
    return last_code(phone)


def _next_minute(scope="sms_phone_minute"):
    """Let the one-per-minute window of every number pass."""
    Throttle.objects.filter(scope=scope).update(
        window_started_at=F("window_started_at") - dt.timedelta(seconds=61)
    )


def _expire_locks():
    Throttle.objects.update(locked_until=timezone.now() - dt.timedelta(seconds=1))


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _raises(error: AccountErrorCode, func, /, **kwargs) -> AccountError:
    with pytest.raises(AccountError) as info:
        func(**kwargs)
    assert info.value.code == error.value, info.value.as_dict()
    return info.value


# --- Codes ---------------------------------------------------------------------------------------


def test_code_is_stored_only_as_a_digest_and_sent_by_sms():
    phone = make_phone()
    answer = auth.request_sms_code(phone=phone, purpose=OneTimeCodePurpose.REGISTER, ip=IP)
    assert answer == auth.CodeSent(resend_after=60)
    code = last_code(phone)
    row = OneTimeCode.objects.get()
    assert code not in row.code_digest
    assert len(row.code_digest) == 64
    assert row.expires_at - row.created_at == dt.timedelta(minutes=5)
    assert row.purpose == OneTimeCodePurpose.REGISTER


def test_same_answer_whether_or_not_the_number_has_an_account():
    owner = UserFactory()
    stranger = make_phone()
    # Registration: the owner's number gets no code, but an SMS telling its owner.
    a = auth.request_sms_code(phone=owner.phone, purpose=OneTimeCodePurpose.REGISTER, ip=IP)
    b = auth.request_sms_code(phone=stranger, purpose=OneTimeCodePurpose.REGISTER, ip=IP)
    assert a == b
    assert OneTimeCode.objects.count() == 1
    assert "已注册" in sms_to(owner.phone)[-1]
    # Login: an unknown number gets no code, only a notice.
    _next_minute()
    a = auth.request_sms_code(phone=owner.phone, purpose=OneTimeCodePurpose.LOGIN, ip=IP)
    other = make_phone()
    b = auth.request_sms_code(phone=other, purpose=OneTimeCodePurpose.LOGIN, ip=IP)
    assert a == b
    assert OneTimeCode.objects.count() == 2
    assert "尚未注册" in sms_to(other)[-1]
    assert "验证码为" not in sms_to(other)[-1]


def test_invalid_phone_is_refused_before_anything_is_counted():
    _raises(AccountErrorCode.INVALID_PHONE, auth.request_sms_code, phone="12345", purpose="login")
    assert not Throttle.objects.exists()
    assert not OutgoingMessage.objects.exists()


def test_one_code_a_minute_per_number():
    phone = make_phone()
    _code(phone, OneTimeCodePurpose.REGISTER)
    err = _raises(
        AccountErrorCode.RATE_LIMITED,
        auth.request_sms_code,
        phone=phone,
        purpose=OneTimeCodePurpose.REGISTER,
        ip=OTHER_IP,
    )
    assert err.field == "phone"
    assert OneTimeCode.objects.count() == 1
    assert len(sms_to(phone)) == 1
    _next_minute()
    _code(phone, OneTimeCodePurpose.REGISTER)
    assert OneTimeCode.objects.count() == 2


def test_ten_codes_a_day_per_number():
    phone = make_phone()
    for _ in range(10):
        _code(phone, OneTimeCodePurpose.REGISTER)
        _next_minute()
    _raises(AccountErrorCode.RATE_LIMITED, auth.request_sms_code, phone=phone, purpose="register")
    assert len(sms_to(phone)) == 10
    Throttle.objects.filter(scope="sms_phone_day").update(
        window_started_at=F("window_started_at") - dt.timedelta(days=1)
    )
    _code(phone, OneTimeCodePurpose.REGISTER)


def test_twenty_code_requests_an_hour_per_address():
    for _ in range(20):
        auth.request_sms_code(phone=make_phone(), purpose="register", ip=IP)
    refused = make_phone()
    _raises(
        AccountErrorCode.RATE_LIMITED,
        auth.request_sms_code,
        phone=refused,
        purpose="register",
        ip=IP,
    )
    assert sms_to(refused) == []
    # The refused request did not use up the number's own allowance.
    auth.request_sms_code(phone=refused, purpose="register", ip=OTHER_IP)
    assert len(sms_to(refused)) == 1


# --- Registration --------------------------------------------------------------------------------


def test_register_creates_an_l1_account_with_a_generated_name():
    phone = make_phone()
    code = _code(phone, OneTimeCodePurpose.REGISTER)
    user = auth.register_person(phone=phone, code=code, ip=IP)
    assert user.level == VerificationLevel.L1
    assert user.phone == phone
    assert user.username.startswith("p")
    assert len(user.username) == 13
    assert not user.has_usable_password()
    assert User.objects.get(pk=user.pk).phone == phone
    rec = AuditRecord.objects.get(action=auth.ACTION_REGISTER)
    assert rec.actor_id == user.pk
    assert phone not in str(rec.details)


def test_register_with_password_checks_its_rules_before_using_the_code():
    phone = make_phone()
    code = _code(phone, OneTimeCodePurpose.REGISTER)
    err = _raises(
        AccountErrorCode.WEAK_PASSWORD,
        auth.register_person,
        phone=phone,
        code=code,
        password="abcdefgh",
    )
    assert err.field == "password"
    assert "至少3类" in err.message
    assert not User.objects.exists()
    user = auth.register_person(phone=phone, code=code, password=PASSWORD)
    assert user.check_password(PASSWORD)
    assert user.password_changed_at is not None


def test_register_wrong_code_changes_nothing_but_counts():
    phone = make_phone()
    code = _code(phone, OneTimeCodePurpose.REGISTER)
    err = _raises(
        AccountErrorCode.CODE_INVALID, auth.register_person, phone=phone, code=_wrong(code)
    )
    assert err.field == "code"
    assert not User.objects.exists()
    assert OneTimeCode.objects.get().attempts == 1
    assert Throttle.objects.get(scope="login_account").count == 1


def test_register_code_of_another_purpose_does_not_work():
    phone = make_phone()
    auth.request_sms_code(phone=phone, purpose=OneTimeCodePurpose.LOGIN)  # unknown: no code
    with pytest.raises(AssertionError):
        last_code(phone)
    _next_minute()
    code = _code(phone, OneTimeCodePurpose.REGISTER)
    _raises(AccountErrorCode.LOGIN_FAILED, auth.login_with_sms, phone=phone, code=code)


def test_registered_number_cannot_register_again():
    owner = UserFactory()
    auth.request_sms_code(phone=owner.phone, purpose="register", ip=IP)
    _raises(AccountErrorCode.CODE_INVALID, auth.register_person, phone=owner.phone, code="123456")
    assert User.objects.count() == 1


# --- Login by SMS --------------------------------------------------------------------------------


def test_login_with_sms_code_and_the_code_is_single_use():
    user = UserFactory()
    code = _code(user.phone)
    assert auth.login_with_sms(phone=user.phone, code=code, ip=IP) == user
    assert AuditRecord.objects.filter(action=AuditAction.LOGIN, actor_id=user.pk).exists()
    _raises(AccountErrorCode.LOGIN_FAILED, auth.login_with_sms, phone=user.phone, code=code, ip=IP)


def test_expired_code_fails():
    user = UserFactory()
    code = _code(user.phone)
    OneTimeCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    _raises(AccountErrorCode.LOGIN_FAILED, auth.login_with_sms, phone=user.phone, code=code)


def test_only_the_newest_code_counts():
    user = UserFactory()
    first = _code(user.phone)
    _next_minute()
    second = _code(user.phone)
    if first != second:
        _raises(AccountErrorCode.LOGIN_FAILED, auth.login_with_sms, phone=user.phone, code=first)
    assert auth.login_with_sms(phone=user.phone, code=second) == user


def test_code_dies_after_five_wrong_entries():
    user = UserFactory()
    code = _code(user.phone)
    for _ in range(4):
        _raises(
            AccountErrorCode.LOGIN_FAILED, auth.login_with_sms, phone=user.phone, code=_wrong(code)
        )
    _raises(AccountErrorCode.LOCKED, auth.login_with_sms, phone=user.phone, code=_wrong(code))
    assert OneTimeCode.objects.get().attempts == 5
    Throttle.objects.all().delete()  # the lock ends; the code stays dead
    _raises(AccountErrorCode.LOGIN_FAILED, auth.login_with_sms, phone=user.phone, code=code)


def test_unknown_number_fails_like_a_wrong_code():
    known = UserFactory()
    _code(known.phone)
    a = _raises(
        AccountErrorCode.LOGIN_FAILED, auth.login_with_sms, phone=known.phone, code="999999"
    )
    b = _raises(
        AccountErrorCode.LOGIN_FAILED, auth.login_with_sms, phone=make_phone(), code="999999"
    )
    assert a.as_dict() == b.as_dict()


# --- Login by password ---------------------------------------------------------------------------


def test_login_with_password_by_phone_or_id_number():
    user = UserFactory()
    assert auth.login_with_password(login=user.phone, password=PASSWORD, ip=IP) == user
    assert auth.login_with_password(login=user.id_number.lower(), password=PASSWORD) == user
    assert auth.login_with_password(login=f"+86 {user.phone}", password=PASSWORD) == user


def test_wrong_password_and_unknown_login_answer_the_same():
    user = UserFactory()
    a = _raises(
        AccountErrorCode.LOGIN_FAILED,
        auth.login_with_password,
        login=user.phone,
        password="x",
        ip=IP,
    )
    unknown = make_phone()
    b = _raises(
        AccountErrorCode.LOGIN_FAILED, auth.login_with_password, login=unknown, password="x", ip=IP
    )
    assert a.as_dict() == b.as_dict()
    failed = AuditRecord.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("seq")
    assert [r.actor_id for r in failed] == [user.pk, None]
    unknown_rec = failed.last()
    assert unknown_rec.result == AuditResult.FAILURE
    assert unknown_rec.details["login"] == unknown[:3] + "****" + unknown[-4:]
    assert unknown not in str(unknown_rec.details)
    assert unknown_rec.ip == IP


def test_inactive_account_cannot_log_in():
    user = UserFactory(is_active=False)
    _raises(
        AccountErrorCode.LOGIN_FAILED, auth.login_with_password, login=user.phone, password=PASSWORD
    )


def test_account_locks_after_five_failures_whatever_the_address():
    user = UserFactory()
    for n in range(4):
        _raises(
            AccountErrorCode.LOGIN_FAILED,
            auth.login_with_password,
            login=user.phone,
            password="bad",
            ip=f"192.0.2.{n}",
        )
    _raises(
        AccountErrorCode.LOCKED,
        auth.login_with_password,
        login=user.id_number,
        password="bad",
        ip="192.0.2.9",
    )
    lock = AuditRecord.objects.get(action=AuditAction.LOCKOUT)
    assert lock.actor_id == user.pk
    assert lock.details["scope"] == "account"
    # Locked: even the right password is refused, and the refusal is audited.
    before = AuditRecord.objects.count()
    _raises(
        AccountErrorCode.LOCKED,
        auth.login_with_password,
        login=user.phone,
        password=PASSWORD,
        ip=OTHER_IP,
    )
    assert AuditRecord.objects.count() == before + 1
    assert not AuditRecord.objects.filter(action=AuditAction.LOGIN).exists()
    # When the lock ends the right password works and the count starts again.
    _expire_locks()
    assert auth.login_with_password(login=user.phone, password=PASSWORD, ip=OTHER_IP) == user
    assert Throttle.objects.get(scope="login_account").count == 0


def test_unknown_login_locks_like_a_real_one():
    unknown = make_phone()
    for _ in range(4):
        _raises(
            AccountErrorCode.LOGIN_FAILED, auth.login_with_password, login=unknown, password="bad"
        )
    _raises(AccountErrorCode.LOCKED, auth.login_with_password, login=unknown, password="bad")
    _raises(AccountErrorCode.LOCKED, auth.login_with_password, login=unknown, password="bad")
    lock = AuditRecord.objects.get(action=AuditAction.LOCKOUT)
    assert lock.actor_id is None
    assert unknown not in str(lock.details)


def test_address_locks_after_twenty_failures():
    victim = UserFactory()
    for n in range(19):
        _raises(
            AccountErrorCode.LOGIN_FAILED,
            auth.login_with_password,
            login=f"1390000{n:04d}",
            password="bad",
            ip=IP,
        )
    _raises(
        AccountErrorCode.LOCKED,
        auth.login_with_password,
        login="13911112222",
        password="bad",
        ip=IP,
    )
    lock = AuditRecord.objects.get(action=AuditAction.LOCKOUT, details__scope="address")
    assert lock.ip == IP
    # Every account is refused from that address, the right password too; not from others.
    _raises(
        AccountErrorCode.LOCKED,
        auth.login_with_password,
        login=victim.phone,
        password=PASSWORD,
        ip=IP,
    )
    assert auth.login_with_password(login=victim.phone, password=PASSWORD, ip=OTHER_IP) == victim


def test_wrong_sms_codes_count_toward_the_lockout():
    user = UserFactory()
    code = _code(user.phone)
    for _ in range(3):
        _raises(
            AccountErrorCode.LOGIN_FAILED, auth.login_with_sms, phone=user.phone, code=_wrong(code)
        )
    _raises(
        AccountErrorCode.LOGIN_FAILED, auth.login_with_password, login=user.phone, password="bad"
    )
    _raises(AccountErrorCode.LOCKED, auth.login_with_password, login=user.phone, password="bad2")
    _raises(AccountErrorCode.LOCKED, auth.login_with_sms, phone=user.phone, code=code)


# --- Passwords and sessions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("abcdefgh", False),  # one class
        ("abcdefg1", False),  # two classes
        ("Ab1!", False),  # too short
        ("Zhang-hu8", True),
        ("青城-mountain-42", True),
    ],
)
def test_password_rules(password, ok):
    if ok:
        auth.check_password_rules(password)
    else:
        _raises(AccountErrorCode.WEAK_PASSWORD, auth.check_password_rules, password=password)


def test_change_password_ends_other_sessions():
    user = UserFactory()
    epoch = user.session_epoch
    auth.change_password(actor=user, old_password=PASSWORD, new_password="Neue-Pass-2027", ip=IP)
    fresh = User.objects.get(pk=user.pk)
    assert fresh.check_password("Neue-Pass-2027")
    assert fresh.session_epoch == epoch + 1
    assert user.session_epoch == epoch + 1
    assert fresh.password_changed_at is not None
    assert AuditRecord.objects.filter(action=auth.ACTION_PASSWORD_CHANGE, actor_id=user.pk).exists()


def test_change_password_refusals_change_nothing():
    user = UserFactory()
    before = User.objects.get(pk=user.pk).password
    err = _raises(
        AccountErrorCode.WRONG_PASSWORD,
        auth.change_password,
        actor=user,
        old_password="nope",
        new_password="Neue-Pass-2027",
    )
    assert err.field == "old_password"
    err = _raises(
        AccountErrorCode.WEAK_PASSWORD,
        auth.change_password,
        actor=user,
        old_password=PASSWORD,
        new_password="short",
    )
    assert err.field == "new_password"
    _raises(
        AccountErrorCode.WEAK_PASSWORD,
        auth.change_password,
        actor=user,
        old_password=PASSWORD,
        new_password=PASSWORD,
    )
    fresh = User.objects.get(pk=user.pk)
    assert fresh.password == before
    assert fresh.session_epoch == 0
    assert Throttle.objects.get(scope="login_account").count == 1  # the wrong old password


def test_person_without_password_sets_one_without_old_password():
    user = UserFactory()
    user.set_unusable_password()
    user.save()
    auth.change_password(actor=user, old_password="", new_password="First-Pass-2026")
    assert User.objects.get(pk=user.pk).check_password("First-Pass-2026")


def test_logout_everywhere_moves_the_epoch_on():
    user = UserFactory()
    assert auth.logout_everywhere(actor=user, ip=IP) == 1
    assert User.objects.get(pk=user.pk).session_epoch == 1 == user.session_epoch
    assert AuditRecord.objects.get(action=auth.ACTION_LOGOUT_EVERYWHERE).actor_id == user.pk


@pytest.mark.real_hashing
def test_stored_password_hash_is_argon2():
    phone = make_phone()
    code = _code(phone, OneTimeCodePurpose.REGISTER)
    user = auth.register_person(phone=phone, code=code, password=PASSWORD)
    stored = User.objects.get(pk=user.pk).password
    assert stored.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert auth.login_with_password(login=phone, password=PASSWORD) == user


@pytest.mark.real_hashing
def test_a_hash_with_other_argon2_costs_is_upgraded_at_login():
    from django.contrib.auth.hashers import Argon2PasswordHasher

    user = UserFactory()
    user.password = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])
    assert "m=102400" in user.password
    assert auth.login_with_password(login=user.phone, password=PASSWORD) == user
    assert "m=19456,t=2,p=1" in User.objects.get(pk=user.pk).password


# --- Concurrency (PostgreSQL) --------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_are_all_counted():
    user = UserFactory()
    workers = 8
    barrier = threading.Barrier(workers)
    codes: list[str] = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            auth.login_with_password(login=user.phone, password="bad", ip=f"192.0.2.{n}")
        except AccountError as exc:
            codes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    counted = Throttle.objects.get(scope="login_account").count
    refused_as_locked = codes.count(AccountErrorCode.LOCKED.value)
    # Each attempt either was counted or was refused because the lock had already started.
    assert counted + (refused_as_locked - 1) == workers
    assert counted >= 5
    assert AuditRecord.objects.filter(action=AuditAction.LOCKOUT).count() == 1


# --- Forgotten password --------------------------------------------------------------------------

NEW_PASSWORD = "Reset#2026-new"


def test_reset_password_with_the_code_sets_it_and_ends_every_session():
    user = UserFactory()
    epoch = user.session_epoch
    code = _code(user.phone, OneTimeCodePurpose.RESET_PASSWORD)
    auth.reset_password(phone=user.phone, code=code, new_password=NEW_PASSWORD, ip=IP)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user.session_epoch == epoch + 1
    assert AuditRecord.objects.filter(action="auth.password_reset", actor_id=user.pk).exists()
    assert auth.login_with_password(login=user.phone, password=NEW_PASSWORD, ip=IP) == user
    with pytest.raises(AccountError) as reused:  # a code works once
        auth.reset_password(phone=user.phone, code=code, new_password="Other#2026-pw", ip=IP)
    assert reused.value.code == AccountErrorCode.CODE_INVALID


def test_reset_password_refusals_change_nothing_and_count_toward_lockout():
    user = UserFactory()
    before = user.password
    code = _code(user.phone, OneTimeCodePurpose.RESET_PASSWORD)
    with pytest.raises(AccountError) as weak:
        auth.reset_password(phone=user.phone, code=code, new_password="short", ip=IP)
    assert weak.value.code == AccountErrorCode.WEAK_PASSWORD
    _next_minute()
    login_code = _code(user.phone)  # a login code of the same number never resets
    for wrong in (_wrong(code), login_code):
        with pytest.raises(AccountError) as refused:
            auth.reset_password(phone=user.phone, code=wrong, new_password=NEW_PASSWORD, ip=IP)
        assert refused.value.code == AccountErrorCode.CODE_INVALID
    user.refresh_from_db()
    assert user.password == before
    assert Throttle.objects.get(scope="login_account").count == 2


def test_reset_password_for_an_unknown_number_answers_like_a_wrong_code():
    phone = make_phone()
    auth.request_sms_code(phone=phone, purpose=OneTimeCodePurpose.RESET_PASSWORD, ip=IP)
    assert not OneTimeCode.objects.exists()  # no code is issued, the number's owner is told
    assert "重置密码" in sms_to(phone)[-1]
    with pytest.raises(AccountError) as refused:
        auth.reset_password(phone=phone, code="123456", new_password=NEW_PASSWORD, ip=IP)
    assert refused.value.code == AccountErrorCode.CODE_INVALID
    assert not User.objects.exists()
