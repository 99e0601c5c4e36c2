"""What an SMS or e-mail gateway has to provide.

A backend receives one :class:`~tongban.accounts.models.OutgoingMessage` (the recipient and body
are decrypted on access) and either hands it to the gateway or raises :class:`DeliveryError`.
Every message is first stored as a row whatever the backend, so the platform keeps a record of
what it sent, and a failed delivery keeps its error for the operator.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from tongban.accounts.models import MessageChannel, OutgoingMessage


class DeliveryError(RuntimeError):
    """The gateway refused or could not be reached; ``message`` is kept on the row."""


class MessageBackend(ABC):
    """One gateway for one channel. Subclasses set ``name`` and ``channel``."""

    name: ClassVar[str]
    channel: ClassVar[MessageChannel]
    #: True when the backend only records (the demo's outbox): nothing leaves the platform.
    records_only: ClassVar[bool] = False

    @abstractmethod
    def deliver(self, message: OutgoingMessage) -> None:
        """Send ``message`` now; raise :class:`DeliveryError` on failure."""
