"""Put a logged-in Django session into a browser context (the login pages have their own tests)."""

import time

from django.conf import settings
from django.db import OperationalError
from django.test import Client

from tests.backoffice.helpers import login_backoffice


def _cookie(client: Client, live_server) -> dict:
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }


def retry_locked(make):
    """SQLite's shared test database is briefly locked while the live server thread writes (a
    page's last request may still be finishing); log in again a moment later."""
    for attempt in range(20):
        try:
            return make()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == 19:
                raise
            time.sleep(0.1)
    return None


def as_citizen(context, live_server, user) -> None:
    def make():
        client = Client()
        client.force_login(user)
        return client

    context.add_cookies([_cookie(retry_locked(make), live_server)])


def as_staff(context, live_server, user) -> None:
    def make():
        client = Client()
        login_backoffice(client, user)
        return client

    context.add_cookies([_cookie(retry_locked(make), live_server)])
