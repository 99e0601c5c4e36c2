"""The department outbox (cases.effects, cases.tasks): a dispatch row and its task commit with the
change; each attempt posts a signed body with the same Idempotency-Key; failures back off and
keep the row pending until MAX_ATTEMPTS; the sweep re-enqueues rows whose task was lost. The
department system is a local server (tests.cases.department_server)."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.cases.department_server import PROXY_VARIABLES, FakeDepartment, connect
from tests.cases.factories import setting, submitted
from tongban.cases import effects, tasks
from tongban.cases.models import Case, CaseAction, Dispatch, DispatchStatus

pytestmark = pytest.mark.django_db

TASK_PATH = "tongban.cases.tasks.post_dispatch"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """Pushes go straight to 127.0.0.1, whatever proxy the machine running the tests has."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake():
    server = FakeDepartment().start()
    yield server
    server.stop()


@pytest.fixture
def env(fake):
    env = setting()
    env.endpoint, env.token = connect(env.organization, fake.url)
    return env


def _tasks_for(dispatch, status=TaskResultStatus.READY):
    return [
        row
        for row in DBTaskResult.objects.filter(task_path=TASK_PATH, status=status)
        if row.args_kwargs["args"] == [dispatch.pk]
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- The outbox row --------------------------------------------------------------------------


def test_a_submission_writes_the_dispatch_and_its_task(env):
    case = submitted(env)

    dispatch = Dispatch.objects.get(case=case)
    assert (dispatch.endpoint, dispatch.event.action) == (env.endpoint, CaseAction.SUBMIT)
    assert (dispatch.status, dispatch.attempts, dispatch.last_error) == ("pending", 0, "")
    assert len(dispatch.idempotency_key) == 32
    assert len(_tasks_for(dispatch)) == 1


def test_the_dispatch_and_its_task_roll_back_with_the_case(env):
    """Written in the case's transaction: no case, no message; no message without its task."""

    def submit_then_fail():
        with transaction.atomic():
            submitted(env)
            assert Dispatch.objects.count() == 1
            raise RuntimeError("the request fails after the submission")

    with pytest.raises(RuntimeError):
        submit_then_fail()

    assert not Case.objects.exists()
    assert not Dispatch.objects.exists()
    assert not DBTaskResult.objects.filter(task_path=TASK_PATH).exists()


def test_no_dispatch_for_an_organization_without_its_own_system(fake):
    env = setting()
    submitted(env)
    assert not Dispatch.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_disabled_endpoint_gets_nothing(env):
    env.endpoint.enabled = False
    env.endpoint.save()
    submitted(env)
    assert not Dispatch.objects.exists()


# --- Attempts --------------------------------------------------------------------------------


def test_an_attempt_posts_the_signed_payload(env, fake):
    case = submitted(env)
    dispatch = Dispatch.objects.get(case=case)

    assert tasks.attempt(dispatch.pk) == DispatchStatus.DELIVERED

    (push,) = fake.received
    assert push.headers["Idempotency-Key"] == dispatch.idempotency_key
    assert push.headers["Content-Type"] == "application/json; charset=utf-8"
    assert push.signature_is_valid()
    assert not push.signature_is_valid("another secret")
    assert abs(int(push.headers["X-Tongban-Timestamp"]) - timezone.now().timestamp()) < 60
    assert push.json == effects.department_payload(dispatch)
    assert push.json["event"] == "submit"
    assert push.json["case"]["applicant"]["id_number"] == env.citizen.id_number
    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.attempts, dispatch.last_error) == ("delivered", 1, "")
    assert dispatch.delivered_at is not None
    # Delivered: nothing further is queued (the one task is the original, never run by a
    # worker here), and running the task again does nothing.
    assert len(_tasks_for(dispatch)) == 1
    assert tasks.attempt(dispatch.pk) == DispatchStatus.DELIVERED
    assert len(fake.received) == 1


def test_failures_back_off_keep_the_key_and_deliver_once_the_endpoint_recovers(env, fake):
    fake.answers = [503, 503]
    case = submitted(env)
    dispatch = Dispatch.objects.get(case=case)
    t0 = timezone.now()

    assert tasks.attempt(dispatch.pk, now=t0) == DispatchStatus.PENDING
    dispatch.refresh_from_db()
    assert (dispatch.attempts, dispatch.last_error) == (1, "HTTP 503")
    assert dispatch.next_attempt_at == t0 + dt.timedelta(minutes=1)
    retry = [t for t in _tasks_for(dispatch) if t.run_after == dispatch.next_attempt_at]
    assert len(retry) == 1

    # Not due yet: nothing is posted.
    assert tasks.attempt(dispatch.pk, now=t0 + dt.timedelta(seconds=59)) == "pending"
    assert len(fake.received) == 1

    t1 = dispatch.next_attempt_at
    assert tasks.attempt(dispatch.pk, now=t1) == DispatchStatus.PENDING
    dispatch.refresh_from_db()
    assert dispatch.attempts == 2
    assert dispatch.next_attempt_at == t1 + dt.timedelta(minutes=2)

    assert tasks.attempt(dispatch.pk, now=dispatch.next_attempt_at) == DispatchStatus.DELIVERED
    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.attempts, dispatch.last_error) == ("delivered", 3, "")
    assert {r.headers["Idempotency-Key"] for r in fake.received} == {dispatch.idempotency_key}
    assert all(r.signature_is_valid() for r in fake.received)
    # The case never depended on the department system answering.
    case.refresh_from_db()
    assert (case.status, case.version) == ("to_accept", 1)


