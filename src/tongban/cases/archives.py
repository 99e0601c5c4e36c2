"""The sealed archive package of a concluded case (电子归档).

A zip holding ``case.json`` (the case data and its events), every material under ``materials/``,
and ``manifest.json`` listing each entry with its SM3 digest and size. The manifest's own SM3 is
stored on the case (``archive_digest``): changing any file changes its digest in the manifest,
and changing the manifest changes the stored digest. :func:`verify` re-checks a package.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from tongban.core import crypto

STAMP = (2000, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Package:
    content: bytes
    manifest_digest: str
    count: int


def _case_document(case: Any, archived_at: dt.datetime) -> dict[str, Any]:
    return {
        "number": case.number,
        "implementation": case.implementation.code,
        "organization": case.organization.uscc,
        "region": case.region_code,
        "channel": case.channel,
        "status": "archived",
        "decision": case.decision,
        "submitted_at": case.submitted_at.isoformat(),
        "accepted_at": case.accepted_at.isoformat() if case.accepted_at else None,
        "concluded_at": case.concluded_at.isoformat() if case.concluded_at else None,
        "delivered_at": case.delivered_at.isoformat() if case.delivered_at else None,
        "archived_at": archived_at.isoformat(),
        "promised_due": case.promised_due.isoformat() if case.promised_due else None,
        "statutory_due": case.statutory_due.isoformat() if case.statutory_due else None,
        "form": json.loads(case.form_data or "{}"),
        "answers": case.answers,
        "events": [
            {
                "action": e.action,
                "from": e.from_status,
                "to": e.to_status,
                "at": e.at.isoformat(),
                "by": e.actor_label,
                "opinion": e.opinion,
                "details": e.details,
            }
            for e in case.events.order_by("at", "id")
        ],
    }


def build(case: Any, *, archived_at: dt.datetime) -> Package:
    entries: list[tuple[str, bytes]] = []
    document = json.dumps(_case_document(case, archived_at), ensure_ascii=False, indent=1)
    entries.append(("case.json", document.encode()))
    for material in case.materials.order_by("id"):
        with material.file.open("rb") as handle:
            content = handle.read()
        entries.append((f"materials/{material.pk}-{material.name}", content))
    manifest = {
        "case": case.number,
        "algorithm": "SM3",
        "files": [
            {"name": name, "sm3": crypto.sm3(content).hex(), "size": len(content)}
            for name, content in entries
        ],
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in [*entries, ("manifest.json", manifest_bytes)]:
            package.writestr(zipfile.ZipInfo(name, date_time=STAMP), content)
    return Package(buffer.getvalue(), crypto.sm3(manifest_bytes).hex(), len(entries))


def verify(content: bytes, manifest_digest: str) -> list[str]:
    """Problems with a package (empty list: intact): the names of entries changed, missing or
    added, and ``manifest.json`` when the manifest is not the one whose digest was stored."""
    problems = []
    try:
        package = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        return ["manifest.json"]
    with package:
        names = set(package.namelist())
        if "manifest.json" not in names:
            return ["manifest.json"]
        manifest_bytes = package.read("manifest.json")
        if crypto.sm3(manifest_bytes).hex() != manifest_digest:
            problems.append("manifest.json")
        try:
            manifest = json.loads(manifest_bytes)
        except ValueError:
            return ["manifest.json"]
        listed = set()
        for entry in manifest["files"]:
            listed.add(entry["name"])
            if (
                entry["name"] not in names
                or crypto.sm3(package.read(entry["name"])).hex() != entry["sm3"]
            ):
                problems.append(entry["name"])
        problems.extend(sorted(names - listed - {"manifest.json"}))
    return problems
