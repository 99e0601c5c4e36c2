"""Status moves through the one table: each allowed move applies with its event and audit record;
every other (state, action) is refused and changes nothing; automatic expiry is idempotent."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.licenses.factories import LicenseFactory
from tongban.core.models import AuditRecord
from tongban.licenses import services
from tongban.licenses.errors import LicenseError
from tongban.licenses.models import License, LicenseAction, LicenseEvent, LicenseStatus

pytestmark = pytest.mark.django_db

STAFF_SERVICES = {
    LicenseAction.SUSPEND: services.suspend_license,
    LicenseAction.REINSTATE: services.reinstate_license,
    LicenseAction.REVOKE: services.revoke_license,
    LicenseAction.CANCEL: services.cancel_license,
}
TRAITS = {
    LicenseStatus.VALID: {},
    LicenseStatus.SUSPENDED: {"suspended": True},
    LicenseStatus.REVOKED: {"revoked": True},
    LicenseStatus.CANCELLED: {"cancelled": True},
    LicenseStatus.EXPIRED: {"expired": True},
}


def _snapshot(lic):
    row = License.objects.filter(pk=lic.pk).values("status", "status_reason", "status_changed_at")
    return row.get(), LicenseEvent.objects.filter(license=lic).count()


def _license(people, seal, status):
    return LicenseFactory(seal=seal, **TRAITS[status])


@pytest.mark.parametrize("status", list(LicenseStatus))
@pytest.mark.parametrize("action", list(STAFF_SERVICES))
def test_every_staff_move(people, seal, status, action):
    lic = _license(people, seal, status)
    move = services.TRANSITIONS.get((status, action))
    before = _snapshot(lic)
    if move is None:
        with pytest.raises(LicenseError) as exc:
            STAFF_SERVICES[action](actor=people.admin_a, license=lic, reason="核查")
        assert exc.value.code == "invalid_transition"
        assert _snapshot(lic) == before
        assert AuditRecord.objects.filter(action=f"license.{action}", result="failure").exists()
        return
    result = STAFF_SERVICES[action](actor=people.admin_a, license=lic, reason="核查")
    lic.refresh_from_db()
    assert result.status == lic.status == move.next
    assert lic.status_reason == "核查"
    event = LicenseEvent.objects.filter(license=lic).last()
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        action,
        status,
        move.next,
        people.admin_a,
    )
    assert AuditRecord.objects.get(action=f"license.{action}").reason == "核查"


def test_final_states_have_no_way_out():
    for (state, _action), _move in services.TRANSITIONS.items():
        assert state not in {"revoked", "cancelled", "expired"}


def test_staff_cannot_expire_by_hand_and_a_reason_is_required(people, seal):
    lic = LicenseFactory(seal=seal)
    before = _snapshot(lic)
    with pytest.raises(LicenseError) as exc:
        services.suspend_license(actor=people.admin_a, license=lic, reason="  ")
    assert exc.value.code == "reason_required"
    with pytest.raises(LicenseError) as exc:
        services._staff_move(
            actor=people.admin_a,
            license=lic,
            action=LicenseAction.EXPIRE,
            reason="x",
            ip=None,
            user_agent="",
        )
    assert exc.value.code == "invalid_transition"
    assert _snapshot(lic) == before


@pytest.mark.parametrize("who", ["admin_b", "clerk_a", "reviewer_a"])
def test_only_managers_of_the_issuing_organization(people, seal, who):
    lic = LicenseFactory(seal=seal)
    before = _snapshot(lic)
    with pytest.raises(LicenseError) as exc:
        services.revoke_license(actor=getattr(people, who), license=lic, reason="x")
    assert exc.value.code == ("not_found" if who == "admin_b" else "forbidden")
    assert _snapshot(lic) == before


def test_a_stale_copy_cannot_move_twice(people, seal):
    lic = LicenseFactory(seal=seal)
    stale = License.objects.get(pk=lic.pk)
    services.revoke_license(actor=people.admin_a, license=lic, reason="撤销")
    with pytest.raises(LicenseError):
        services.suspend_license(actor=people.admin_a, license=stale, reason="暂扣")
    assert License.objects.get(pk=lic.pk).status == "revoked"


def test_reinstating_past_validity_is_refused(people, seal):
    lic = LicenseFactory(
        seal=seal, suspended=True, valid_from=timezone.localdate() - dt.timedelta(days=6 * 365)
    )
    with pytest.raises(LicenseError) as exc:
        services.reinstate_license(actor=people.admin_a, license=lic, reason="复核")
    assert exc.value.code == "invalid_transition"


def test_expire_due_is_automatic_and_idempotent(people, seal):
    today = timezone.localdate()
    due = LicenseFactory(seal=seal, valid_from=today - dt.timedelta(days=6 * 365))
    due_suspended = LicenseFactory(
        seal=seal, valid_from=today - dt.timedelta(days=6 * 365), suspended=True
    )
    live = LicenseFactory(seal=seal)
    revoked_old = LicenseFactory(
        seal=seal, valid_from=today - dt.timedelta(days=6 * 365), revoked=True
    )
    assert services.expire_due(batch=1) == 2
    assert services.expire_due() == 0
    statuses = dict(License.objects.values_list("pk", "status"))
    assert statuses[due.pk] == statuses[due_suspended.pk] == "expired"
    assert statuses[live.pk] == "valid"
    assert statuses[revoked_old.pk] == "revoked"
    event = LicenseEvent.objects.get(license=due, action="expire")
    assert event.actor is None
    assert event.from_status == "valid"


def test_expire_command(people, seal):
    LicenseFactory(seal=seal, valid_from=timezone.localdate() - dt.timedelta(days=6 * 365))
    out = io.StringIO()
    call_command("expire_licenses", stdout=out)
    assert "1 license(s) expired" in out.getvalue()