def test_an_endpoint_that_is_down_leaves_the_dispatch_pending(env, fake):
    env.endpoint.url = f"http://127.0.0.1:{_free_port()}/down"
    env.endpoint.save()
    case = submitted(env)
    dispatch = Dispatch.objects.get(case=case)

    assert tasks.attempt(dispatch.pk) == DispatchStatus.PENDING

    dispatch.refresh_from_db()
    assert dispatch.attempts == 1
    assert dispatch.last_error  # "[Errno 111] Connection refused" or the like
    assert dispatch.next_attempt_at > timezone.now()
    assert Case.objects.filter(pk=case.pk).exists()

    # Back up again at the same address: the next attempt delivers.
    env.endpoint.url = fake.url
    env.endpoint.save()
    assert tasks.attempt(dispatch.pk, now=dispatch.next_attempt_at) == "delivered"
    assert fake.received[0].headers["Idempotency-Key"] == dispatch.idempotency_key


def test_a_redirect_is_not_an_acknowledgement(env, fake):
    fake.answers = [302]
    dispatch = Dispatch.objects.get(case=submitted(env))

    assert tasks.attempt(dispatch.pk) == DispatchStatus.PENDING

    dispatch.refresh_from_db()
    assert dispatch.last_error == "HTTP 302"
    assert len(fake.received) == 1  # not followed


def test_after_max_attempts_the_dispatch_fails_for_good(env, fake):
    fake.answers = [500] * tasks.MAX_ATTEMPTS
    dispatch = Dispatch.objects.get(case=submitted(env))
    waits = []

    for _ in range(tasks.MAX_ATTEMPTS):
        before = dispatch.next_attempt_at
        tasks.attempt(dispatch.pk, now=before)
        dispatch.refresh_from_db()
        waits.append(dispatch.next_attempt_at - before)

    assert (dispatch.status, dispatch.attempts) == (DispatchStatus.FAILED, tasks.MAX_ATTEMPTS)
    assert dispatch.last_error == "HTTP 500"
    minutes = [w.total_seconds() / 60 for w in waits[:-1]]
    assert minutes[:4] == [1, 2, 4, 8]
    assert max(minutes) == 6 * 60
    assert len(fake.received) == tasks.MAX_ATTEMPTS
    # Failed rows are left to supervision: no more attempts, and the sweep ignores them.
    assert tasks.attempt(dispatch.pk, now=timezone.now() + dt.timedelta(days=2)) == "failed"
    assert tasks.sweep(now=timezone.now() + dt.timedelta(days=2)) == 0
    assert len(fake.received) == tasks.MAX_ATTEMPTS


def test_a_claimed_row_is_not_posted_twice(env, fake):
    """A second worker arriving while the first waits for the department does nothing."""
    dispatch = Dispatch.objects.get(case=submitted(env))
    now = timezone.now()
    Dispatch.objects.filter(pk=dispatch.pk).update(next_attempt_at=now + tasks.LEASE)

    assert tasks.attempt(dispatch.pk, now=now) == DispatchStatus.PENDING
    assert fake.received == []
    dispatch.refresh_from_db()
    assert dispatch.attempts == 0


def test_an_attempt_for_a_missing_row():
    assert tasks.attempt(987654) == "missing"


# --- The worker and the sweep -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_runs_the_task(env, fake):
    fake.answers = [503]
    dispatch = Dispatch.objects.get(case=submitted(env))

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.attempts) == (DispatchStatus.PENDING, 1)
    (first,) = DBTaskResult.objects.filter(task_path=TASK_PATH, status="SUCCESSFUL")
    assert first.return_value == "pending"
    (retry,) = _tasks_for(dispatch)
    assert retry.run_after == dispatch.next_attempt_at

    # The retry is due a minute later; run it as the worker would then.
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    Dispatch.objects.filter(pk=dispatch.pk).update(next_attempt_at=timezone.now())
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.attempts) == (DispatchStatus.DELIVERED, 2)
    assert [r.headers["Idempotency-Key"] for r in fake.received] == [dispatch.idempotency_key] * 2
    assert _tasks_for(dispatch) == []


def test_sweep_reenqueues_overdue_rows_whose_task_was_lost(env):
    lost = Dispatch.objects.get(case=submitted(env))
    recent = Dispatch.objects.get(case=submitted(env))
    delivered = Dispatch.objects.get(case=submitted(env))
    now = timezone.now()
    long_ago = now - dt.timedelta(hours=1)
    Dispatch.objects.filter(pk__in=[lost.pk, delivered.pk]).update(next_attempt_at=long_ago)
    Dispatch.objects.filter(pk=delivered.pk).update(status=DispatchStatus.DELIVERED)
    # The worker died while running the first row's task: it stays RUNNING forever.
    for task in _tasks_for(lost):
        DBTaskResult.objects.filter(pk=task.pk).update(status=TaskResultStatus.RUNNING)

    assert tasks.sweep(now=now) == 1

    assert len(_tasks_for(lost)) == 1
    assert len(_tasks_for(recent)) == 1  # its own task, untouched
    # Running it again adds nothing while the new task waits for a worker.
    assert tasks.sweep(now=now) == 0
    assert len(_tasks_for(lost)) == 1


def test_sweep_leaves_rows_that_are_only_waiting_for_the_worker(env):
    dispatch = Dispatch.objects.get(case=submitted(env))
    later = timezone.now() + dt.timedelta(hours=2)

    assert tasks.sweep(now=later) == 0
    assert len(_tasks_for(dispatch)) == 1


def test_dispatch_sweep_command(env, capsys):
    dispatch = Dispatch.objects.get(case=submitted(env))
    DBTaskResult.objects.filter(task_path=TASK_PATH).delete()
    Dispatch.objects.filter(pk=dispatch.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(hours=1)
    )

    call_command("dispatch_sweep")

    assert capsys.readouterr().out == "re-enqueued 1 dispatch(es)\n"
    assert len(_tasks_for(dispatch)) == 1
