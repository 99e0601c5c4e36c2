"""Put a logged-in Django session into a browser context (the login pages have their own tests)."""

from django.conf import settings
from django.test import Client

from tests.backoffice.helpers import login_backoffice


def _cookie(client: Client, live_server) -> dict:
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }


def as_citizen(context, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    context.add_cookies([_cookie(client, live_server)])


def as_staff(context, live_server, user) -> None:
    client = Client()
    login_backoffice(client, user)
    context.add_cookies([_cookie(client, live_server)])
