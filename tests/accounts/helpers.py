"""Shared helpers of the accounts tests: read the SMS the local backend recorded."""

import re

from tongban.accounts.models import MessageChannel, OutgoingMessage
from tongban.core.personal import mask_phone

CODE_IN_SMS = re.compile(r"验证码为(\d{6})")


def sms_to(phone: str) -> list[str]:
    """Bodies of the SMS recorded for ``phone``, oldest first (recipients are encrypted, so
    the rows are matched on the decrypted value)."""
    rows = OutgoingMessage.objects.filter(
        channel=MessageChannel.SMS, recipient_masked=mask_phone(phone)
    ).order_by("created_at", "pk")
    return [row.body for row in rows if row.recipient == phone]


def last_code(phone: str) -> str:
    """The code of the newest SMS to ``phone`` that carries one."""
    for body in reversed(sms_to(phone)):
        match = CODE_IN_SMS.search(body)
        if match:
            return match.group(1)
    raise AssertionError(f"no code was sent to {phone}")
