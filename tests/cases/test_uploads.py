"""Uploads are judged by their bytes, never by their name or the browser's claim."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.accounts.factories import UserFactory
from tests.cases.factories import PDF, PNG
from tongban.cases import uploads
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import LibraryFile
from tongban.core import crypto

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def _zip(names: list[str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name in names:
            package.writestr(name, b"<ofd/>")
    return out.getvalue()


OFD = _zip(["OFD.xml", "Doc_0/Document.xml"])


def upload(content: bytes, name: str = "scan.pdf", claimed: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=claimed)


@pytest.mark.parametrize(
    ("content", "mime", "extension"),
    [
        (PDF, "application/pdf", "pdf"),
        (PNG, "image/png", "png"),
        (JPEG, "image/jpeg", "jpg"),
        (OFD, "application/ofd", "ofd"),
    ],
)
def test_allowed_types_are_read_from_the_content(content, mime, extension):
    checked = uploads.check(upload(content, name="whatever.txt", claimed="text/plain"))
    assert (checked.content_type, checked.extension) == (mime, extension)
    assert checked.content == content
    assert checked.sm3 == crypto.sm3(content).hex()
    assert uploads.check(content).sm3 == checked.sm3  # bytes are accepted as well


@pytest.mark.parametrize(
    "content",
    [
        EXE,
        b"just some text that claims to be a PDF",
        _zip(["word/document.xml"]),  # a zip, not an OFD
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",  # an image type not allowed
    ],
)
def test_other_content_is_refused_whatever_its_name(content):
    with pytest.raises(CaseError) as caught:
        uploads.check(upload(content, name="scan.pdf"), field="m7")
    assert caught.value.code == CaseErrorCode.FILE_TYPE
    assert caught.value.field == "m7"


def test_an_empty_file_is_refused():
    for empty in (upload(b""), b""):
        with pytest.raises(CaseError) as caught:
            uploads.check(empty)
        assert caught.value.code == CaseErrorCode.FILE_EMPTY


def test_the_size_limit_is_a_setting(settings):
    settings.TONGBAN_MAX_UPLOAD_MB = 1
    limit = 1024 * 1024
    assert uploads.check(PDF + b"\x00" * (limit - len(PDF))).extension == "pdf"
    too_big = PDF + b"\x00" * (limit - len(PDF) + 1)
    for given in (upload(too_big), too_big):
        with pytest.raises(CaseError) as caught:
            uploads.check(given)
        assert caught.value.code == CaseErrorCode.FILE_TOO_LARGE
        assert "1MB" in caught.value.message

    class Lying:  # a stream whose declared size is wrong is cut at the limit and refused
        name = "scan.pdf"
        size = 10

        def read(self, n):
            return too_big[:n]

    with pytest.raises(CaseError) as caught:
        uploads.check(Lying())
    assert caught.value.code == CaseErrorCode.FILE_TOO_LARGE


def test_safe_names_keep_the_stem_and_take_the_real_extension():
    assert uploads._safe_name("营业执照.PDF", "pdf") == "营业执照.pdf"
    assert uploads._safe_name("../../etc/passwd", "png") == "passwd.png"
    assert uploads._safe_name("C:\\scans\\a.b.jpg", "jpg") == "a.b.jpg"
    assert uploads._safe_name("", "pdf") == "file.pdf"
    assert uploads._safe_name(".pdf", "pdf") == "file.pdf"
    assert len(uploads._safe_name("长" * 300 + ".pdf", "pdf")) == 84


@pytest.mark.django_db
def test_the_library_keeps_one_file_per_owner_and_digest():
    owner, other = UserFactory(), UserFactory()
    first = uploads.keep(owner=owner, upload=upload(PDF, "营业执照.pdf"), title="营业执照")
    again = uploads.keep(owner=owner, upload=upload(PDF, "copy.pdf"), title="另一个名称")
    assert again.pk == first.pk
    assert (first.name, first.title, first.size) == ("营业执照.pdf", "营业执照", len(PDF))
    theirs = uploads.keep(owner=other, upload=upload(PDF), title="营业执照")
    assert theirs.pk != first.pk
    assert LibraryFile.objects.count() == 2
    with first.file.open("rb") as handle:
        assert handle.read() == PDF


@pytest.mark.django_db
def test_a_refused_file_is_not_kept():
    owner = UserFactory()
    with pytest.raises(CaseError):
        uploads.keep(owner=owner, upload=upload(EXE), title="x")
    assert not LibraryFile.objects.exists()
