"""SMS and e-mail behind pluggable backends: local records, real ones deliver after commit."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from tests.accounts.factories import make_phone
from tongban.accounts import messaging
from tongban.accounts.messaging import DeliveryError, MessageBackend
from tongban.accounts.models import MessageChannel, OutgoingMessage

pytestmark = pytest.mark.django_db

DELIVERED: list[tuple[str, str]] = []


class RecordingGateway(MessageBackend):
    """Stands in for a vendor's SMS gateway (no network in tests)."""

    name = "recording"
    channel = MessageChannel.SMS

    def deliver(self, message):
        DELIVERED.append((message.recipient, message.body))


class BrokenGateway(MessageBackend):
    name = "broken"
    channel = MessageChannel.SMS

    def deliver(self, message):
        raise DeliveryError("gateway answered 503")


class MailGateway(MessageBackend):
    name = "mail"
    channel = MessageChannel.EMAIL

    def deliver(self, message):
        DELIVERED.append((message.recipient, message.subject))


@pytest.fixture(autouse=True)
def _clean():
    DELIVERED.clear()
    yield
    DELIVERED.clear()


def test_local_sms_is_recorded_encrypted_and_sent_nowhere():
    phone = make_phone()
    message = messaging.send_sms(phone=phone, body="您的验证码为123456")
    row = OutgoingMessage.objects.get(pk=message.pk)
    assert row.recipient == phone
    assert row.body == "您的验证码为123456"
    assert row.recipient_masked == phone[:3] + "****" + phone[-4:]
    assert row.backend == "local"
    assert row.sent_at is not None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT recipient, body FROM {OutgoingMessage._meta.db_table} WHERE id = %s",  # noqa: S608
            [row.pk],
        )
        raw_recipient, raw_body = cursor.fetchone()
    assert phone not in raw_recipient
    assert "123456" not in raw_body
    assert messaging.is_local(MessageChannel.SMS)


def test_local_email_masks_the_address():
    message = messaging.send_email(to="zhang@example.cn", subject="通知", body="正文")
    assert message.recipient_masked == "z***@example.cn"
    assert message.channel == MessageChannel.EMAIL
    assert message.sent_at is not None


def test_a_vendor_backend_plugs_in_by_dotted_path_and_delivers_after_commit(
    settings, django_capture_on_commit_callbacks
):
    settings.TONGBAN_SMS_BACKEND = f"{__name__}.RecordingGateway"
    phone = make_phone()
    assert not messaging.is_local()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = messaging.send_sms(phone=phone, body="hello")
        assert DELIVERED == []  # not before the commit
    assert [(phone, "hello")] == DELIVERED
    row = OutgoingMessage.objects.get(pk=message.pk)
    assert row.backend == "recording"
    assert row.sent_at is not None
    assert row.error == ""
    assert messaging.deliver(message.pk) is True  # idempotent: not sent twice
    assert len(DELIVERED) == 1


def test_rolled_back_transaction_sends_nothing(settings, django_capture_on_commit_callbacks):
    settings.TONGBAN_SMS_BACKEND = f"{__name__}.RecordingGateway"

    def send_then_fail():
        with transaction.atomic():
            messaging.send_sms(phone=make_phone(), body="never")
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        send_then_fail()
    assert DELIVERED == []
    assert not OutgoingMessage.objects.exists()


def test_failed_delivery_keeps_the_error(settings, django_capture_on_commit_callbacks):
    settings.TONGBAN_SMS_BACKEND = f"{__name__}.BrokenGateway"
    with django_capture_on_commit_callbacks(execute=True):
        message = messaging.send_sms(phone=make_phone(), body="x")
    row = OutgoingMessage.objects.get(pk=message.pk)
    assert row.sent_at is None
    assert row.error == "gateway answered 503"
    assert messaging.deliver(message.pk) is False


def test_email_backend_is_chosen_separately(settings, django_capture_on_commit_callbacks):
    settings.TONGBAN_EMAIL_BACKEND = f"{__name__}.MailGateway"
    with django_capture_on_commit_callbacks(execute=True):
        messaging.send_email(to="li@example.cn", subject="s", body="b")
        messaging.send_sms(phone=make_phone(), body="local still")
    assert DELIVERED == [("li@example.cn", "s")]


@pytest.mark.parametrize(
    "name",
    ["nowhere", "tongban.accounts.models.User", f"{__name__}.MailGateway"],
)
def test_a_bad_backend_setting_is_a_configuration_error(settings, name):
    settings.TONGBAN_SMS_BACKEND = name
    with pytest.raises(ImproperlyConfigured):
        messaging.send_sms(phone=make_phone(), body="x")
    assert not OutgoingMessage.objects.exists()
