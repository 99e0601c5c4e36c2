"""Real-name verification: L2 against the population table, L3 face check, the level check,
and the population loader."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.accounts.factories import UserFactory, make_id_number
from tongban.accounts.errors import AccountError, AccountErrorCode
from tongban.accounts.models import PopulationRecord, User, VerificationLevel
from tongban.accounts.verification import (
    FaceEvidence,
    FaceProvider,
    Outcome,
    require_level,
    verify_face,
    verify_real_name,
)
from tongban.core.audit import AuditResult
from tongban.core.models import AuditRecord
from tongban.core.personal import lookup_digest

pytestmark = pytest.mark.django_db


def _population(name="王晓明", id_number=None):
    return PopulationRecord.objects.create(name=name, id_number=id_number or make_id_number())


def _l1():
    return UserFactory(unverified=True)


def _raises(error, func, /, **kwargs):
    with pytest.raises(AccountError) as info:
        func(**kwargs)
    assert info.value.code == error.value, info.value.as_dict()
    return info.value


def test_l2_against_the_population_table():
    record = _population()
    user = _l1()
    verified = verify_real_name(
        actor=user, real_name=" 王晓明 ", id_number=record.id_number.lower(), ip="192.0.2.1"
    )
    assert verified.level == VerificationLevel.L2 == user.level
    fresh = User.objects.get(pk=user.pk)
    assert fresh.real_name == "王晓明"
    assert fresh.id_number == record.id_number
    assert fresh.id_number_digest == lookup_digest("id_number", record.id_number)
    assert fresh.verified_by == "local"
    assert fresh.verified_at is not None
    rec = AuditRecord.objects.get(action="account.verify_real_name")
    assert rec.result == AuditResult.SUCCESS
    assert record.id_number not in str(rec.details)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("15060219900101123", "应为18位，当前为17位"),
        ("1506021990010112AX", "前17位应为数字"),
        ("990602199001011234", "不是有效的行政区划"),
        ("150602199002301234", "出生日期“19900230”不存在"),
        ("15060219900101123X", "校验码错误"),
    ],
)
def test_invalid_id_numbers_are_refused_with_the_reason(number, reason):
    if reason == "校验码错误":
        good = make_id_number()
        number = good[:17] + ("0" if good[17] != "0" else "1")
    user = _l1()
    err = _raises(
        AccountErrorCode.INVALID_ID_NUMBER,
        verify_real_name,
        actor=user,
        real_name="王晓明",
        id_number=number,
    )
    assert err.field == "id_number"
    assert reason in err.message
    assert User.objects.get(pk=user.pk).level == VerificationLevel.L1


@pytest.mark.parametrize("name", ["", "王", "Wang Xiaoming", "王晓明1", "·王晓明"])
def test_invalid_names(name):
    _raises(
        AccountErrorCode.INVALID_NAME,
        verify_real_name,
        actor=_l1(),
        real_name=name,
        id_number=make_id_number(),
    )


def test_minority_names_with_a_middle_dot():
    record = _population(name="阿依古丽·买买提")
    user = verify_real_name(actor=_l1(), real_name="阿依古丽•买买提", id_number=record.id_number)
    assert user.real_name == "阿依古丽·买买提"


def test_id_number_verified_on_another_account_is_taken():
    holder = UserFactory(real_name="刘晓红")
    _population(name=holder.real_name, id_number=holder.id_number)
    user = _l1()
    err = _raises(
        AccountErrorCode.ID_NUMBER_TAKEN,
        verify_real_name,
        actor=user,
        real_name=holder.real_name,
        id_number=holder.id_number,
    )
    assert err.field == "id_number"
    fresh = User.objects.get(pk=user.pk)
    assert fresh.level == VerificationLevel.L1
    assert fresh.id_number == ""
    assert AuditRecord.objects.get(action="account.verify_real_name").result == "failure"


@pytest.mark.parametrize("case", ["no_record", "name_mismatch"])
def test_pair_not_on_record_fails_and_changes_nothing(case):
    record = _population()
    number = record.id_number if case == "name_mismatch" else make_id_number()
    user = _l1()
    err = _raises(
        AccountErrorCode.VERIFICATION_FAILED,
        verify_real_name,
        actor=user,
        real_name="李四",
        id_number=number,
    )
    assert "不一致" in err.message
    assert User.objects.get(pk=user.pk).level == VerificationLevel.L1
    rec = AuditRecord.objects.get(action="account.verify_real_name")
    assert rec.result == AuditResult.FAILURE
    assert rec.details["reason"] == case


def test_failed_attempts_are_limited():
    record = _population()
    user = _l1()
    for _ in range(10):
        _raises(
            AccountErrorCode.VERIFICATION_FAILED,
            verify_real_name,
            actor=user,
            real_name="李四",
            id_number=record.id_number,
        )
    _raises(
        AccountErrorCode.RATE_LIMITED,
        verify_real_name,
        actor=user,
        real_name="王晓明",
        id_number=record.id_number,
    )
    assert User.objects.get(pk=user.pk).level == VerificationLevel.L1


def test_already_verified():
    user = UserFactory()
    record = _population()
    _raises(
        AccountErrorCode.ALREADY_VERIFIED,
        verify_real_name,
        actor=user,
        real_name=record.name,
        id_number=record.id_number,
    )


# --- L3 ------------------------------------------------------------------------------------------


def _l2_on_record():
    user = UserFactory()
    _population(name=user.real_name, id_number=user.id_number)
    return user


def test_face_check_raises_l2_to_l3():
    user = _l2_on_record()
    verify_face(actor=user, evidence=FaceEvidence(consent=True))
    assert User.objects.get(pk=user.pk).level == VerificationLevel.L3 == user.level
    assert AuditRecord.objects.get(action="account.verify_face").result == "success"


def test_face_check_needs_l2():
    user = _l1()
    _raises(AccountErrorCode.LEVEL_TOO_LOW, verify_face, actor=user, evidence=FaceEvidence(True))
    assert User.objects.get(pk=user.pk).level == VerificationLevel.L1


def test_face_check_needs_a_population_record_and_consent():
    user = UserFactory()  # L2 but not in the population table
    _raises(
        AccountErrorCode.VERIFICATION_FAILED, verify_face, actor=user, evidence=FaceEvidence(True)
    )
    user = _l2_on_record()
    _raises(
        AccountErrorCode.VERIFICATION_FAILED, verify_face, actor=user, evidence=FaceEvidence(False)
    )
    assert User.objects.get(pk=user.pk).level == VerificationLevel.L2


def test_local_face_provider_refuses_to_run_in_production(settings):
    settings.TONGBAN_PRODUCTION = True
    user = _l2_on_record()
    err = _raises(
        AccountErrorCode.VERIFICATION_UNAVAILABLE,
        verify_face,
        actor=user,
        evidence=FaceEvidence(True),
    )
    assert "演示" in err.message
    assert "生产环境" in err.message
    assert User.objects.get(pk=user.pk).level == VerificationLevel.L2


class PhotoComparingProvider(FaceProvider):
    """Stands in for a public-security face API: it needs a photo and answers by comparing."""

    name = "photo-test"
    capture = "photo"
    seen: list = []

    def check_face(self, *, real_name, id_number, evidence):
        self.seen.append((real_name, id_number, evidence.photo))
        if evidence.photo == b"same face":
            return Outcome(True, reference="tx-1")
        return Outcome(False, "face_mismatch", "人脸比对不一致")


def test_a_real_face_provider_plugs_in(settings):
    settings.TONGBAN_FACE_PROVIDER = f"{__name__}.PhotoComparingProvider"
    user = UserFactory()  # no population record needed: the provider decides
    err = _raises(
        AccountErrorCode.VERIFICATION_FAILED,
        verify_face,
        actor=user,
        evidence=FaceEvidence(True, photo=b"other face"),
    )
    assert err.message == "人脸比对不一致"
    verify_face(actor=user, evidence=FaceEvidence(True, photo=b"same face"))
    assert user.level == VerificationLevel.L3
    assert PhotoComparingProvider.seen[-1] == (user.real_name, user.id_number, b"same face")
    assert AuditRecord.objects.filter(action="account.verify_face").first().details == {
        "provider": "photo-test",
        "reference": "tx-1",
    }


def test_require_level():
    from django.contrib.auth.models import AnonymousUser

    require_level(UserFactory(), VerificationLevel.L2)
    for user, level in ((UserFactory(), 3), (_l1(), 2), (AnonymousUser(), 1), (None, 1)):
        _raises(AccountErrorCode.LEVEL_TOO_LOW, require_level, user=user, level=level)


# --- Loader --------------------------------------------------------------------------------------


def test_load_population_reports_bad_rows_by_line_and_loads_nothing(tmp_path, capsys):
    good = make_id_number()
    path = tmp_path / "people.csv"
    path.write_text(
        f"name,id_number\n王晓明,{good}\n李四,15060219900101123\n,{make_id_number()}\n"
        f"赵六,{good}\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError):
        call_command("load_population", str(path))
    err = capsys.readouterr().err
    assert "第3行" in err
    assert "18位" in err
    assert "第4行" in err
    assert "第5行" in err
    assert "第2行重复" in err
    assert not PopulationRecord.objects.exists()
    call_command("load_population", str(path), "--skip-bad", "--source", "公安人口库")
    record = PopulationRecord.objects.get()
    assert record.name == "王晓明"
    assert record.id_number == good
    assert record.source == "公安人口库"


def test_load_population_updates_names(tmp_path, capsys):
    number = make_id_number()
    path = tmp_path / "p.csv"
    path.write_text(f"\ufeff王晓明,{number}\n", encoding="utf-8")
    call_command("load_population", str(path))
    path.write_text(f"王小明,{number.lower()}\n", encoding="utf-8")
    call_command("load_population", str(path))
    assert PopulationRecord.objects.get().name == "王小明"
    assert "更新 1 条" in capsys.readouterr().out
