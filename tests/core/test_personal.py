"""Personal data: encrypted columns, digest lookup, masking, the log filter and audited reveal."""

from __future__ import annotations

import io
import logging
import os

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection, models

from tongban.core import crypto
from tongban.core.crypto import CryptoError, KeyRing
from tongban.core.models import AuditRecord, AuditResult
from tongban.core.personal import (
    EncryptedTextField,
    LookupDigestField,
    PersonalDataError,
    PersonalDataLogFilter,
    lookup_digest,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
    reveal,
    rotate_model,
)

ID = "15060219900101106X"  # a valid check character (GB 11643), checked below
PHONE = "13812345678"


User = get_user_model()


class Citizen(models.Model):
    """A model shaped like the identity domain's person, only for these tests."""

    name = models.CharField(max_length=50)
    id_number = EncryptedTextField(purpose="id_number", null=True, blank=True)
    id_number_digest = LookupDigestField(source="id_number")
    phone = EncryptedTextField(purpose="phone", blank=True, default="")
    phone_digest = LookupDigestField(source="phone")

    class Meta:
        app_label = "core"
        db_table = "test_personal_citizen"
        managed = False

    def __str__(self) -> str:
        return self.name


def _ring(**keys: bytes) -> KeyRing:
    return KeyRing(data_keys=keys or {"v1": os.urandom(16)}, lookup_key=LOOKUP_KEY)


LOOKUP_KEY = os.urandom(32)


@pytest.fixture
def ring():
    ring = _ring()
    crypto.set_keyring(ring)
    yield ring
    crypto.set_keyring(None)


@pytest.fixture
def citizen_table(transactional_db, ring):
    with connection.schema_editor() as editor:
        editor.create_model(Citizen)
    yield
    with connection.schema_editor() as editor:
        editor.delete_model(Citizen)


def _raw(column: str, pk: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM test_personal_citizen WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_id_fixture_is_a_valid_number():
    from tongban.core.identifiers import validate_id_number

    assert validate_id_number(ID) == ID


@pytest.mark.usefixtures("citizen_table")
def test_encrypted_at_rest_and_plain_in_python():
    person = Citizen(name="张三丰", id_number=ID, phone=PHONE)
    person.save()
    stored = _raw("id_number", person.pk)
    assert stored.startswith("v1:")
    assert ID not in stored
    assert PHONE not in _raw("phone", person.pk)
    assert _raw("id_number_digest", person.pk) == lookup_digest("id_number", ID)
    again = Citizen.objects.get(pk=person.pk)
    assert (again.id_number, again.phone) == (ID, PHONE)
    assert list(Citizen.objects.values_list("id_number", flat=True)) == [ID]


@pytest.mark.usefixtures("citizen_table")
def test_exact_lookup_by_digest_with_normalization():
    wanted = Citizen.objects.create(name="张三", id_number=ID, phone=PHONE)
    Citizen.objects.create(name="李四", id_number="110101199003074514", phone="13900000000")
    found = Citizen.objects.filter(
        id_number_digest=lookup_digest("id_number", " 15060219900101106x ")
    )
    assert list(found) == [wanted]
    by_phone = Citizen.objects.filter(phone_digest=lookup_digest("phone", "+86 138-1234-5678"))
    assert list(by_phone) == [wanted]
    assert not Citizen.objects.filter(id_number_digest=lookup_digest("id_number", ID[:-1] + "1"))
    # The digest is keyed: another lookup key gives another digest.
    other = crypto.lookup_digest_bytes("id_number", ID, ring=KeyRing({"v1": b"k" * 16}, b"o" * 32))
    assert other.hex() != lookup_digest("id_number", ID)
    # Purpose separates digests of the same text.
    assert lookup_digest("phone", "123") != lookup_digest("id_number", "123")


@pytest.mark.usefixtures("citizen_table")
def test_digest_follows_changes_and_empty_values():
    person = Citizen.objects.create(name="王五", id_number=None, phone="")
    assert person.id_number_digest is None
    assert person.phone_digest is None
    assert _raw("phone", person.pk) == ""
    assert Citizen.objects.filter(id_number__isnull=True).count() == 1
    person.id_number = ID
    person.save()
    assert Citizen.objects.get(id_number_digest=lookup_digest("id_number", ID)) == person


@pytest.mark.usefixtures("citizen_table")
def test_encrypted_column_refuses_value_lookups():
    with pytest.raises(TypeError, match="encrypted"):
        Citizen.objects.filter(id_number=ID).count()
    with pytest.raises(TypeError):
        Citizen.objects.filter(id_number__startswith="150602").count()


@pytest.mark.usefixtures("citizen_table")
def test_row_under_unknown_key_fails_loudly(ring):
    person = Citizen.objects.create(name="赵六", id_number=ID)
    crypto.set_keyring(_ring(v9=os.urandom(16)))
    with pytest.raises(CryptoError):
        Citizen.objects.get(pk=person.pk)


@pytest.mark.usefixtures("citizen_table")
def test_rotate_model_moves_rows_to_the_current_key(ring):
    people = [Citizen.objects.create(name=f"人{i}", id_number=ID, phone=PHONE) for i in range(3)]
    Citizen.objects.create(name="空", id_number=None, phone="")
    crypto.set_keyring(_ring(v2=os.urandom(16), v1=ring.key("v1")))
    # Old rows still read under the new ring (lazy rotation: nothing rewritten yet).
    assert Citizen.objects.get(pk=people[0].pk).id_number == ID
    people[0].save()  # a save re-encrypts that row
    assert _raw("id_number", people[0].pk).startswith("v2:")
    assert rotate_model(Citizen, batch_size=2) == 2
    assert rotate_model(Citizen) == 0
    for person in people:
        assert _raw("id_number", person.pk).startswith("v2:")
        assert _raw("phone", person.pk).startswith("v2:")
    # After rotation v1 can leave the ring.
    final = KeyRing({"v2": crypto.keyring().key("v2")}, lookup_key=LOOKUP_KEY)
    crypto.set_keyring(final)
    assert {p.id_number for p in Citizen.objects.exclude(id_number__isnull=True)} == {ID}


@pytest.mark.usefixtures("citizen_table")
def test_redigest_after_lookup_key_change(ring):
    person = Citizen.objects.create(name="孙七", id_number=ID, phone=PHONE)
    crypto.set_keyring(KeyRing({"v1": ring.key("v1")}, lookup_key=os.urandom(32)))
    assert not Citizen.objects.filter(id_number_digest=lookup_digest("id_number", ID)).exists()
    assert rotate_model(Citizen, redigest=True) == 1
    assert Citizen.objects.get(id_number_digest=lookup_digest("id_number", ID)) == person


# --- Masking -----------------------------------------------------------------------------------


def test_masks():
    assert mask_id_number("15060219900101123X") == "150602********123X"
    assert mask_id_number("150602900101123") == "150602*****1123"  # 15-digit first generation
    assert mask_id_number("12345") == "*****"
    assert mask_id_number(None) == ""
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0471-6661234") == "********1234"
    assert mask_phone("123") == "***"
    assert mask_name("张三丰") == "张**"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("张") == "*"
    assert mask_name("") == ""


def test_mask_text_finds_ids_and_mobiles_only():
    text = (
        f"申请人 {ID} 电话 {PHONE}，联系 +86 13900001111，"
        "校验位写错的 150602199001011231 也遮蔽；"
        "订单号 202611230000000001、流水 9876543210123456789、座机 0471-6661234 不动"
    )
    masked = mask_text(text)
    assert "150602********106X" in masked
    assert "138****5678" in masked
    assert "+86 139****1111" in masked
    assert "150602********1231" in masked
    assert "202611230000000001" in masked
    assert "9876543210123456789" in masked
    assert "0471-6661234" in masked
    assert ID not in masked
    assert PHONE not in masked


def test_log_filter_masks_message_args_and_traceback():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PersonalDataLogFilter())
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("tests.personal.filter")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("lookup %s failed for phone %s", ID, PHONE)
        try:
            raise ValueError(f"bad id {ID}")
        except ValueError:
            log.exception("error for %s", PHONE)
        log.warning("no personal data here: %d items", 3)
    finally:
        log.removeHandler(handler)
    output = stream.getvalue()
    assert ID not in output
    assert PHONE not in output
    assert "150602********106X" in output
    assert "138****5678" in output
    assert "no personal data here: 3 items" in output


