"""The archive package on its own: deterministic, and every kind of tampering is named."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest

from tests.cases.builders import case_in
from tongban.cases import archives
from tongban.core import calendar, crypto

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 12, 1, 9, 30, tzinfo=calendar.CHINA)


@pytest.fixture
def delivered(env):
    return case_in(env, "delivered")


def _entries(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return {name: package.read(name) for name in package.namelist()}


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name, content in entries.items():
            package.writestr(name, content)
    return out.getvalue()


def test_the_same_case_gives_the_same_package(delivered):
    first = archives.build(delivered, archived_at=AT)
    second = archives.build(delivered, archived_at=AT)
    assert first.content == second.content
    assert first.manifest_digest == second.manifest_digest
    entries = _entries(first.content)
    assert crypto.sm3(entries["manifest.json"]).hex() == first.manifest_digest
    assert first.count == len(entries) - 1
    assert archives.verify(first.content, first.manifest_digest) == []
    document = json.loads(entries["case.json"])
    assert document["archived_at"] == AT.isoformat()
    assert document["form"]["shop.area"] == "120"
    assert [e["action"] for e in document["events"]] == [
        "submit",
        "accept",
        "approve",
        "conclude",
        "deliver",
    ]


def test_changed_missing_and_added_entries_are_named(delivered):
    package = archives.build(delivered, archived_at=AT)
    entries = _entries(package.content)
    material = next(name for name in entries if name.startswith("materials/"))

    changed = {**entries, material: entries[material] + b" "}
    assert archives.verify(_zip(changed), package.manifest_digest) == [material]

    missing = {k: v for k, v in entries.items() if k != material}
    assert archives.verify(_zip(missing), package.manifest_digest) == [material]

    added = {**entries, "materials/999-extra.pdf": b"%PDF-1.4"}
    assert archives.verify(_zip(added), package.manifest_digest) == ["materials/999-extra.pdf"]


def test_a_replaced_or_missing_manifest_is_named(delivered):
    package = archives.build(delivered, archived_at=AT)
    entries = _entries(package.content)
    material = next(name for name in entries if name.startswith("materials/"))
    # A forger who rewrites a file and its manifest line still fails on the stored digest.
    manifest = json.loads(entries["manifest.json"])
    forged = entries[material] + b"forged"
    for entry in manifest["files"]:
        if entry["name"] == material:
            entry["sm3"] = crypto.sm3(forged).hex()
    rewritten = {
        **entries,
        material: forged,
        "manifest.json": json.dumps(manifest, ensure_ascii=False).encode(),
    }
    assert archives.verify(_zip(rewritten), package.manifest_digest) == ["manifest.json"]

    no_manifest = {k: v for k, v in entries.items() if k != "manifest.json"}
    assert archives.verify(_zip(no_manifest), package.manifest_digest) == ["manifest.json"]
    garbage = {**entries, "manifest.json": b"not json"}
    assert archives.verify(_zip(garbage), package.manifest_digest) == ["manifest.json"]
    assert archives.verify(b"not a zip", package.manifest_digest) == ["manifest.json"]
