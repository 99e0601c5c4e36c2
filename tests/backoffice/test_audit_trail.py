"""The audit viewer: only the audit admin (with both factors) reads it; search by person, staff,
action and time; newest first, paged; each read is itself recorded; chain verification."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.accounts.factories import StaffPostFactory, UserFactory
from tests.backoffice.helpers import login_backoffice
from tongban.accounts.staff import role_group
from tongban.backoffice import audit_trail
from tongban.core.audit import record
from tongban.core.models import AuditAction, AuditRecord

pytestmark = pytest.mark.django_db

URL = reverse("backoffice:audit_trail")


@pytest.fixture
def auditor():
    user = StaffPostFactory(audit_admin=True).user
    user.groups.add(role_group("audit_admin"))
    return user


@pytest.fixture
def people():
    citizen, reviewer = UserFactory(), StaffPostFactory(reviewer=True).user
    record(actor=reviewer, action=AuditAction.PERSONAL_REVEAL, subject=f"user:{citizen.pk}")
    record(actor=reviewer, action=AuditAction.LOGIN)
    record(actor=citizen, action=AuditAction.LOGIN)
    return citizen, reviewer


def shown(response):
    return [r.seq for r in response.context["records"]]


@pytest.mark.parametrize("who", ["anonymous", "citizen", "other_staff", "system_admin", "no_2fa"])
def test_everyone_else_is_refused_and_nothing_is_written(client, people, auditor, who):
    if who == "citizen":
        client.force_login(UserFactory())
    elif who in ("other_staff", "system_admin"):
        user = StaffPostFactory(role="clerk" if who == "other_staff" else "system_admin").user
        user.groups.add(role_group(user.staff_posts.get().role))
        login_backoffice(client, user)
    elif who == "no_2fa":
        client.force_login(auditor)  # the audit admin, but without the second factor
    before = AuditRecord.objects.count()
    get = client.get(URL, {"person": people[0].phone})
    post = client.post(URL, {"verify": "1"})
    if who in ("anonymous", "no_2fa"):
        assert get.status_code == post.status_code == 302
        assert get["Location"].startswith("/admin/login/")
    else:
        assert get.status_code == post.status_code == 404
    assert AuditRecord.objects.count() == before


def test_search_by_person_by_digest_and_the_read_is_recorded(client, people, auditor):
    citizen, _reviewer = people
    login_backoffice(client, auditor)
    response = client.get(URL, {"person": citizen.id_number})
    assert response.status_code == 200
    records = response.context["records"]
    assert [r.action for r in records] == [AuditAction.PERSONAL_REVEAL]
    read = AuditRecord.objects.order_by("-seq").first()
    assert read.action == AuditAction.AUDIT_READ
    assert read.actor_id == auditor.pk
    assert read.subject == f"user:{citizen.pk}"
    assert citizen.id_number not in str(read.details)  # only masked in the trail
    body = response.content.decode()
    assert citizen.id_number not in body


def test_search_by_staff_action_and_time(client, people, auditor):
    _citizen, reviewer = people
    login_backoffice(client, auditor)
    by_staff = client.get(URL, {"staff": reviewer.username})
    assert {r.actor_id for r in by_staff.context["records"]} == {reviewer.pk}
    by_action = client.get(URL, {"action": AuditAction.LOGIN})
    assert {r.action for r in by_action.context["records"]} == {AuditAction.LOGIN}
    today = timezone.localdate()
    in_range = client.get(URL, {"since": today.isoformat(), "until": today.isoformat()})
    assert len(in_range.context["records"]) >= 3
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert client.get(URL, {"since": tomorrow}).context["records"] == []
    unknown = client.get(URL, {"person": "13900000000"})
    assert unknown.context["not_found"]
    assert unknown.context["records"] == []
    bad = client.get(URL, {"action": "DROP TABLE", "since": tomorrow, "until": today.isoformat()})
    assert bad.status_code == 200
    assert bad.context["form"].errors.keys() == {"action", "until"}


def test_newest_first_and_paged(client, auditor, monkeypatch):
    monkeypatch.setattr(audit_trail, "PAGE_SIZE", 3)
    for _ in range(5):
        record(actor=None, action="test.event")
    login_backoffice(client, auditor)
    first = client.get(URL, {"action": "test.event"})
    seqs = shown(first)
    assert seqs == sorted(seqs, reverse=True)
    assert len(seqs) == 3
    assert first.context["older"]
    second = client.get(URL + "?" + first.context["older"])
    assert shown(second) == sorted(shown(second), reverse=True)
    assert len(shown(second)) == 2
    assert max(shown(second)) < min(seqs)
    assert second.context["older"] is None


def test_verify_chain_button(client, people, auditor):
    login_backoffice(client, auditor)
    response = client.post(URL, {"verify": "1"})
    assert response.status_code == 200
    report = response.context["report"]
    assert report.ok
    assert 'data-verify="ok"' in response.content.decode()
    rec = AuditRecord.objects.order_by("-seq").first()
    assert rec.action == AuditAction.AUDIT_READ
    assert rec.details["verify"] is True


def test_query_count_does_not_grow_with_records(client, auditor, django_assert_max_num_queries):
    login_backoffice(client, auditor)
    client.get(URL)
    for _ in range(30):
        record(actor=None, action="test.event")
    with django_assert_max_num_queries(12):
        client.get(URL)


def test_paging_a_person_search_keeps_the_number_out_of_urls(client, auditor, monkeypatch):
    monkeypatch.setattr(audit_trail, "PAGE_SIZE", 2)
    citizen = UserFactory()
    for _ in range(3):
        record(actor=None, action=AuditAction.PERSONAL_READ, subject=f"user:{citizen.pk}")
    login_backoffice(client, auditor)
    first = client.get(URL, {"person": citizen.phone})
    older = first.context["older"]
    assert citizen.phone not in older
    assert f"subject=user%3A{citizen.pk}" in older
    assert citizen.phone not in first.content.decode()
    second = client.get(URL + "?" + older)
    assert len(second.context["records"]) == 1
    assert second.context["records"][0].subject == f"user:{citizen.pk}"
