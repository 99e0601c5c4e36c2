"""办事人查询: exact lookup with a purpose, masked profile, audited reveal; refused for everyone
without the reveal permission and both factors, and a refusal writes nothing."""

import pytest
from django.core import signing
from django.urls import reverse

from tests.accounts.factories import StaffPostFactory, UserFactory
from tests.backoffice.helpers import login_backoffice
from tongban.accounts.staff import role_group
from tongban.backoffice import persons
from tongban.core.models import AuditAction, AuditRecord

pytestmark = pytest.mark.django_db

URL = reverse("backoffice:persons")


@pytest.fixture
def reviewer():
    user = StaffPostFactory(reviewer=True).user
    user.groups.add(role_group("reviewer"))
    return user


def _lookup(client, number, reason="受理核对"):
    return client.post(URL, {"lookup": "1", "number": number, "reason": reason})


def _reveal(client, token, field="id_number", reason="核对申请人身份"):
    return client.post(
        URL,
        {"reveal": "1", "reveal-token": token, "reveal-field": field, "reveal-reason": reason},
    )


def test_the_two_forms_have_distinct_field_ids(client, reviewer):
    login_backoffice(client, reviewer)
    html = _lookup(client, UserFactory().phone).content.decode()
    assert html.count('id="id_reason"') == 1
    assert html.count('id="id_reveal-reason"') == 1


def test_lookup_shows_the_masked_profile_and_records_the_read(client, reviewer):
    citizen = UserFactory()
    login_backoffice(client, reviewer)
    html = _lookup(client, citizen.phone).content.decode()
    assert citizen.masked_id_number in html
    assert citizen.masked_phone in html
    assert citizen.id_number not in html
    assert citizen.phone not in html
    read = AuditRecord.objects.get(action=AuditAction.PERSONAL_READ)
    assert (read.actor_id, read.subject, read.reason) == (
        reviewer.pk,
        f"user:{citizen.pk}",
        "受理核对",
    )


def test_reveal_shows_the_full_number_once_and_is_audited(client, reviewer):
    citizen = UserFactory()
    login_backoffice(client, reviewer)
    token = _lookup(client, citizen.id_number).context["reveal_form"].initial["token"]
    html = _reveal(client, token).content.decode()
    assert citizen.id_number in html
    rec = AuditRecord.objects.get(action=AuditAction.PERSONAL_REVEAL)
    assert (rec.actor_id, rec.subject, rec.result) == (reviewer.pk, f"user:{citizen.pk}", "success")
    assert rec.details == {"field": "id_number"}


def test_lookup_and_reveal_need_a_reason_and_write_nothing_without(client, reviewer):
    citizen = UserFactory()
    login_backoffice(client, reviewer)
    response = _lookup(client, citizen.phone, reason="")
    assert response.context["person"] is None
    assert not AuditRecord.objects.exists()
    token = persons._token_for(citizen, reviewer)
    response = _reveal(client, token, reason="")
    assert citizen.id_number not in response.content.decode()
    assert not AuditRecord.objects.filter(action=AuditAction.PERSONAL_REVEAL).exists()


def test_a_forged_expired_or_someone_elses_token_reveals_nothing(client, reviewer, monkeypatch):
    citizen = UserFactory()
    other = StaffPostFactory(reviewer=True).user
    login_backoffice(client, reviewer)
    forged = signing.dumps({"p": citizen.pk, "s": reviewer.pk}, salt="another salt")
    someone_elses = persons._token_for(citizen, other)
    for token in (forged, someone_elses, "garbage"):
        response = _reveal(client, token)
        assert response.context["expired"] is True
        assert citizen.id_number not in response.content.decode()
    monkeypatch.setattr(persons, "TOKEN_MAX_AGE", -1)
    assert _reveal(client, persons._token_for(citizen, reviewer)).context["expired"] is True
    assert not AuditRecord.objects.exists()


def test_an_unknown_number_says_so_without_a_record(client, reviewer):
    login_backoffice(client, reviewer)
    response = _lookup(client, "13912345678")
    assert response.context["not_found"] is True
    assert not AuditRecord.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "citizen", "clerk", "audit_admin", "no_2fa"])
def test_everyone_else_is_refused_and_nothing_is_written(client, reviewer, who):
    citizen = UserFactory()
    if who == "citizen":
        client.force_login(UserFactory())
    elif who in ("clerk", "audit_admin"):
        user = StaffPostFactory(role=who).user
        user.groups.add(role_group(who))
        login_backoffice(client, user)
    elif who == "no_2fa":
        client.force_login(reviewer)
    token = persons._token_for(citizen, reviewer)
    responses = [client.get(URL), _lookup(client, citizen.phone), _reveal(client, token)]
    for response in responses:
        if who in ("anonymous", "no_2fa"):
            assert response.status_code == 302
        else:
            assert response.status_code == 404
        assert citizen.id_number not in response.content.decode()
    assert not AuditRecord.objects.exists()
