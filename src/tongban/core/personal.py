"""Personal data protection (PIPL Art. 51; STANDARDS.md §8): encryption at rest, exact lookup by
keyed digest, masking on screen and in logs, and audited reveal.

A model keeps an ID number as two columns::

    id_number = EncryptedTextField(purpose="id_number")          # SM4-GCM token, key-versioned
    id_number_digest = LookupDigestField(source="id_number")     # HMAC-SM3, indexed, auto-filled

and finds a person by exact value with
``Person.objects.filter(id_number_digest=lookup_digest("id_number", value))``. The encrypted
column refuses every lookup but ``isnull``. Saving a row always encrypts with the current data
key, so rows move to a new key lazily; :func:`rotate_model` (command ``tongban
rotate_personal_data``) moves them all, and recomputes digests after a lookup-key change.

Masking keeps the first 6 and last 4 characters of an ID number (``150602********123X``), the
first 3 and last 4 digits of a mobile number (``138****5678``) and the first character of a name
(``张**``). :class:`PersonalDataLogFilter` masks ID and mobile numbers in every log line.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.db import models, transaction
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from tongban.core import crypto

# --- Normalization and lookup digests ----------------------------------------------------------

_MOBILE_PREFIX = re.compile(r"^(?:\+?86)?(1\d{10})$")


def normalize(purpose: str, value: str) -> str:
    """The canonical form that is digested: IDs upper-case without spaces, phones digits only
    without the +86 country code, anything else stripped."""
    text = str(value).strip()
    if purpose == "id_number":
        return re.sub(r"\s+", "", text).upper()
    if purpose == "phone":
        digits = re.sub(r"[^\d+]", "", text)
        match = _MOBILE_PREFIX.match(digits)
        return match.group(1) if match else digits.lstrip("+")
    return text


def lookup_digest(purpose: str, value: str, *, ring: crypto.KeyRing | None = None) -> str:
    """Hex HMAC-SM3 of the normalized value under the lookup key, for exact-match queries."""
    return crypto.lookup_digest_bytes(purpose, normalize(purpose, value), ring=ring).hex()


# --- Model fields ------------------------------------------------------------------------------


class EncryptedTextField(models.TextField):
    """Text stored as an SM4-GCM token bound to ``purpose``; Python sees the plain value."""

    description = _("加密文本（SM4）")

    def __init__(self, *args: Any, purpose: str, **kwargs: Any) -> None:
        if not purpose:
            raise ValueError("EncryptedTextField needs a purpose")
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value, purpose=self.purpose).decode("utf-8")

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value).encode("utf-8"), purpose=self.purpose)

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise TypeError(
                f"{self.name} is encrypted: query its LookupDigestField instead of {lookup_name!r}"
            )
        return super().get_lookup(lookup_name)


class LookupDigestField(models.CharField):
    """The indexed HMAC-SM3 digest of the plain value of ``source`` (an EncryptedTextField),
    computed on every save."""

    description = _("查找摘要（HMAC-SM3）")

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, default in (("max_length", 64), ("db_index", True), ("editable", False)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        for key in ("null", "blank"):
            if kwargs.get(key) is True:
                kwargs.pop(key)
        return name, path, args, kwargs

    def source_field(self) -> EncryptedTextField:
        field = self.model._meta.get_field(self.source)
        if not isinstance(field, EncryptedTextField):
            raise TypeError(f"{self.name}: source {self.source!r} is not an EncryptedTextField")
        return field

    def digest_of(self, plain: str | None) -> str | None:
        if plain is None or plain == "":
            return None
        return lookup_digest(self.source_field().purpose, plain)

    def pre_save(self, model_instance, add):
        value = self.digest_of(getattr(model_instance, self.source_field().attname))
        setattr(model_instance, self.attname, value)
        return value


# --- Masking -----------------------------------------------------------------------------------


def mask_id_number(value: str | None) -> str:
    """``15060219900101123X`` → ``150602********123X`` (first 6 and last 4 kept)."""
    text = (value or "").strip()
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_phone(value: str | None) -> str:
    """``13812345678`` → ``138****5678``; other numbers keep only their last 4 digits."""
    text = (value or "").strip()
    if len(text) == 11 and text.isdigit():
        return text[:3] + "****" + text[-4:]
    if len(text) <= 4:
        return "*" * len(text)
    return "*" * (len(text) - 4) + text[-4:]


def mask_name(value: str | None) -> str:
    """``张三丰`` → ``张**``; a one-character name is masked whole."""
    text = (value or "").strip()
    if len(text) <= 1:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 1)


# Anything shaped like a resident ID (province prefix, a plausible birth date) is masked whether
# or not its check character is right: a mistyped ID number is still someone's personal data,
# while a masked serial number harms nobody. Mobile numbers: 1[3-9] and nine digits, with or
# without +86, not inside a longer run of digits. Landlines and other numbers are left alone.
_ID_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])"
    r"([1-9]\d)(\d{4})((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3}[0-9Xx])"
    r"(?![0-9A-Za-z])"
)
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])((?:\+?86[- ]?)?)(1[3-9]\d)(\d{4})(\d{4})(?![0-9])")


def mask_text(text: str) -> str:
    """Mask every ID number and mobile number found in free text."""
    text = _ID_IN_TEXT.sub(lambda m: m.group(1) + m.group(2) + "********" + m.group(4), text)
    return _MOBILE_IN_TEXT.sub(lambda m: m.group(1) + m.group(2) + "****" + m.group(4), text)


class PersonalDataLogFilter(logging.Filter):
    """Rewrites each log record so that its message (and traceback) is masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's to report
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


