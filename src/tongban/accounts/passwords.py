"""Password complexity for persons and staff (等保 level 3 身份鉴别: 口令复杂度).

Listed in ``AUTH_PASSWORD_VALIDATORS`` after Django's length, common-password and similarity
validators: at least 8 characters from at least three of four classes (lower case, upper case,
digits, symbols).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def character_classes(password: str) -> int:
    """How many of lower case, upper case, digits and other characters ``password`` uses."""
    classes = [
        any(ch.islower() for ch in password),
        any(ch.isupper() for ch in password),
        any(ch.isdigit() for ch in password),
        any(not ch.isalnum() for ch in password),
    ]
    return sum(classes)


class ComplexityValidator:
    def __init__(self, min_length: int = 8, min_classes: int = 3) -> None:
        self.min_length = min_length
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        if len(password) < self.min_length or character_classes(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return _(
            "密码至少%(length)d位，且须包含大写字母、小写字母、数字、符号中的至少%(classes)d类"
        ) % {"length": self.min_length, "classes": self.min_classes}


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1) instead of Django's
    m = 100 MiB, p = 8: measured here 30 ms against 159 ms a hash (``bench/identity.py``), so a
    login costs one core 30 ms and two cores sustain about 60 password logins a second, while an
    offline guess still costs 19 MiB of memory. Hashes made with other parameters are upgraded at
    the next successful login (Django's ``must_update``)."""

    algorithm = "argon2"  # the same encoded format as Django's hasher; only the costs differ
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
