"""Making, rotating, suspending, revoking and using seals: rules, audit and scope."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.seals.factories import SealFactory
from tongban.core import crypto
from tongban.core.models.audit import AuditRecord, AuditResult
from tongban.seals import services
from tongban.seals.codes import SealType
from tongban.seals.errors import SealError, SealErrorCode
from tongban.seals.models import Seal, SealEvent, SealKey, SealStatus, SignatureRecord

pytestmark = pytest.mark.django_db
TODAY = dt.date.today


def _last_audit():
    return AuditRecord.objects.order_by("-seq").first()


def _snapshot(seal):
    seal.refresh_from_db()
    return (
        seal.status,
        seal.status_reason,
        list(SealKey.objects.filter(seal=seal).values_list("version", "retired_at")),
        SealEvent.objects.count(),
        SignatureRecord.objects.count(),
    )


def _create(people, **kwargs):
    values = {
        "actor": people.admin_a,
        "organization": people.org_a,
        "name": "东胜区行政审批和政务服务局行政审批专用章",
        "seal_type": SealType.ADMIN_APPROVAL,
        "valid_from": timezone.localdate(),
        "valid_to": timezone.localdate() + dt.timedelta(days=1095),
    }
    return services.create_seal(**{**values, **kwargs})


def test_create_seal_makes_code_key_event_and_audit(people):
    seal = _create(people)
    assert seal.code == f"{people.org_a.uscc}0201"
    assert seal.status == SealStatus.ACTIVE
    key = seal.keys.get()
    assert key.version == 1
    assert key.retired_at is None
    assert key.public_key.startswith("04")
    assert len(key.public_key) == 130
    # Stored encrypted and opening it gives the matching private key.
    assert key.public_key not in key.private_key_sealed.split(".", 1)[1]
    private = crypto.open_private_key(key.private_key_sealed)
    assert private.public_key.to_bytes().hex() == key.public_key
    assert seal.events.get().action == "create"
    audit = _last_audit()
    assert (audit.action, audit.result, audit.object_id) == ("seal.create", "success", str(seal.pk))
    # The next seal of the same type gets the next serial.
    assert _create(people).code == f"{people.org_a.uscc}0202"
    assert _create(people, seal_type=SealType.OFFICIAL).code == f"{people.org_a.uscc}0101"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": "  "}, SealErrorCode.INVALID_NAME),
        ({"seal_type": "stamp"}, SealErrorCode.INVALID_TYPE),
        ({"valid_to": dt.date(2000, 1, 1)}, SealErrorCode.INVALID_VALIDITY),
    ],
)
def test_create_seal_refuses_bad_input(people, change, code):
    with pytest.raises(SealError) as caught:
        _create(people, **change)
    assert caught.value.code == code
    assert not Seal.objects.exists()
    assert _last_audit().result == AuditResult.FAILURE


@pytest.mark.parametrize(
    ("who", "code"),
    [("admin_b", SealErrorCode.NOT_FOUND), ("reviewer_a", SealErrorCode.FORBIDDEN)],
)
def test_create_seal_needs_manage_permission_in_that_organization(people, who, code):
    with pytest.raises(SealError) as caught:
        _create(people, actor=getattr(people, who))
    assert caught.value.code == code
    assert not Seal.objects.exists()
    assert not SealKey.objects.exists()
    assert _last_audit().details["error"] == code


def test_suspend_reinstate_revoke_follow_the_table(people, seal):
    services.suspend_seal(actor=people.admin_a, seal=seal, reason="印章遗失")
    assert seal.status == SealStatus.SUSPENDED
    assert seal.suspended_at
    services.reinstate_seal(actor=people.admin_a, seal=seal, reason="已找回")
    assert seal.status == SealStatus.ACTIVE
    assert seal.suspended_at is None
    services.revoke_seal(actor=people.admin_a, seal=seal, reason="机构撤并")
    assert seal.status == SealStatus.REVOKED
    assert seal.revoked_at
    assert seal.status_reason == "机构撤并"
    assert list(seal.events.values_list("action", "from_status", "to_status")) == [
        ("suspend", "active", "suspended"),
        ("reinstate", "suspended", "active"),
        ("revoke", "active", "revoked"),
    ]
    assert _last_audit().action == "seal.revoke"
    before = _snapshot(seal)
    for move in (services.suspend_seal, services.reinstate_seal, services.revoke_seal):
        with pytest.raises(SealError) as caught:
            move(actor=people.admin_a, seal=seal, reason="再来")
        assert caught.value.code == SealErrorCode.INVALID_TRANSITION
    assert _snapshot(seal) == before


def test_a_reason_is_required(people, seal):
    with pytest.raises(SealError) as caught:
        services.suspend_seal(actor=people.admin_a, seal=seal, reason=" ")
    assert caught.value.code == SealErrorCode.REASON_REQUIRED
    seal.refresh_from_db()
    assert seal.status == SealStatus.ACTIVE


def test_rotation_retires_the_old_key_and_makes_the_next_version(people, seal):
    old = seal.keys.get()
    new = services.rotate_key(actor=people.admin_a, seal=seal)
    old.refresh_from_db()
    assert old.retired_at is not None
    assert new.version == 2
    assert new.retired_at is None
    assert new.public_key != old.public_key
    assert _last_audit().details["retired_version"] == 1
    with pytest.raises(SealError) as caught:
        services.rotate_key(
            actor=people.admin_a, seal=SealFactory(revoked=True, organization=people.org_a)
        )
    assert caught.value.code == SealErrorCode.INVALID_TRANSITION


def test_seal_document_makes_a_record_and_audits_it(people, seal):
    record = services.seal_document(
        actor=people.reviewer_a,
        seal=seal,
        data=b"%PDF-1.7 license",
        document_type="license",
        reference="电子证照-0001",
    )
    assert record.document_digest == crypto.sm3(b"%PDF-1.7 license").hex()
    assert record.key == seal.keys.get()
    assert record.signer == people.reviewer_a
    assert crypto.signature_from_der(bytes.fromhex(record.signature))  # DER r, s
    audit = _last_audit()
    assert (audit.action, audit.result) == ("seal.use", "success")
    assert audit.details["record"] == record.pk


@pytest.mark.parametrize(
    ("trait", "code"),
    [
        ("suspended", SealErrorCode.SEAL_SUSPENDED),
        ("revoked", SealErrorCode.SEAL_REVOKED),
        ("expired", SealErrorCode.SEAL_EXPIRED),
    ],
)
def test_refused_sealing_writes_an_audit_failure_and_no_record(people, trait, code):
    seal = SealFactory(organization=people.org_a, **{trait: True})
    with pytest.raises(SealError) as caught:
        services.seal_document(
            actor=people.admin_a, seal=seal, data=b"x", document_type="license", reference="1"
        )
    assert caught.value.code == code
    assert not SignatureRecord.objects.exists()
    audit = _last_audit()
    assert (audit.action, audit.result, audit.details["error"]) == ("seal.use", "failure", code)
    assert audit.details["digest"] == crypto.sm3(b"x").hex()


def test_not_yet_valid_seal_is_refused(people):
    seal = SealFactory(
        organization=people.org_a,
        valid_from=timezone.localdate() + dt.timedelta(days=2),
        valid_to=timezone.localdate() + dt.timedelta(days=20),
    )
    with pytest.raises(SealError) as caught:
        services.seal_document(
            actor=people.admin_a, seal=seal, data=b"x", document_type="license", reference="1"
        )
    assert caught.value.code == SealErrorCode.SEAL_NOT_YET_VALID


@pytest.mark.parametrize(
    ("document_type", "reference"),
    [("", "1"), ("证照", "1"), ("license", ""), ("license", "x" * 201)],
)
def test_bad_document_input_is_refused(people, seal, document_type, reference):
    with pytest.raises(SealError) as caught:
        services.seal_document(
            actor=people.admin_a,
            seal=seal,
            data=b"x",
            document_type=document_type,
            reference=reference,
        )
    assert caught.value.code == SealErrorCode.INVALID_DOCUMENT


# --- Scope: another organization's staff can neither use nor manage, and nothing changes -------


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("admin_b", SealErrorCode.NOT_FOUND),  # other organization: looks missing
        ("clerk_a", SealErrorCode.FORBIDDEN),  # own organization, no permission
    ],
)
def test_outsiders_cannot_use_or_manage(people, seal, who, code):
    actor = getattr(people, who)
    before = _snapshot(seal)
    calls = [
        lambda: services.seal_document(
            actor=actor, seal=seal, data=b"x", document_type="license", reference="1"
        ),
        lambda: services.rotate_key(actor=actor, seal=seal),
        lambda: services.suspend_seal(actor=actor, seal=seal, reason="x"),
        lambda: services.revoke_seal(actor=actor, seal=seal, reason="x"),
    ]
    for call in calls:
        failures = AuditRecord.objects.filter(result=AuditResult.FAILURE).count()
        with pytest.raises(SealError) as caught:
            call()
        assert caught.value.code == code
        assert AuditRecord.objects.filter(result=AuditResult.FAILURE).count() == failures + 1
    assert _snapshot(seal) == before


def test_a_reviewer_may_use_but_not_manage(people, seal):
    with pytest.raises(SealError) as caught:
        services.suspend_seal(actor=people.reviewer_a, seal=seal, reason="x")
    assert caught.value.code == SealErrorCode.FORBIDDEN


def test_anonymous_and_citizens_get_not_found(people, seal):
    from django.contrib.auth.models import AnonymousUser

    from tests.accounts.factories import UserFactory

    for actor in (AnonymousUser(), UserFactory(), None):
        with pytest.raises(SealError) as caught:
            services.seal_document(
                actor=actor, seal=seal, data=b"x", document_type="license", reference="1"
            )
        assert caught.value.code == SealErrorCode.NOT_FOUND
    assert not SignatureRecord.objects.exists()