# --- Audited reveal ----------------------------------------------------------------------------


class PersonalDataErrorCode(models.TextChoices):
    FORBIDDEN = "forbidden", _("无权查看完整个人信息")
    REASON_REQUIRED = "reason_required", _("查看完整个人信息须填写事由")
    NOT_PERSONAL = "not_personal", _("该字段不是加密的个人信息")


class PersonalDataError(PermissionError):
    def __init__(self, code: PersonalDataErrorCode) -> None:
        self.code = code.value
        self.message = str(code.label)
        super().__init__(self.message)


REVEAL_PERMISSION = "core.reveal_personal_data"


def reveal(
    *,
    actor: Any,
    instance: models.Model,
    field_name: str,
    reason: str,
    on_behalf_of: str = "",
    ip: str | None = None,
    user_agent: str = "",
) -> str:
    """Return the full value of an encrypted field for an authorized staff member, and append
    an ``personal.reveal`` audit record (a refused attempt is recorded as a failure).

    The refusal is committed before the error is raised, so call this outside any transaction
    that the error would roll back.
    """
    from tongban.core.audit import AuditAction, AuditResult, record

    field = instance._meta.get_field(field_name)
    if not isinstance(field, EncryptedTextField):
        raise PersonalDataError(PersonalDataErrorCode.NOT_PERSONAL)
    subject = f"{instance._meta.model_name}:{instance.pk}"
    common = {
        "actor": actor,
        "action": AuditAction.PERSONAL_REVEAL,
        "object_type": instance._meta.label_lower,
        "object_id": str(instance.pk),
        "subject": subject,
        "reason": (reason or "").strip(),
        "on_behalf_of": on_behalf_of,
        "ip": ip,
        "user_agent": user_agent,
        "details": {"field": field_name},
    }
    error = None
    if not (actor and getattr(actor, "is_active", False) and actor.has_perm(REVEAL_PERMISSION)):
        error = PersonalDataErrorCode.FORBIDDEN
    elif not common["reason"]:
        error = PersonalDataErrorCode.REASON_REQUIRED
    if error is not None:
        with transaction.atomic():
            record(
                result=AuditResult.FAILURE,
                **{**common, "details": {"field": field_name, "error": error.value}},
            )
        raise PersonalDataError(error)
    with transaction.atomic():
        record(**common)
        value = getattr(instance, field.attname)
    return value


# --- Rotation ----------------------------------------------------------------------------------


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def digest_fields(model: type[models.Model]) -> list[LookupDigestField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, LookupDigestField)]


def rotate_model(
    model: type[models.Model], *, redigest: bool = False, batch_size: int = 500
) -> int:
    """Re-encrypt every value of ``model`` not under the current data key (and, with
    ``redigest``, recompute every lookup digest); return the number of rows rewritten.

    Rows are rewritten with ``UPDATE … WHERE pk = …`` in batches of one transaction each, so the
    command can be stopped and resumed.
    """
    enc = encrypted_fields(model)
    digests = digest_fields(model)
    if not enc:
        return 0
    current = crypto.keyring().current_version
    raw = {f"_raw_{f.attname}": Cast(f.attname, output_field=models.TextField()) for f in enc}
    qs = model._base_manager.annotate(**raw)
    if not redigest:
        stale = models.Q()
        for f in enc:
            stale |= (
                models.Q(**{f"_raw_{f.attname}__isnull": False})
                & ~models.Q(**{f"_raw_{f.attname}__startswith": f"{current}:"})
                & ~models.Q(**{f"_raw_{f.attname}": ""})
            )
        qs = qs.filter(stale)
    pks = list(qs.order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(pks), batch_size):
        with transaction.atomic():
            rows = model._base_manager.filter(pk__in=pks[start : start + batch_size])
            for obj in rows.select_for_update().only("pk", *[f.attname for f in enc]):
                changes: dict[str, Any] = {f.attname: getattr(obj, f.attname) for f in enc}
                for d in digests:
                    changes[d.attname] = d.digest_of(changes.get(d.source_field().attname))
                model._base_manager.filter(pk=obj.pk).update(**changes)
                done += 1
    return done


__all__ = [
    "REVEAL_PERMISSION",
    "EncryptedTextField",
    "LookupDigestField",
    "PersonalDataError",
    "PersonalDataErrorCode",
    "PersonalDataLogFilter",
    "lookup_digest",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "mask_text",
    "normalize",
    "reveal",
    "rotate_model",
]
