"""Checking and storing an uploaded file: type by content, size, SM3 digest, materials library.

The type is read from the file's first bytes (``filetype``), never from its name or the browser's
claim: a renamed executable is refused. OFD (GB/T 33190) is a zip package whose root holds
``OFD.xml``. A file is stored once per owner (same digest, same library row), so uploading the
same scan for a second case reuses it.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import LibraryFile
from tongban.core import crypto

ALLOWED = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "application/ofd": "ofd",
}


def max_bytes() -> int:
    return int(getattr(settings, "TONGBAN_MAX_UPLOAD_MB", 20)) * 1024 * 1024


@dataclass(frozen=True)
class Checked:
    content: bytes
    content_type: str
    extension: str
    sm3: str


def _is_ofd(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            return "OFD.xml" in package.namelist()
    except zipfile.BadZipFile:
        return False


def check(upload: Any, *, field: str = "file") -> Checked:
    """Read ``upload`` (a Django ``UploadedFile`` or bytes) and refuse what is not allowed."""
    limit = max_bytes()
    if isinstance(upload, bytes | bytearray):
        content = bytes(upload)
    else:
        if upload.size is not None and upload.size > limit:
            raise CaseError(
                CaseErrorCode.FILE_TOO_LARGE,
                _("文件过大：不能超过%(n)dMB") % {"n": limit // (1024 * 1024)},
                field=field,
            )
        content = upload.read(limit + 1)
    if not content:
        raise CaseError(CaseErrorCode.FILE_EMPTY, field=field)
    if len(content) > limit:
        raise CaseError(
            CaseErrorCode.FILE_TOO_LARGE,
            _("文件过大：不能超过%(n)dMB") % {"n": limit // (1024 * 1024)},
            field=field,
        )
    kind = filetype.guess(content[:8192])
    mime = kind.mime if kind else ""
    if mime == "application/zip" and _is_ofd(content):
        mime = "application/ofd"
    if mime not in ALLOWED:
        raise CaseError(CaseErrorCode.FILE_TYPE, field=field)
    return Checked(content, mime, ALLOWED[mime], crypto.sm3(content).hex())


def _safe_name(name: str, extension: str) -> str:
    stem = (name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0][:80] or "file"
    return f"{stem}.{extension}"


def keep(*, owner: Any, upload: Any, title: str, field: str = "file") -> LibraryFile:
    """Check ``upload`` and put it in ``owner``'s materials library (once per digest)."""
    checked = check(upload, field=field)
    existing = LibraryFile.objects.filter(owner=owner, sm3=checked.sm3).first()
    if existing is not None:
        return existing
    name = _safe_name(getattr(upload, "name", "") or title, checked.extension)
    row = LibraryFile(
        owner=owner,
        title=title[:200],
        name=name,
        sm3=checked.sm3,
        size=len(checked.content),
        content_type=checked.content_type,
    )
    row.file.save(
        f"{checked.sm3[:16]}.{checked.extension}", ContentFile(checked.content), save=False
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        # The same file uploaded twice at once: keep the first row, drop our copy.
        row.file.delete(save=False)
        return LibraryFile.objects.get(owner=owner, sm3=checked.sm3)
    return row
