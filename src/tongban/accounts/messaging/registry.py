"""Which backend sends which channel, and the two calls the rest of the platform uses.

``TONGBAN_SMS_BACKEND`` / ``TONGBAN_EMAIL_BACKEND`` name a registered backend (``local``) or give
the dotted path of a :class:`MessageBackend` subclass (``myorg.sms.AliyunSms``), so a vendor's
gateway plugs in without changing Tongban.

A message is stored in the caller's transaction and delivered after that transaction commits
(a rolled-back registration sends no SMS); a backend that only records needs no delivery step.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from tongban.accounts.messaging.base import DeliveryError, MessageBackend
from tongban.accounts.messaging.providers.local import LocalEmailBackend, LocalSmsBackend
from tongban.accounts.models import MessageChannel, OutgoingMessage
from tongban.core.personal import mask_phone

logger = logging.getLogger(__name__)

_SETTING = {
    MessageChannel.SMS: "TONGBAN_SMS_BACKEND",
    MessageChannel.EMAIL: "TONGBAN_EMAIL_BACKEND",
}
_REGISTRY: dict[tuple[str, str], type[MessageBackend]] = {}


def register(backend: type[MessageBackend]) -> type[MessageBackend]:
    """Make ``backend`` selectable by its ``name`` for its ``channel`` (usable as a decorator)."""
    _REGISTRY[(str(backend.channel), backend.name)] = backend
    return backend


register(LocalSmsBackend)
register(LocalEmailBackend)


def backend_name(channel: MessageChannel) -> str:
    return str(getattr(settings, _SETTING[channel], "local") or "local")


def backend_for(channel: MessageChannel) -> MessageBackend:
    """The configured backend of ``channel``; a name that is neither registered nor importable
    is a configuration error."""
    name = backend_name(channel)
    cls = _REGISTRY.get((str(channel), name))
    if cls is None:
        try:
            cls = import_string(name)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"{_SETTING[channel]}={name!r}: no such backend ({exc})"
            ) from exc
        if not (isinstance(cls, type) and issubclass(cls, MessageBackend)):
            raise ImproperlyConfigured(f"{_SETTING[channel]}={name!r} is not a MessageBackend")
        if str(cls.channel) != str(channel):
            raise ImproperlyConfigured(f"{_SETTING[channel]}={name!r} sends {cls.channel}")
    return cls()


def is_local(channel: MessageChannel = MessageChannel.SMS) -> bool:
    """Whether messages of ``channel`` are only recorded (the demo's outbox)."""
    return backend_for(channel).records_only


def deliver(message_id: int) -> bool:
    """Hand one stored message to its backend; record the time or the error. Idempotent: a
    message already sent is not sent again. Returns whether the message is sent."""
    message = OutgoingMessage.objects.filter(pk=message_id).first()
    if message is None or message.sent_at is not None:
        return message is not None
    backend = backend_for(MessageChannel(message.channel))
    try:
        backend.deliver(message)
    except DeliveryError as exc:
        logger.warning("message %s not delivered by %s: %s", message.pk, backend.name, exc)
        OutgoingMessage.objects.filter(pk=message.pk).update(error=str(exc)[:300])
        return False
    OutgoingMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
        sent_at=timezone.now(), error="", backend=backend.name
    )
    return True


def _store(
    channel: MessageChannel, *, recipient: str, masked: str, subject: str, body: str
) -> OutgoingMessage:
    backend = backend_for(channel)
    message = OutgoingMessage.objects.create(
        channel=channel,
        recipient=recipient,
        recipient_masked=masked,
        subject=subject[:200],
        body=body,
        backend=backend.name,
        sent_at=timezone.now() if backend.records_only else None,
    )
    if not backend.records_only:
        transaction.on_commit(lambda: deliver(message.pk))
    return message


def send_sms(*, phone: str, body: str) -> OutgoingMessage:
    """Store an SMS to ``phone`` and deliver it once the caller's transaction commits."""
    return _store(
        MessageChannel.SMS, recipient=phone, masked=mask_phone(phone), subject="", body=body
    )


def _mask_email(address: str) -> str:
    local, _sep, domain = address.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"


def send_email(*, to: str, subject: str, body: str) -> OutgoingMessage:
    """Store an e-mail to ``to`` and deliver it once the caller's transaction commits."""
    return _store(
        MessageChannel.EMAIL, recipient=to, masked=_mask_email(to), subject=subject, body=body
    )
