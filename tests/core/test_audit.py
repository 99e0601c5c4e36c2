"""The audit trail: chain, tamper detection, append-only guards, retention, concurrency, access."""

from __future__ import annotations

import datetime as dt
import itertools
import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from tests.backoffice.helpers import login_backoffice
from tongban.conf import ConfigError
from tongban.core import audit
from tongban.core.audit import (
    AppendOnlyError,
    AuditAction,
    AuditRecord,
    AuditResult,
    can_read_audit,
    purge_expired,
    record,
    search,
    verify_chain,
)
from tongban.core.models.audit import GENESIS_DIGEST

User = get_user_model()

pytestmark = pytest.mark.django_db
is_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"
)


def _user(username: str, *, audit_admin: bool = False, superuser: bool = False) -> User:
    user = User.objects.create_user(
        username=username, password="x" * 12, is_staff=True, is_superuser=superuser
    )
    if audit_admin:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="core", codename="view_auditrecord")
        )
    return User.objects.get(pk=user.pk)


def _fill(n: int = 5) -> list[AuditRecord]:
    clerk = _user("clerk")
    return [
        record(
            actor=clerk,
            action=AuditAction.PERSONAL_READ,
            subject=f"person:{i}",
            on_behalf_of="company:91150602MA0000000X",
            ip="192.0.2.7",
            user_agent="Mozilla/5.0 " + "x" * 500,
            object_type="cases.case",
            object_id=i,
            reason="受理审查",
            details={"fields": ["id_number"], "n": i, "ratio": 0.5, "名称": "张三"},
        )
        for i in range(n)
    ]


