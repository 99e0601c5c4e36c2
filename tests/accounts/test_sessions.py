"""Session policy: a fresh key at login, idle timeout (shorter for staff), logout everywhere."""

import time

import pytest
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tongban.accounts import auth, sessions
from tongban.core.audit import AuditAction
from tongban.core.models import AuditRecord

pytestmark = pytest.mark.django_db

PROFILE = "portal:account_profile"


def _login(client, user):
    """Log in through the password page (which calls ``start_session``)."""
    response = client.post(
        reverse("portal:account_login"),
        {"method": "password", "login": user.phone, "password": "Tongban#2026-test"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def _age(client, seconds):
    session = client.session
    session[sessions.SESSION_SEEN] = int(time.time()) - seconds
    session.save()


def _logged_in(client) -> bool:
    return client.get(reverse(PROFILE)).status_code == 200


def test_login_rotates_the_session_key_and_stores_the_epoch(client):
    user = UserFactory()
    client.get(reverse("portal:account_login"))
    session = client.session
    session["portal_region"] = "150602"
    session.save()
    before = session.session_key
    _login(client, user)
    after = client.session
    assert after.session_key != before
    assert after[sessions.SESSION_EPOCH] == user.session_epoch
    assert abs(after[sessions.SESSION_SEEN] - time.time()) < 5


def test_citizen_idle_for_31_minutes_is_logged_out(client):
    user = UserFactory()
    _login(client, user)
    _age(client, 29 * 60)
    assert _logged_in(client)
    _age(client, 31 * 60)
    response = client.get(reverse(PROFILE))
    assert response.status_code == 302
    assert reverse("portal:account_login") in response["Location"]
    rec = AuditRecord.objects.filter(action=AuditAction.LOGOUT).get()
    assert rec.actor_id == user.pk
    assert rec.details == {"reason": "idle_timeout"}
    page = client.get(response["Location"])
    assert "长时间未操作" in page.content.decode()


def test_staff_idle_limit_is_shorter(client, settings):
    settings.TONGBAN_STAFF_SESSION_IDLE_MINUTES = 15
    staff = UserFactory(is_staff=True)
    _login(client, staff)
    _age(client, 16 * 60)
    assert not _logged_in(client)
    citizen = UserFactory()
    _login(client, citizen)
    _age(client, 16 * 60)
    assert _logged_in(client)


def test_idle_limit_follows_the_setting(client, settings):
    settings.TONGBAN_SESSION_IDLE_MINUTES = 5
    _login(client, UserFactory())
    _age(client, 6 * 60)
    assert not _logged_in(client)


def test_activity_keeps_the_session_alive(client):
    _login(client, UserFactory())
    _age(client, 20 * 60)
    assert _logged_in(client)  # refreshes the idle clock (older than a minute)
    assert time.time() - client.session[sessions.SESSION_SEEN] < 5


def test_logout_everywhere_ends_every_session(client, django_user_model):
    from django.test import Client

    user = UserFactory()
    phone_browser, laptop = client, Client()
    _login(phone_browser, user)
    _login(laptop, user)
    other = UserFactory()
    other_browser = Client()
    _login(other_browser, other)
    auth.logout_everywhere(actor=user)
    assert not _logged_in(phone_browser)
    assert not _logged_in(laptop)
    assert _logged_in(other_browser)
    reasons = AuditRecord.objects.filter(action=AuditAction.LOGOUT).values_list(
        "details__reason", flat=True
    )
    assert sorted(reasons) == ["logout_everywhere", "logout_everywhere"]
    # A new login works with the new epoch.
    _login(laptop, user)
    assert _logged_in(laptop)


def test_session_without_epoch_adopts_the_current_one(client):
    user = UserFactory()
    client.force_login(user)
    assert _logged_in(client)
    assert client.session[sessions.SESSION_EPOCH] == 0
    auth.logout_everywhere(actor=user)
    assert not _logged_in(client)


def test_anonymous_requests_touch_no_session(client):
    response = client.get(reverse("portal:account_login"))
    assert response.status_code == 200
    assert sessions.SESSION_SEEN not in client.session
