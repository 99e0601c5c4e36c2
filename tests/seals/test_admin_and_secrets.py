"""The back office shows scoped seals with their image and never a private key; keys never
reach a log, a repr or an audit record."""

import logging

import pytest
from django.urls import reverse

from tests.backoffice.helpers import login_backoffice
from tests.seals.factories import SealFactory
from tongban.core import crypto
from tongban.core.models.audit import AuditRecord
from tongban.seals import services
from tongban.seals.models import SealKey, SealStatus

pytestmark = pytest.mark.django_db


def _secrets(seal):
    key = SealKey.objects.get(seal=seal, retired_at=None)
    private = crypto.open_private_key(key.private_key_sealed)
    return key.private_key_sealed, private.to_bytes().hex()


def test_changelist_is_scoped_and_detail_shows_the_image_not_the_key(client, people, seal):
    other = SealFactory(organization=people.org_b)
    login_backoffice(client, people.admin_a)
    listing = client.get(reverse("admin:seals_seal_changelist"))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert seal.code in html
    assert other.code not in html
    detail = client.get(reverse("admin:seals_seal_change", args=[seal.pk]))
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "data:image/svg+xml;base64," in page
    assert seal.keys.get().public_key in page
    for secret in _secrets(seal):
        assert secret not in html
        assert secret not in page
        assert secret.upper() not in page
    # Another organization's seal is not there at all.
    assert client.get(reverse("admin:seals_seal_change", args=[other.pk])).status_code in (302, 404)


def test_suspend_and_revoke_actions_go_through_the_services(client, people, seal):
    login_backoffice(client, people.admin_a)
    url = reverse("admin:seals_seal_changelist")
    post = {"action": "suspend", "_selected_action": [seal.pk], "index": 0}
    client.post(url, {**post, "reason": ""})
    seal.refresh_from_db()
    assert seal.status == SealStatus.ACTIVE  # no reason, no change
    client.post(url, {**post, "reason": "印章遗失"})
    seal.refresh_from_db()
    assert seal.status == SealStatus.SUSPENDED
    assert seal.status_reason == "印章遗失"
    client.post(url, {**post, "action": "revoke", "reason": "机构撤并"})
    seal.refresh_from_db()
    assert seal.status == SealStatus.REVOKED
    assert AuditRecord.objects.filter(action="seal.revoke", result="success").exists()


def test_other_organization_cannot_act_through_the_admin(client, people, seal):
    login_backoffice(client, people.admin_b)
    url = reverse("admin:seals_seal_changelist")
    client.post(url, {"action": "revoke", "_selected_action": [seal.pk], "reason": "x"})
    seal.refresh_from_db()
    assert seal.status == SealStatus.ACTIVE


def test_keys_never_reach_logs_repr_or_audit(people, seal, caplog):
    caplog.set_level(logging.DEBUG)
    created = services.create_seal(
        actor=people.admin_a,
        organization=people.org_a,
        name="合同专用章",
        seal_type="contract",
        valid_from=seal.valid_from,
        valid_to=seal.valid_to,
    )
    services.rotate_key(actor=people.admin_a, seal=created)
    services.seal_document(
        actor=people.admin_a, seal=created, data=b"doc", document_type="contract", reference="C-1"
    )
    audit_text = " ".join(
        str(row.details) for row in AuditRecord.objects.filter(action__startswith="seal.")
    )
    for key in SealKey.objects.filter(seal=created):
        private = crypto.open_private_key(key.private_key_sealed)
        texts = (caplog.text, repr(key), str(key), repr(private), audit_text, repr(created))
        for secret in (key.private_key_sealed, private.to_bytes().hex()):
            assert all(secret not in text for text in texts)
