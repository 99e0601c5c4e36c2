"""Delivery guards and the archive move."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.cases.builders import case_in, last_event, snapshot
from tests.cases.factories import pdf
from tongban.cases import archives, services
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import Case, CaseMaterial, CaseStatus, MaterialKind

S = CaseStatus
pytestmark = pytest.mark.django_db


def refused(code, call, **kwargs):
    with pytest.raises(CaseError) as caught:
        call(**kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


def test_an_unknown_delivery_method_is_refused(env):
    case = case_in(env, "concluded")
    before = snapshot(case)
    for method in ("", "pigeon", None):
        error = refused(
            CaseErrorCode.NOT_ALLOWED,
            services.deliver,
            actor=env.clerk,
            case=case,
            version=case.version,
            method=method,
        )
        assert error.field == "method"
    assert snapshot(case) == before


def test_online_delivery_needs_a_result_or_decision_file(env):
    case = case_in(env, "concluded")
    CaseMaterial.objects.filter(case=case, kind=MaterialKind.DECISION).update(replaced=True)
    before = snapshot(case)
    error = refused(
        CaseErrorCode.RESULT_REQUIRED,
        services.deliver,
        actor=env.clerk,
        case=case,
        version=case.version,
        method="online",
    )
    assert error.field == "method"
    assert snapshot(case) == before
    CaseMaterial.objects.filter(case=case, kind=MaterialKind.DECISION).update(replaced=False)
    services.deliver(actor=env.clerk, case=case, version=case.version, method="online")
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.status, fresh.delivery_method) == (S.DELIVERED, "online")
    assert fresh.delivered_at == last_event(case).at


def test_express_delivery_needs_the_waybill(env):
    case = case_in(env, "concluded")
    before = snapshot(case)
    for note in ("", "   "):
        error = refused(
            CaseErrorCode.OPINION_REQUIRED,
            services.deliver,
            actor=env.clerk,
            case=case,
            version=case.version,
            method="express",
            note=note,
        )
        assert error.field == "note"
    assert snapshot(case) == before
    services.deliver(
        actor=env.clerk, case=case, version=case.version, method="express", note=" SF1234567890 "
    )
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.delivery_method, fresh.delivery_note) == ("express", "SF1234567890")
    assert last_event(case).details == {"method": "express"}


def test_window_delivery_needs_nothing_more(env):
    case = case_in(env, "concluded")
    services.deliver(actor=env.clerk, case=case, version=case.version, method="window")
    assert case.status == S.DELIVERED


# --- Archive -------------------------------------------------------------------------------------


def _package(case) -> bytes:
    fresh = Case.objects.get(pk=case.pk)
    with fresh.archive_file.open("rb") as handle:
        return handle.read()


@pytest.mark.parametrize("state", ["delivered", "rejected", "withdrawn"])
def test_archive_builds_a_package_that_verifies(env, state):
    case = case_in(env, state)
    materials = list(CaseMaterial.objects.filter(case=case).order_by("id"))
    events_before = case.events.count()
    services.archive(actor=env.org_admin, case=case, version=case.version)
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.status == S.ARCHIVED
    assert fresh.archived_at == last_event(case).at
    content = _package(case)
    assert archives.verify(content, fresh.archive_digest) == []
    assert last_event(case).details == {
        "manifest_sm3": fresh.archive_digest,
        "files": len(materials) + 1,
    }
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        names = package.namelist()
        document = json.loads(package.read("case.json"))
        manifest = json.loads(package.read("manifest.json"))
    assert names == [
        "case.json",
        *[f"materials/{m.pk}-{m.name}" for m in materials],
        "manifest.json",
    ]
    assert document["number"] == case.number
    assert document["status"] == "archived"
    assert next(e["action"] for e in document["events"]) == "submit"
    assert len(document["events"]) == events_before
    assert {f["name"]: f["sm3"] for f in manifest["files"]} == {
        "case.json": manifest["files"][0]["sm3"],
        **{f"materials/{m.pk}-{m.name}": m.sm3 for m in materials},
    }


def _rewrite(content: bytes, name: str, new: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, new if info.filename == name else source.read(info.filename))
    return out.getvalue()


def test_a_tampered_package_is_detected(env):
    case = case_in(env, "archived")
    fresh = Case.objects.get(pk=case.pk)
    content = _package(case)
    material = CaseMaterial.objects.filter(case=case).order_by("id").first()
    name = f"materials/{material.pk}-{material.name}"

    assert archives.verify(_rewrite(content, name, b"%PDF-1.4 forged"), fresh.archive_digest) == [
        name
    ]
    document = zipfile.ZipFile(io.BytesIO(content)).read("case.json")
    forged = document.replace(b'"decision": "approved"', b'"decision": "denied"')
    assert forged != document
    assert archives.verify(_rewrite(content, "case.json", forged), fresh.archive_digest) == [
        "case.json"
    ]
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(content)).read("manifest.json"))
    manifest["files"][0]["sm3"] = "0" * 64
    tampered = _rewrite(content, "manifest.json", json.dumps(manifest).encode())
    assert "manifest.json" in archives.verify(tampered, fresh.archive_digest)
    assert archives.verify(content, "0" * 64) == ["manifest.json"]


def test_archiving_twice_is_not_allowed(env):
    case = case_in(env, "archived")
    before = snapshot(case)
    refused(
        CaseErrorCode.NOT_ALLOWED,
        services.archive,
        actor=env.clerk,
        case=case,
        version=case.version,
    )
    assert snapshot(case) == before


def test_decision_and_result_files_are_in_the_package(env):
    case = case_in(env, "decided")
    services.conclude(
        actor=env.reviewer, case=case, version=case.version, result=pdf("证.pdf", b"result")
    )
    services.deliver(actor=env.clerk, case=case, version=case.version, method="online")
    services.archive(actor=env.clerk, case=case, version=case.version)
    with zipfile.ZipFile(io.BytesIO(_package(case))) as package:
        names = package.namelist()
    kinds = dict(CaseMaterial.objects.filter(case=case).values_list("pk", "kind"))
    for pk, _kind in kinds.items():
        assert any(n.startswith(f"materials/{pk}-") for n in names)
    assert {MaterialKind.RESULT, MaterialKind.DECISION} <= set(kinds.values())
