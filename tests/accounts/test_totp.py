"""TOTP: enrolment, verification with a ±1 step window, replay refused, wrong codes lock."""

import time

import pyotp
import pytest

from tests.accounts.factories import StaffPostFactory, UserFactory
from tongban.accounts import totp
from tongban.accounts.errors import AccountError
from tongban.accounts.models import TotpUse
from tongban.core.models import AuditAction, AuditRecord

pytestmark = pytest.mark.django_db

NOW = 1_800_000_000.0  # a fixed instant, on a step boundary + 0


def enrolled(user=None):
    user = user or StaffPostFactory().user
    secret, _uri = totp.begin_enrolment(user)
    totp.confirm_enrolment(user, pyotp.TOTP(secret).at(NOW - 60), now=NOW - 60)
    user.refresh_from_db()
    return user, pyotp.TOTP(secret)


def test_who_needs_a_second_factor():
    assert totp.requires_second_factor(StaffPostFactory().user)
    assert totp.requires_second_factor(StaffPostFactory(audit_admin=True).user)
    assert totp.requires_second_factor(UserFactory(is_superuser=True))
    assert not totp.requires_second_factor(UserFactory())


def test_enrolment_gives_a_uri_and_a_qr_and_needs_a_right_code():
    user = StaffPostFactory().user
    secret, uri = totp.begin_enrolment(user)
    assert uri.startswith("otpauth://totp/")
    assert f"secret={secret}" in uri
    assert totp.qr_svg(uri).startswith("<svg")
    user.refresh_from_db()
    assert user.totp_secret == secret
    assert not user.has_totp
    with pytest.raises(AccountError) as exc:
        totp.confirm_enrolment(
            user, "000000" if pyotp.TOTP(secret).at(NOW) != "000000" else "111111", now=NOW
        )
    assert exc.value.code == "second_factor_invalid"
    assert not user.has_totp
    totp.confirm_enrolment(user, pyotp.TOTP(secret).at(NOW), now=NOW)
    assert user.has_totp
    assert AuditRecord.objects.filter(action="auth.totp_enrol", actor_id=user.pk).exists()
    # a confirmed authenticator is not replaced by starting over
    with pytest.raises(AccountError):
        totp.begin_enrolment(user)


def test_the_secret_is_stored_encrypted():
    from django.db import connection

    user = StaffPostFactory().user
    secret, _uri = totp.begin_enrolment(user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM accounts_user WHERE id = %s", [user.pk])
        raw = cursor.fetchone()[0]
    assert secret not in raw


def test_verify_accepts_adjacent_steps_and_refuses_replay():
    user, gen = enrolled()
    totp.verify(user, gen.at(NOW), now=NOW)
    with pytest.raises(AccountError) as exc:
        totp.verify(user, gen.at(NOW), now=NOW + 5)  # the same code again
    assert exc.value.code == "second_factor_invalid"
    # an earlier step is a replay too, even if still inside the window
    with pytest.raises(AccountError):
        totp.verify(user, gen.at(NOW - 30), now=NOW + 5)
    totp.verify(user, gen.at(NOW + 30), now=NOW + 2)  # clock drift: next step accepted
    assert TotpUse.objects.get(user=user).last_step == int((NOW + 30) // 30)
    with pytest.raises(AccountError):
        totp.verify(user, gen.at(NOW + 120), now=NOW + 60)  # three steps ahead: refused


def test_wrong_codes_lock_the_account_and_are_audited():
    user, gen = enrolled()
    wrong = "123456" if gen.at(NOW) != "123456" else "654321"
    for _ in range(totp.RULE.limit - 1):
        with pytest.raises(AccountError) as exc:
            totp.verify(user, wrong, now=NOW)
        assert exc.value.code == "second_factor_invalid"
    with pytest.raises(AccountError) as exc:
        totp.verify(user, wrong, now=NOW)
    assert exc.value.code == "locked"
    # locked: even the right code is refused now
    with pytest.raises(AccountError) as exc:
        totp.verify(user, gen.at(NOW), now=NOW)
    assert exc.value.code == "locked"
    failures = AuditRecord.objects.filter(action=AuditAction.LOGIN_FAILED, actor_id=user.pk)
    assert failures.count() == totp.RULE.limit
    assert AuditRecord.objects.filter(action=AuditAction.LOCKOUT, actor_id=user.pk).count() == 1


def test_a_right_code_resets_the_failure_count():
    user, gen = enrolled()
    for _ in range(totp.RULE.limit - 1):
        with pytest.raises(AccountError):
            totp.verify(user, "abcdef", now=NOW)
    totp.verify(user, gen.at(NOW), now=NOW)
    for _ in range(totp.RULE.limit - 1):
        with pytest.raises(AccountError) as exc:
            totp.verify(user, "000000x", now=NOW + 30)
        assert exc.value.code == "second_factor_invalid"


def test_not_enrolled_is_its_own_error():
    with pytest.raises(AccountError) as exc:
        totp.verify(StaffPostFactory().user, "123456")
    assert exc.value.code == "second_factor_not_enrolled"


def test_reset_by_a_security_admin_only():
    user, _gen = enrolled()
    with pytest.raises(AccountError):
        totp.reset(actor=StaffPostFactory(system_admin=True).user, user=user)
    user.refresh_from_db()
    assert user.has_totp
    secadmin = StaffPostFactory(security_admin=True).user
    totp.reset(actor=secadmin, user=user)
    assert not user.has_totp
    assert not TotpUse.objects.filter(user=user).exists()
    assert AuditRecord.objects.filter(action="auth.totp_reset", actor_id=secadmin.pk).exists()


def test_real_clock_round_trip():
    user = StaffPostFactory().user
    secret, _uri = totp.begin_enrolment(user)
    gen = pyotp.TOTP(secret)
    totp.confirm_enrolment(user, gen.at(time.time() - 30))
    totp.verify(user, gen.now())
    assert TotpUse.objects.get(user=user).last_step >= int(time.time() // 30) - 1