def test_log_filter_is_installed_on_the_console_handler(settings):
    assert "personal_data" in settings.LOGGING["handlers"]["console"]["filters"]
    installed = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, PersonalDataLogFilter) for f in h.filters)
    ]
    assert installed


# --- Audited reveal ----------------------------------------------------------------------------


def _staff(username: str, *, can_reveal: bool) -> User:
    user = User.objects.create_user(username=username, password="x" * 12, is_staff=True)
    if can_reveal:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="core", codename="reveal_personal_data")
        )
    return User.objects.get(pk=user.pk)  # fresh permission cache


@pytest.mark.usefixtures("citizen_table")
def test_reveal_by_authorized_staff_is_audited():
    person = Citizen.objects.create(name="周八", id_number=ID)
    clerk = _staff("clerk", can_reveal=True)
    value = reveal(
        actor=clerk,
        instance=person,
        field_name="id_number",
        reason="核验申请人身份",
        ip="10.1.2.3",
    )
    assert value == ID
    rec = AuditRecord.objects.get()
    assert (rec.action, rec.result, rec.actor_id) == ("personal.reveal", "success", clerk.pk)
    assert rec.subject == f"citizen:{person.pk}"
    assert rec.reason == "核验申请人身份"
    assert rec.ip == "10.1.2.3"
    assert ID not in str(rec.details)


@pytest.mark.usefixtures("citizen_table")
@pytest.mark.parametrize(("can_reveal", "reason", "code"), [
    (False, "核验", "forbidden"),
    (True, "   ", "reason_required"),
])  # fmt: skip
def test_refused_reveal_is_audited_as_failure(can_reveal, reason, code):
    person = Citizen.objects.create(name="吴九", id_number=ID)
    user = _staff("someone", can_reveal=can_reveal)
    with pytest.raises(PersonalDataError) as exc:
        reveal(actor=user, instance=person, field_name="id_number", reason=reason)
    assert exc.value.code == code
    rec = AuditRecord.objects.get()
    assert rec.result == AuditResult.FAILURE
    assert rec.details["error"] == code


@pytest.mark.usefixtures("citizen_table")
def test_reveal_of_a_plain_field_is_refused():
    person = Citizen.objects.create(name="郑十", id_number=ID)
    with pytest.raises(PersonalDataError) as exc:
        reveal(actor=_staff("a", can_reveal=True), instance=person, field_name="name", reason="x")
    assert exc.value.code == "not_personal"
    assert not AuditRecord.objects.exists()