def _raw_sql(sql: str, params: list) -> None:
    """Change the table under the application, as a DBA with table rights could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditrecord DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditrecord ENABLE TRIGGER USER")


# --- Chain -------------------------------------------------------------------------------------


def test_records_are_chained_and_verify():
    records = _fill(5)
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[0].prev_digest == GENESIS_DIGEST
    for before, after in itertools.pairwise(records):
        assert after.prev_digest == before.digest
    stored = AuditRecord.objects.get(seq=3)
    assert stored.actor_display == "clerk"
    assert len(stored.user_agent) == audit.USER_AGENT_LENGTH
    assert stored.details["名称"] == "张三"
    report = verify_chain()
    assert report.ok
    assert (report.count, report.first_seq, report.last_seq) == (5, 1, 5)
    assert verify_chain(start=2, end=4).count == 3


def test_empty_chain_verifies():
    report = verify_chain()
    assert report.ok
    assert report.count == 0


def test_failure_without_actor_and_bad_ip():
    rec = record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        result=AuditResult.FAILURE,
        ip="not an address",
        details={"username": "admin"},
    )
    assert (rec.actor_id, rec.actor_display, rec.ip) == (None, "", None)
    assert verify_chain().ok


@pytest.mark.parametrize(
    "kwargs",
    [
        {"action": ""},
        {"action": "noarea"},
        {"action": "a." + "x" * 70},
        {"action": "auth.login", "result": "maybe"},
        {"action": "auth.login", "details": {"x": float("nan")}},
        {"action": "auth.login", "details": {"x": "nul\x00"}},
    ],
)
def test_record_rejects_bad_input(kwargs):
    with pytest.raises(ValueError, match=r"audit|NUL|JSON|Out of range"):
        record(actor=None, **kwargs)
    assert not AuditRecord.objects.exists()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("details", '{"fields": ["phone"], "n": 2, "ratio": 0.5, "名称": "张三"}'),
        ("actor_display", "someone else"),
        ("result", "failure"),
        ("subject", "person:999"),
    ],
)
def test_tampering_one_row_is_detected_at_that_seq(column, value):
    _fill(5)
    _raw_sql(f"UPDATE core_auditrecord SET {column} = %s WHERE seq = 3", [value])  # noqa: S608
    report = verify_chain()
    assert not report.ok
    assert report.broken_seq == 3
    assert report.count == 2
    with pytest.raises(CommandError, match="BROKEN at seq 3"):
        call_command("verify_audit")


def test_recomputed_digest_still_breaks_the_link():
    """An attacker who recomputes the changed row's digest breaks the next row's link."""
    _fill(4)
    rec = AuditRecord.objects.get(seq=2)
    values = {name: getattr(rec, name) for name in audit._CHAINED_FIELDS}
    values["reason"] = "改过的事由"
    forged = audit.compute_digest(rec.prev_digest, values)
    _raw_sql(
        "UPDATE core_auditrecord SET reason = %s, digest = %s WHERE seq = 2",
        ["改过的事由", forged],
    )
    report = verify_chain()
    assert report.broken_seq == 3
    assert report.problem == "link to previous"


def test_deleted_row_in_the_middle_is_detected():
    _fill(5)
    _raw_sql("DELETE FROM core_auditrecord WHERE seq = 3", [])
    report = verify_chain()
    assert not report.ok
    assert report.broken_seq == 4
    assert verify_chain(start=4).broken_seq == 4


def test_verify_command_reports_intact_chain(capsys):
    _fill(3)
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "intact: 3 records" in out
    assert "head seq=3" in out


# --- Append-only -------------------------------------------------------------------------------


def test_orm_refuses_every_change():
    rec = _fill(1)[0]
    rec.reason = "changed"
    with pytest.raises(AppendOnlyError):
        rec.save()
    with pytest.raises(AppendOnlyError):
        rec.delete()
    qs = AuditRecord.objects.all()
    for attempt in (
        lambda: qs.update(reason="x"),
        lambda: qs.delete(),
        lambda: AuditRecord.objects.filter(seq=1).delete(),
        lambda: AuditRecord.objects.create(seq=9, action="a.b"),
        lambda: AuditRecord.objects.bulk_create([AuditRecord(seq=9)]),
        lambda: AuditRecord.objects.bulk_update([rec], ["reason"]),
        lambda: AuditRecord.objects.update_or_create(seq=1, defaults={"reason": "x"}),
        lambda: AuditRecord(seq=10, action="a.b").save(),
    ):
        with pytest.raises(AppendOnlyError):
            attempt()
    assert AuditRecord.objects.get().reason == "受理审查"
    assert verify_chain().ok


@pytest.mark.postgres
@is_postgres
def test_postgres_trigger_refuses_update_and_recent_delete():
    _fill(2)
    for sql in (
        "UPDATE core_auditrecord SET reason = 'x' WHERE seq = 1",
        "DELETE FROM core_auditrecord WHERE seq = 1",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert AuditRecord.objects.count() == 2
    assert verify_chain().ok


# --- Retention ---------------------------------------------------------------------------------


def _at(monkeypatch, moment: dt.datetime) -> None:
    monkeypatch.setattr(audit.timezone, "now", lambda: moment)


def test_purge_deletes_only_the_expired_prefix_and_reanchors(monkeypatch):
    now = timezone.now()
    _at(monkeypatch, now - dt.timedelta(days=400))
    _fill(3)
    _at(monkeypatch, now - dt.timedelta(days=10))
    record(actor=None, action="auth.login")
    record(actor=None, action="auth.logout")
    monkeypatch.undo()
    assert purge_expired(now=now) == 3
    assert list(AuditRecord.objects.order_by("seq").values_list("seq", flat=True)) == [4, 5, 6]
    purge = AuditRecord.objects.get(seq=6)
    assert purge.action == AuditAction.AUDIT_PURGE
    assert purge.details["through_seq"] == 3
    assert purge.details["deleted"] == 3
    report = verify_chain()
    assert report.ok, report
    assert (report.first_seq, report.count) == (4, 3)
    # Nothing more to purge: no new purge record.
    assert purge_expired(now=now) == 0
    assert AuditRecord.objects.count() == 3


def test_purge_never_removes_recent_records():
    _fill(3)
    assert purge_expired() == 0
    assert AuditRecord.objects.count() == 3


def test_purge_keeps_the_head_when_everything_expired(monkeypatch):
    now = timezone.now()
    _at(monkeypatch, now - dt.timedelta(days=500))
    _fill(3)
    monkeypatch.undo()
    assert purge_expired(now=now) == 2
    assert list(AuditRecord.objects.order_by("seq").values_list("seq", flat=True)) == [3, 4]
    assert verify_chain().ok


def test_a_removed_prefix_without_purge_record_is_detected():
    _fill(4)
    _raw_sql("DELETE FROM core_auditrecord WHERE seq <= 2", [])
    report = verify_chain()
    assert not report.ok
    assert report.broken_seq == 3
    assert report.problem == "oldest record has no anchor"


def test_retention_cannot_go_below_180_days(monkeypatch):
    monkeypatch.setenv("TONGBAN_AUDIT_RETENTION_DAYS", "30")
    with pytest.raises(ConfigError):
        audit.retention_days()
    monkeypatch.setenv("TONGBAN_AUDIT_RETENTION_DAYS", "365")
    assert audit.retention_days() == 365


def test_longer_retention_keeps_more(monkeypatch):
    now = timezone.now()
    _at(monkeypatch, now - dt.timedelta(days=300))
    _fill(2)
    monkeypatch.undo()
    record(actor=None, action="auth.login")
    monkeypatch.setenv("TONGBAN_AUDIT_RETENTION_DAYS", "365")
    assert purge_expired(now=now) == 0
    monkeypatch.setenv("TONGBAN_AUDIT_RETENTION_DAYS", "180")
    assert purge_expired(now=now) == 2


# --- Concurrency -------------------------------------------------------------------------------


@pytest.mark.postgres
@is_postgres
@pytest.mark.django_db(transaction=True)
def test_chain_stays_linear_under_concurrent_writers():
    workers, per_worker = 6, 15
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_worker):
                with transaction.atomic():
                    record(actor=None, action="test.concurrent", details={"w": n, "i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    report = verify_chain()
    assert report.ok, report
    assert report.count == workers * per_worker
    seqs = list(AuditRecord.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, workers * per_worker + 1))


# --- Reading -----------------------------------------------------------------------------------


def test_search_filters():
    _fill(3)
    other = _user("other")
    record(actor=other, action=AuditAction.LOGIN, ip="2001:db8::1")
    record(actor=other, action=AuditAction.LOGIN_FAILED, result=AuditResult.FAILURE)
    assert search(actor_id=other.pk).count() == 2
    assert search(subject="person:1").get().seq == 2
    assert search(action=AuditAction.LOGIN).get().ip == "2001:db8::1"
    assert search(result=AuditResult.FAILURE).count() == 1
    assert search(since=timezone.now() + dt.timedelta(seconds=5)).count() == 0
    assert search(until=timezone.now() + dt.timedelta(seconds=5)).count() == 5
    assert [r.seq for r in search()] == [5, 4, 3, 2, 1]


def test_only_granted_audit_admins_read():
    assert can_read_audit(_user("auditor", audit_admin=True))
    assert not can_read_audit(_user("root", superuser=True))  # 三权分立: no implicit right
    assert not can_read_audit(_user("clerk2"))
    assert not can_read_audit(None)


def test_admin_is_read_only_and_audits_its_readers(client):
    _fill(2)
    auditor = _user("auditor", audit_admin=True)
    login_backoffice(client, auditor)
    response = client.get("/admin/core/auditrecord/")
    assert response.status_code == 200
    assert "person:1" in response.content.decode()
    assert client.get("/admin/core/auditrecord/1/change/").status_code == 200
    assert client.get("/admin/core/auditrecord/add/").status_code == 403
    assert client.post("/admin/core/auditrecord/1/delete/").status_code == 403
    reads = AuditRecord.objects.filter(action=AuditAction.AUDIT_READ, actor_id=auditor.pk)
    assert reads.count() == 2
    assert verify_chain().ok

    login_backoffice(client, _user("root", superuser=True))
    before = AuditRecord.objects.count()
    assert client.get("/admin/core/auditrecord/").status_code == 403
    assert AuditRecord.objects.count() == before
