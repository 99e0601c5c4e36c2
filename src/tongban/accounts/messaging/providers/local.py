"""The local backends: the message row is the delivery. The demo shows recorded SMS on the page
``account/dev/messages/`` instead of sending them, and tests read the codes from the table."""

from __future__ import annotations

from tongban.accounts.messaging.base import MessageBackend
from tongban.accounts.models import MessageChannel, OutgoingMessage


class LocalSmsBackend(MessageBackend):
    name = "local"
    channel = MessageChannel.SMS
    records_only = True

    def deliver(self, message: OutgoingMessage) -> None:
        """Nothing leaves the platform: the stored row is the record of the message."""


class LocalEmailBackend(MessageBackend):
    name = "local"
    channel = MessageChannel.EMAIL
    records_only = True

    def deliver(self, message: OutgoingMessage) -> None:
        """Nothing leaves the platform: the stored row is the record of the message."""
