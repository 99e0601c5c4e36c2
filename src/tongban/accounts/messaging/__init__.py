"""Outgoing SMS and e-mail behind pluggable backends (STYLE rule 14).

Call :func:`send_sms` or :func:`send_email`; the backend is chosen by ``TONGBAN_SMS_BACKEND`` /
``TONGBAN_EMAIL_BACKEND`` (``local`` by default: the message is recorded and nothing is sent).
"""

from tongban.accounts.messaging.base import DeliveryError, MessageBackend
from tongban.accounts.messaging.registry import (
    backend_for,
    deliver,
    is_local,
    register,
    send_email,
    send_sms,
)

__all__ = [
    "DeliveryError",
    "MessageBackend",
    "backend_for",
    "deliver",
    "is_local",
    "register",
    "send_email",
    "send_sms",
]
